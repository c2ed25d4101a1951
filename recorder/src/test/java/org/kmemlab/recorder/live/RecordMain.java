package org.kmemlab.recorder.live;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A recording process for tests: {@code RecordMain OUT SECONDS [STACKS] [-- COMMAND...]}. The SIGKILL test
 * runs it as a subprocess and kills it mid-recording.
 */
public final class RecordMain {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        double secs = Double.parseDouble(args[1]);
        boolean stacks = args.length > 2 && args[2].equals("stacks");
        int dd = Arrays.asList(args).indexOf("--");
        List<String> cmd = dd < 0 ? List.of() : Arrays.asList(args).subList(dd + 1, args.length);
        TracefsRecorder.Result r = new TracefsRecorder().record(new TracefsRecorder.Options(null, 0, cmd, secs, stacks, 0, out, System.err));
        System.out.println("events=" + r.events() + " lost=" + r.lostByCpu() + " pid=" + r.commandPid() + " exit=" + r.commandExit()
                + String.format(" wall=%.2fs recorder_cpu=%.2fs (%.0f%% of one CPU) rate=%.0f events/s", r.recordingNs() / 1e9,
                r.recorderCpuNs() / 1e9, 100.0 * r.recorderCpuNs() / r.recordingNs(), r.events() / (r.recordingNs() / 1e9)));
    }
}
