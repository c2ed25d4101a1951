package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kmemlab generate} end to end: errors, stat numbers against the parameters, and a seed's outcome in replay. */
class GenerateCommandTest {
    @TempDir Path tmp;

    @Test
    void unknownScenarioOrParameterIsOneLineWithTheValidNames() {
        CliTest.Run r = CliTest.run("generate", "xfs", "-o", tmp.resolve("x.arrow").toString());
        assertEquals(2, r.status());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("xfs-cil-commit, spl-writeback, btrfs-extent-state, kfree-rcu-storm, cgroup-churn"), r.err());
        r = CliTest.run("generate", "cgroup-churn", "--set", "batches=3", "-o", tmp.resolve("x.arrow").toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("batches") && r.err().contains("batch, forks"), r.err());
        CliTest.Run list = CliTest.run("generate", "--list");
        assertEquals(0, list.status());
        assertTrue(list.out().contains("kfree-rcu-storm") && list.out().contains("batch"), list.out());
    }

    @Test
    void statOfAGeneratedTraceCountsWhatTheParametersAskFor() {
        Path t = tmp.resolve("xfs.arrow");
        assertEquals(0, CliTest.run("generate", "xfs-cil-commit", "--set", "cpus=3", "--set", "commits=25", "--set", "cil=10",
                "--seed", "4", "-o", t.toString()).status());
        CliTest.Run info = CliTest.run("info", t.toString());
        assertEquals(0, info.status(), info.err());
        // per commit: kmalloc, cpu_work, kfree
        assertTrue(info.out().contains("events:          225 in 1 batches"), info.out());
        CliTest.Run stat = CliTest.run("stat", t.toString());
        assertEquals(0, stat.status(), stat.err());
        assertTrue(stat.out().contains("Total bytes requested: " + String.format("%,d", 3L * 25 * 65536)), stat.out());
        assertTrue(stat.out().contains("Frees matched/unmatched: 75/0"), stat.out());
    }

    @Test
    void btrfsTwoPoolsDeadlockUnderTheMempoolPolicyAndFailUnderBaseline() throws Exception {
        Path t = tmp.resolve("btrfs.arrow");
        assertEquals(0, CliTest.run("generate", "btrfs-extent-state", "--set", "threads=6", "--set", "ops=40", "--set", "memory=64M",
                "-o", t.toString()).status());
        Path out = tmp.resolve("out");
        CliTest.Run r = CliTest.run("replay", t.toString(), "-p", "baseline", "-p", "btrfs-extent-mempool", "-o", out.toString());
        assertEquals(0, r.status(), r.err());
        var om = new com.fasterxml.jackson.databind.ObjectMapper();
        Map<?, ?> base = om.readValue(out.resolve("baseline/summary.json").toFile(), Map.class);
        Map<?, ?> mp = om.readValue(out.resolve("btrfs-extent-mempool/summary.json").toFile(), Map.class);
        assertNull(base.get("deadlock"), "baseline: extent_state allocations fail instead");
        assertTrue(((Number) base.get("failures")).longValue() > 0);
        Map<?, ?> d = (Map<?, ?>) mp.get("deadlock");
        assertNotNull(d, "the two-pool ABBA deadlock");
        String cycle = om.writeValueAsString(d.get("cycle"));
        assertTrue(cycle.contains("\"waits_for\":\"extent_buffer_pool\"") && cycle.contains("\"waits_for\":\"extent_state_pool\""), cycle);
    }
}
