package org.kmemlab.cli.notebook;

import java.io.IOException;
import java.nio.file.Path;

/** Imports the built-in real trace (the demo's) into a folder and returns the trace file: {@code demo:trace}. */
@FunctionalInterface
public interface DemoTrace {
    Path importInto(Path dir) throws IOException;
}
