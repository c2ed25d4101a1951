package org.kmemlab.recorder.live;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts the command to record so that only it and its descendants are traced. A small shell writes its
 * own pid into the instance's {@code set_event_pid} (with {@code options/event-fork} on) and then execs
 * the command, which keeps that pid. The kernel adds every task forked by a listed task to the list
 * (kernel/trace/trace_events.c, {@code event_filter_pid_sched_process_fork}), so the command is filtered
 * in from its first instruction, with no race against a pid learned too late, and none of the JVM's own
 * threads are in the list.
 */
final class Spawner {
    private Spawner() {}

    static Process start(List<String> command, Path inst, boolean filter) {
        List<String> argv = new ArrayList<>();
        if (filter) {
            Tracefs.write(inst.resolve("options/event-fork"), "1");
            argv.addAll(List.of("/bin/sh", "-c", "echo $$ >> \"$0\" && exec \"$@\"", inst.resolve("set_event_pid").toString()));
        }
        argv.addAll(command);
        try {
            return new ProcessBuilder(argv).inheritIO().start();
        } catch (IOException e) {
            throw new RecordingError("cannot start " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
    }
}
