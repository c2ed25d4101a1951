package org.kmemlab.recorder.live;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Finds (and if needed mounts) tracefs, the way trace-cmd's {@code tracefs_tracing_dir} does
 * (libtracefs, tracefs-utils.c): /sys/kernel/tracing, else /sys/kernel/debug/tracing, else
 * {@code mount -t tracefs nodev /sys/kernel/tracing}. All file writes go through here so that an error
 * names the file.
 */
public final class Tracefs {
    private Tracefs() {}

    /** The tracefs root, mounting it when absent. {@code log} gets one line if a mount was done. */
    public static Path find(PrintStream log) {
        Path a = Path.of("/sys/kernel/tracing"), b = Path.of("/sys/kernel/debug/tracing");
        if (Files.exists(a.resolve("events/header_page"))) return a;
        if (Files.exists(b.resolve("events/header_page"))) return b;
        if (!isRoot()) {
            throw new RecordingError("kmemlab record needs root: tracefs is not mounted and only root can mount it (or read "
                    + a + ")");
        }
        if (!Files.isDirectory(a)) throw new RecordingError("no tracefs: " + a + " does not exist (kernel without CONFIG_TRACING or no sysfs)");
        try {
            Process p = new ProcessBuilder("mount", "-t", "tracefs", "nodev", a.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (p.waitFor() != 0) throw new RecordingError("no tracefs: mount -t tracefs nodev " + a + " failed: " + out);
        } catch (IOException e) {
            throw new RecordingError("no tracefs: cannot run mount: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RecordingError("interrupted while mounting tracefs");
        }
        if (!Files.exists(a.resolve("events/header_page"))) throw new RecordingError("no tracefs: mounted " + a + " but it has no events/header_page");
        if (log != null) log.println("kmemlab: mounted tracefs on " + a);
        return a;
    }

    public static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) return line.split("\\s+")[2].equals("0");
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    public static void write(Path file, String value) {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new RecordingError("cannot write '" + value.strip() + "' to " + file + ": " + e.getMessage(), e);
        }
    }

    public static void append(Path file, String value) {
        try {
            Files.writeString(file, value, java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new RecordingError("cannot append '" + value.strip() + "' to " + file + ": " + e.getMessage(), e);
        }
    }

    public static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new RecordingError("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads, or null when absent or unreadable (snapshots take what they can). */
    public static String readOrNull(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Event enable files currently set to 1 anywhere under {@code events} (to check we leave them as found). */
    public static List<String> enabledEvents(Path root) {
        String s = readOrNull(root.resolve("set_event"));
        return s == null ? List.of() : s.lines().filter(l -> !l.isBlank()).sorted().toList();
    }
}
