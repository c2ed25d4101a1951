package org.kmemlab.cli.notebook;

import java.util.List;

/** One output of a cell, in the shapes Jupyter knows; the HTML page shows the same outputs. */
public sealed interface Output {
    /** Captured text of a stream, {@code stdout} or {@code stderr}. */
    record Stream(String name, String text) implements Output {}

    /** A table or other rich result: HTML for the page and Jupyter, plain text beside it. */
    record Rich(String html, String plain) implements Output {}

    /** A chart: SVG for the page, PNG for Jupyter, and a one-line description as text. */
    record Image(String svg, byte[] png, int width, int height, String alt) implements Output {}

    /** The cell failed here; {@code evalue} is one line, {@code traceback} the whole message. */
    record Error(String ename, String evalue, List<String> traceback) implements Output {}
}
