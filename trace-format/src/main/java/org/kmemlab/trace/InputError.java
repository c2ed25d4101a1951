package org.kmemlab.trace;

import java.nio.file.Path;

/**
 * The one error type for bad input: it names the file, the position (line or byte offset) and what was
 * expected. The CLI prints it as one line and exits with status 2; anything else is an internal error.
 */
public class InputError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** How {@link #position} counts. */
    public enum Unit { LINE, OFFSET, NONE }

    private final String file;
    private final long position;
    private final Unit unit;
    private final String expected;

    public InputError(String file, long position, Unit unit, String expected) {
        super(format(file, position, unit, expected));
        this.file = file;
        this.position = position;
        this.unit = unit;
        this.expected = expected;
    }

    public static InputError atLine(Object file, long line, String expected) {
        return new InputError(String.valueOf(file), line, Unit.LINE, expected);
    }

    public static InputError atOffset(Object file, long offset, String expected) {
        return new InputError(String.valueOf(file), offset, Unit.OFFSET, expected);
    }

    public static InputError of(Object file, String expected) {
        return new InputError(String.valueOf(file), -1, Unit.NONE, expected);
    }

    private static String format(String file, long position, Unit unit, String expected) {
        return switch (unit) {
            case LINE -> file + ":" + position + ": " + expected;
            case OFFSET -> file + ": at byte offset " + position + ": " + expected;
            case NONE -> file + ": " + expected;
        };
    }

    public String file() { return file; }
    public long position() { return position; }
    public Unit unit() { return unit; }
    public String expected() { return expected; }

    static String name(Path p) { return p.toString(); }
}
