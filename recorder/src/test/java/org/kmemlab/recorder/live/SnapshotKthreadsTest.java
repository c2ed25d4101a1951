package org.kmemlab.recorder.live;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The snapshot's list of kernel threads, read from a /proc made for the test: the flags are the ninth field of
 * /proc/&lt;pid&gt;/stat, counted after the comm's last ')' since a comm may hold spaces and parentheses.
 */
class SnapshotKthreadsTest {
    @TempDir Path proc;

    private void task(int pid, String comm, String flagsHex) throws Exception {
        Path d = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        long flags = Long.parseLong(flagsHex, 16);
        // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt ...
        Files.writeString(d.resolve("stat"), pid + " (" + comm + ") S 2 0 0 0 -1 " + flags + " 0 0 0 0 1 2 0 0 20 0 1 0 5\n");
    }

    @Test
    void listsTheTasksWithPfKthreadInPidOrder() throws Exception {
        task(2, "kthreadd", "208040");                 // PF_KTHREAD | PF_NOFREEZE | PF_FORKNOEXEC
        task(1, "systemd", "400100");                   // a user task: PF_RANDOMIZE | PF_SUPERPRIV
        task(612, "txg_sync", "208040");
        task(33, "kworker/u8:1-events_unbound", "4208060");
        task(900, "(sd-pam) )x", "400140");             // parentheses and a space in a user task's comm
        task(901, "z_wr_iss ) 5", "208040");            // and in a kernel thread's
        Files.createDirectories(proc.resolve("self"));  // not a pid
        Files.writeString(proc.resolve("uptime"), "1.0 2.0\n");
        Files.createDirectories(proc.resolve("77"));     // a task that exited: no stat
        assertEquals("2 kthreadd\n33 kworker/u8:1-events_unbound\n612 txg_sync\n901 z_wr_iss ) 5\n", Snapshot.kernelThreads(proc));
    }
}
