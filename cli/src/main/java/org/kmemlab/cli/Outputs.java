package org.kmemlab.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

import picocli.CommandLine.Option;

/**
 * Where commands write. An existing file, or a folder that is not empty, is not replaced without
 * {@code --force}; new output is written under a temporary name in the same folder and renamed into place
 * when complete, so a crash or a failed command leaves the old output (or nothing), never half of a new one.
 */
final class Outputs {
    private Outputs() {}

    /** The {@code --force} option, mixed into every command that writes a file or folder. */
    static final class Force {
        @Option(names = "--force", description = "Replace an existing output file or folder.")
        boolean force;
    }

    /** Writes into the temporary path it is given. */
    interface Writer<T> {
        T write(Path tmp) throws Exception;
    }

    /**
     * A folder whose contents the running command owns (a notebook's output folder while it runs): the
     * commands of its cells rewrite what an earlier cell or an earlier run of the same notebook wrote there.
     */
    private static final ThreadLocal<Path> OWNED = new ThreadLocal<>();

    /** Runs {@code body} with {@code folder} owned by this thread's commands. */
    static <T> T owning(Path folder, java.util.concurrent.Callable<T> body) throws Exception {
        Path before = OWNED.get();
        OWNED.set(folder.toAbsolutePath().normalize());
        try {
            return body.call();
        } finally {
            OWNED.set(before);
        }
    }

    /** Refuses an output that exists (a file, or a folder with something in it) unless {@code force}. */
    static void refuseExisting(Path target, boolean force) {
        if (force || !Files.exists(target)) return;
        Path owned = OWNED.get();
        if (owned != null && target.toAbsolutePath().normalize().startsWith(owned)) return;
        if (Files.isDirectory(target)) {
            try (Stream<Path> s = Files.list(target)) {
                if (s.findAny().isEmpty()) return;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            throw new UserError(target + ": folder exists and is not empty (give --force to replace it)");
        }
        throw new UserError(target + ": exists (give --force to replace it)");
    }

    /** A temporary sibling of {@code target}: same folder, so the final rename stays on one file system. */
    static Path temporary(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path parent = abs.getParent();
        if (parent == null) throw new UserError(target + ": not a file or folder name");
        if (!Files.isDirectory(parent)) throw new UserError(target + ": folder " + parent + " does not exist");
        return parent.resolve("." + abs.getFileName() + ".kmemlab-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".tmp");
    }

    /** Writes a file through {@code w} under a temporary name, then renames it to {@code target}. */
    static <T> T file(Path target, boolean force, Writer<T> w) throws Exception {
        refuseExisting(target, force);
        if (Files.isDirectory(target)) throw new UserError(target + ": is a folder, expected a file name");
        Path tmp = temporary(target);
        boolean ok = false;
        try {
            T r = w.write(tmp);
            move(tmp, target);
            ok = true;
            return r;
        } finally {
            if (!ok) deleteTree(tmp);
        }
    }

    /** Writes a folder through {@code w} under a temporary name, then puts it in place of {@code target}. */
    static <T> T folder(Path target, boolean force, Writer<T> w) throws Exception {
        refuseExisting(target, force);
        if (Files.exists(target) && !Files.isDirectory(target)) {
            if (!force) throw new UserError(target + ": exists and is not a folder");
        }
        Path tmp = temporary(target);
        Files.createDirectories(tmp);
        boolean ok = false;
        try {
            T r = w.write(tmp);
            checkInside(tmp);
            Path old = null;
            if (Files.exists(target)) {
                old = temporary(target);
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            move(tmp, target);
            if (old != null) deleteTree(old);
            ok = true;
            return r;
        } finally {
            if (!ok) deleteTree(tmp);
        }
    }

    private static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        } catch (DirectoryNotEmptyException e) {
            throw new UserError(target + ": folder exists and is not empty (give --force to replace it)");
        }
    }

    /** Nothing written into a folder may point outside it (a symbolic link, or a name a writer did not escape). */
    static void checkInside(Path root) throws IOException {
        Path r = root.toRealPath();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                if (Files.isSymbolicLink(p) || !p.toRealPath().startsWith(r)) {
                    throw new UserError(p + ": output would leave the folder " + root.getFileName());
                }
            }
        }
    }

    /**
     * {@code relative} resolved inside {@code root}: a name that is absolute or climbs out with {@code ..}
     * (a notebook cell's output name, an export partition) is refused.
     */
    static Path inside(Path root, String relative, String what) {
        Path rel = Path.of(relative);
        if (relative.isEmpty() || rel.isAbsolute() || relative.startsWith("/") || relative.startsWith("\\")) {
            throw new UserError(what + " '" + relative + "': expected a name inside " + root + ", not an absolute path");
        }
        Path out = root.resolve(rel).normalize();
        if (!out.startsWith(root.normalize()) || out.equals(root.normalize())) {
            throw new UserError(what + " '" + relative + "': expected a name inside " + root + " ('..' leaves it)");
        }
        return out;
    }

    static void deleteTree(Path p) {
        if (p == null || !Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        } catch (IOException e) {
            // best effort: a temporary file left behind is named .*.kmemlab-*.tmp
        }
    }
}
