package org.kmemlab.cli;

/** A mistake in how kmemlab was called (bad option value, missing output): one line, exit status 2. */
public final class UserError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UserError(String message) { super(message); }
}
