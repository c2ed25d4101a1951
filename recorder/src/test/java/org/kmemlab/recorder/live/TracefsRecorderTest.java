package org.kmemlab.recorder.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceReader;

/**
 * Records real workloads through tracefs. Skips without root or tracefs. The workload creates and
 * deletes N files from one shell, so the trace must hold at least N dentry allocations by that shell's
 * pid, with call sites and stacks inside the dentry allocator.
 */
class TracefsRecorderTest {
    static final int N = 200;
    @TempDir Path tmp;
    Path root;

    @BeforeEach
    void needsTracefs() {
        Assumptions.assumeTrue(Tracefs.isRoot(), "not root");
        try {
            root = Tracefs.find(null);
        } catch (RecordingError e) {
            Assumptions.abort("no tracefs: " + e.getMessage());
        }
    }

    /** Instances other than other kmemlab recorders', which may come and go while the test runs. */
    private List<String> instances() throws Exception {
        try (Stream<Path> s = Files.list(root.resolve("instances"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("kmemlab-")).sorted().toList();
        }
    }

    @Test
    void recordsACommandWithStacksAndLeavesTracefsAsFound() throws Exception {
        TracefsRecorder.removeStaleInstances(root, null); // left by an earlier killed run; the recorder would remove it
        List<String> enabledBefore = Tracefs.enabledEvents(root);
        List<String> instancesBefore = instances();
        String pidFilterBefore = Tracefs.read(root.resolve("set_event_pid"));
        Path work = Files.createDirectory(tmp.resolve("work"));
        Path out = tmp.resolve("live.arrow");
        String script = "for i in $(seq " + N + "); do echo x > " + work + "/f$i; done; rm -f " + work + "/f*";
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        TracefsRecorder.Result r = new TracefsRecorder().record(new TracefsRecorder.Options(
                null, 0, List.of("sh", "-c", script), 60, true, 0, out, new PrintStream(logBytes, true)));
        assertEquals(0, r.commandExit());
        assertEquals(0, Files.list(work).count(), "the workload ran");

        // The kernel is as we found it.
        assertFalse(Files.exists(root.resolve("instances").resolve(r.instance())), "instance removed");
        assertEquals(instancesBefore, instances());
        assertEquals(enabledBefore, Tracefs.enabledEvents(root));
        assertEquals(pidFilterBefore, Tracefs.read(root.resolve("set_event_pid")));

        long[] dentry = {0}, dentryWithStack = {0}, dentryStackOk = {0}, otherPid = {0}, outOfOrder = {0};
        long[] last = {Long.MIN_VALUE};
        List<TraceEvent> dentryEvents = new ArrayList<>();
        TraceInfo info;
        try (TraceReader rd = new TraceReader(out)) {
            rd.forEach(e -> {
                if (e.tsNs < last[0]) outOfOrder[0]++;
                last[0] = e.tsNs;
                if (e.pid != r.commandPid()) {
                    otherPid[0]++;
                    return;
                }
                if ("kmem:kmem_cache_alloc".equals(e.event) && "dentry".equals(e.cache)) {
                    dentry[0]++;
                    TraceEvent c = new TraceEvent();
                    c.copyFrom(e);
                    dentryEvents.add(c);
                }
            });
            info = rd.info();
        }
        assertTrue(info.complete());
        assertEquals(0, outOfOrder[0], "events in time order");
        assertTrue(dentry[0] >= N, "at least " + N + " dentry allocations by the shell, found " + dentry[0]);
        for (TraceEvent e : dentryEvents) {
            assertTrue(e.callSite != null && e.callSite.matches("_*d_alloc.*\\+0x[0-9a-f]+"), "call site " + e.callSite);
            assertEquals("sh", e.comm);
            if (e.has(TraceEvent.F_STACK_ID)) {
                dentryWithStack[0]++;
                if (info.stacks.get(e.stackId).stream().anyMatch(f -> f.contains("d_alloc"))) dentryStackOk[0]++;
            }
        }
        assertTrue(dentryWithStack[0] >= dentry[0] * 9 / 10, "stacks on dentry allocations: " + dentryWithStack[0] + "/" + dentry[0]);
        assertEquals(dentryWithStack[0], dentryStackOk[0], "every dentry stack passes through d_alloc");
        for (String f : new String[] {"slabinfo", "buddyinfo", "pagetypeinfo", "zoneinfo", "meminfo", "vmstat", "nr_cpus", "kernel_release"}) {
            assertTrue(info.snapshot.containsKey(f), "snapshot has " + f);
        }
        assertTrue(info.snapshot.get("slabinfo").contains("dentry"));
        assertEquals("tracefs", info.sourceFormat());
        assertEquals(Tracefs.read(Path.of("/proc/sys/kernel/osrelease")).strip(), info.kernelRelease());
        assertEquals(Long.toString(r.commandPid()), info.meta.get("command_pid"));
    }

    /**
     * A recorder killed with SIGKILL keeps every batch it flushed (it flushes at least once a second), and
     * the next recorder removes the instance the dead one could not.
     */
    @Test
    void killedRecordingIsReadableUpToItsLastBatch() throws Exception {
        Path out = tmp.resolve("killed.arrow");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-opens=java.base/java.nio=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                RecordMain.class.getName(), out.toString(), "60").redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child.log").toFile()).start();
        try {
            Path inst = root.resolve("instances/kmemlab-" + p.pid());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            // Make allocations happen, and wait until a batch (beyond the schema) is on disk.
            Path work = Files.createDirectory(tmp.resolve("churn"));
            int i = 0;
            while (System.nanoTime() < deadline && !(Files.exists(inst) && Files.exists(out) && Files.size(out) > 20_000)) {
                Files.writeString(work.resolve("f" + (i++ % 500)), "x".repeat(100));
                if (i % 200 == 0) Thread.sleep(20);
            }
            assertTrue(Files.exists(out) && Files.size(out) > 20_000, "the recorder wrote a batch: " + Files.readString(tmp.resolve("child.log")));
            // The size can grow mid-batch; two more flush periods make sure a whole batch is on disk.
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2500);
            while (System.nanoTime() < until) {
                Files.writeString(work.resolve("f" + (i++ % 500)), "x".repeat(100));
                if (i % 200 == 0) Thread.sleep(20);
            }
            p.destroyForcibly(); // SIGKILL: no shutdown hook runs
            p.waitFor(10, TimeUnit.SECONDS);
            assertTrue(Files.exists(inst), "a SIGKILLed recorder cannot remove its instance");

            long rows;
            TraceInfo info;
            try (TraceReader rd = new TraceReader(out)) {
                rows = rd.countAll();
                info = rd.info();
            }
            assertFalse(info.complete(), "no trailer after SIGKILL");
            assertTrue(rows > 0, "events recovered");
            assertEquals(rows, info.recoveredRows());

            assertTrue(TracefsRecorder.removeStaleInstances(root, null) >= 1);
            assertFalse(Files.exists(inst), "stale instance removed");
        } finally {
            p.destroyForcibly();
            TracefsRecorder.removeStaleInstances(root, null);
        }
    }

    /**
     * SIGTERM (as Ctrl-C's SIGINT) runs the shutdown hook: the file is finished and the instance removed.
     * It records a command (sleep) rather than the whole machine, whose event rate depends on what else
     * runs on this kernel.
     */
    @Test
    void terminatedRecordingFinishesItsFileAndCleansUp() throws Exception {
        Path out = tmp.resolve("term.arrow");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-opens=java.base/java.nio=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                RecordMain.class.getName(), out.toString(), "60", "-", "--", "sleep", "60").redirectErrorStream(true)
                .redirectOutput(tmp.resolve("term.log").toFile()).start();
        Path inst = root.resolve("instances/kmemlab-" + p.pid());
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline && !(Files.exists(inst) && Files.exists(out) && Files.size(out) > 0)) Thread.sleep(50);
            assertTrue(Files.exists(inst), "recording started: " + Files.readString(tmp.resolve("term.log")));
            Thread.sleep(1500);
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(90, TimeUnit.SECONDS), "the recorder exits after SIGTERM");
            assertFalse(Files.exists(inst), "instance removed by the shutdown hook");
            TraceInfo info;
            try (TraceReader rd = new TraceReader(out)) {
                rd.countAll();
                info = rd.info();
            }
            assertTrue(info.complete(), "the file got its trailer: " + info.truncationReason());
            assertTrue(info.snapshot.containsKey("meminfo"));
        } finally {
            p.destroyForcibly();
            TracefsRecorder.removeStaleInstances(root, null);
        }
    }

    /** -p PID: the process and what it forks are recorded, and recording ends when it exits. */
    @Test
    void recordsAnExistingProcessUntilItExits() throws Exception {
        Path work = Files.createDirectory(tmp.resolve("pwork"));
        Process target = new ProcessBuilder("sh", "-c", "sleep 6; for i in $(seq 50); do echo x > " + work + "/f$i; done; sleep 1").start();
        Path out = tmp.resolve("pid.arrow");
        long t0 = System.nanoTime();
        TracefsRecorder.Result r = new TracefsRecorder().record(new TracefsRecorder.Options(
                List.of("kmem"), (int) target.pid(), List.of(), 60, false, 0, out, null));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(40), "stopped when the process exited");
        assertFalse(target.isAlive());
        long[] fromTarget = {0}, other = {0};
        try (TraceReader rd = new TraceReader(out)) {
            rd.forEach(e -> {
                if (e.pid == target.pid()) fromTarget[0]++;
                // Children: $(seq 50) forks a subshell ("sh" until it execs seq) and sleep; event-fork follows them.
                else if (!java.util.Set.of("sh", "sleep", "seq").contains(e.comm)) other[0]++;
            });
        }
        assertTrue(fromTarget[0] >= 50, "events of the target: " + fromTarget[0]);
        assertEquals(0, other[0], "only the target and its children (sh, sleep, seq)");
        assertTrue(r.events() >= fromTarget[0]);
    }

    @Test
    void unknownEventIsAOneLineError() throws Exception {
        RecordingError e = org.junit.jupiter.api.Assertions.assertThrows(RecordingError.class, () -> new TracefsRecorder().record(
                new TracefsRecorder.Options(List.of("kmem:no_such_event"), 0, List.of(), 1, false, 0, tmp.resolve("x.arrow"), null)));
        assertTrue(e.getMessage().contains("no such trace event: kmem:no_such_event"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertTrue(instances().stream().noneMatch(s -> s.equals("kmemlab-" + ProcessHandle.current().pid())), "instance removed after the error");
    }
}
