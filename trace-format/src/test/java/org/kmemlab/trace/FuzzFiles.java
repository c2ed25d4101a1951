package org.kmemlab.trace;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Scratch files for fuzz targets whose readers take a path: in memory (/dev/shm) where there is one. */
public final class FuzzFiles {
    private FuzzFiles() {}

    public static Path scratch(String prefix) {
        try {
            Path shm = Path.of("/dev/shm");
            Path f = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempFile(shm, prefix, ".bin")
                    : Files.createTempFile(prefix, ".bin");
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
