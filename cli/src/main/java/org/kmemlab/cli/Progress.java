package org.kmemlab.cli;

import java.io.PrintStream;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on a terminal, nothing otherwise: progressbar keeps writing carriage returns when stderr
 * is not a terminal, which would litter logs and CI output.
 */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;

    Progress(String task, long max, String unit, long unitSize) {
        if (System.console() != null && max > 0 && System.getenv("KMEMLAB_NO_PROGRESS") == null) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
                    .setUnit(unit, unitSize).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err))
                    .setUpdateIntervalMillis(200).build();
        } else {
            bar = null;
        }
    }

    void stepTo(long n) {
        if (bar != null) bar.stepTo(n);
    }

    static boolean interactive() { return System.console() != null; }

    static void line(PrintStream out, String s) { out.println(s); }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
