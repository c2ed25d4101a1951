package org.kmemlab.cli;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;

/** ../shared beside the checkout: real traces with ground truth. Absent on a fresh clone: tests skip. */
final class SharedTraces {
    private SharedTraces() {}

    static Path dir() {
        String p = System.getProperty("kmemlab.shared", "../shared");
        Path d = Path.of(p).toAbsolutePath().normalize().resolve("traces");
        Assumptions.assumeTrue(Files.isDirectory(d), "../shared/traces is absent: skipping the cross-check against real traces");
        return d;
    }
}
