package org.kmemlab.recorder.live;

/**
 * Recording cannot start or continue: no root, no tracefs, an unknown event. The message is one line
 * that says what is missing; the CLI prints it and exits with status 2.
 */
public final class RecordingError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RecordingError(String message) { super(message); }

    public RecordingError(String message, Throwable cause) { super(message, cause); }
}
