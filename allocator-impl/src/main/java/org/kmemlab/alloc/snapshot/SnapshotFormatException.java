package org.kmemlab.alloc.snapshot;

/**
 * A machine snapshot file that is not what {@code /proc} prints: names the file, the line and what was
 * expected. An IllegalArgumentException, because this module knows nothing of kmemlab's file formats; the
 * CLI reports it as bad input (one line, exit status 2).
 */
public final class SnapshotFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final int line;
    private final String expected;

    public SnapshotFormatException(String file, int line, String expected) {
        super(file + (line > 0 ? ":" + line : "") + ": " + expected);
        this.file = file;
        this.line = line;
        this.expected = expected;
    }

    public String file() { return file; }
    public int line() { return line; }
    public String expected() { return expected; }

    /** The same error for the file's real path. */
    SnapshotFormatException in(String path) { return new SnapshotFormatException(path, line, expected); }
}
