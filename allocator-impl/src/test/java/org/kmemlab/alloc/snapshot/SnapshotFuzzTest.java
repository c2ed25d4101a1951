package org.kmemlab.alloc.snapshot;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import org.kmemlab.alloc.policy.PolicyRegistry;
import org.kmemlab.alloc.slab.SlabInfo;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes what users hand the model: machine snapshots (/proc buddyinfo, pagetypeinfo, zoneinfo, meminfo,
 * slabinfo) and {@code --set} policy strings. This module knows nothing of kmemlab's input-error type, so
 * its bad-input errors are IllegalArgumentExceptions (SnapshotFormatException naming file and line, or a
 * knob's message); anything else is a finding. Seeds: the demo machine's real /proc files, and each policy
 * preset's own knobs.
 */
class SnapshotFuzzTest {
    /** The five files of one snapshot, in one input, separated by lines of {@code ====}. */
    @FuzzTest
    void machineSnapshot(byte[] data) throws Exception {
        String[] files = new String(data, StandardCharsets.ISO_8859_1).split("\n====\n", 5);
        MachineSnapshot s = new MachineSnapshot();
        try {
            if (files.length > 0) s.parseBuddyinfo(files[0]);
            if (files.length > 1) s.parsePagetypeinfo(files[1]);
            if (files.length > 2) s.parseZoneinfo(files[2]);
            if (files.length > 3) s.parseMeminfo(files[3]);
            if (files.length > 4) SlabInfo.parse(new StringReader(files[4]));
            s.cpus();
        } catch (SnapshotFormatException expected) {
            // names the file and the line
        }
    }

    /** A policy name on the first line, then {@code KEY=VALUE} lines as {@code --set} gives them. */
    @FuzzTest
    void policySet(byte[] data) {
        String[] lines = new String(data, StandardCharsets.UTF_8).split("\n");
        Map<String, String> set = new LinkedHashMap<>();
        for (int i = 1; i < lines.length && i < 64; i++) {
            int eq = lines[i].indexOf('=');
            if (eq >= 0) set.put(lines[i].substring(0, eq), lines[i].substring(eq + 1));
        }
        try {
            PolicyRegistry.configure(lines.length > 0 ? lines[0] : "", set);
        } catch (IllegalArgumentException expected) {
            // an unknown policy, knob or value, with the accepted ones listed
        }
    }
}
