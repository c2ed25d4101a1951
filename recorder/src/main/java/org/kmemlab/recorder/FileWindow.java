package org.kmemlab.recorder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

import org.kmemlab.trace.InputError;

/**
 * Reads a declared region of a binary input (perf.data, trace.dat) only after checking it lies inside
 * the file, so a crafted length never becomes an allocation the file cannot back.
 */
public final class FileWindow {
    private FileWindow() {}

    public static ByteBuffer read(FileChannel ch, String name, long fileSize, long off, long len, String what,
                                  ByteOrder order) throws IOException {
        if (off < 0 || len < 0 || off > fileSize || len > fileSize - off) {
            throw InputError.atOffset(name, off, what + " of " + len + " bytes inside the file of " + fileSize + " bytes");
        }
        if (len > Integer.MAX_VALUE - 8) throw InputError.atOffset(name, off, what + " smaller than 2 GiB");
        ByteBuffer b = ByteBuffer.allocate((int) len);
        while (b.hasRemaining()) {
            int n = ch.read(b, off + b.position());
            if (n < 0) throw InputError.atOffset(name, off + b.position(), what + ": unexpected end of file");
        }
        b.flip();
        return b.order(order == null ? ByteOrder.LITTLE_ENDIAN : order);
    }
}
