package org.kmemlab.recorder.perfdata;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * The running kernel's GNU build-id, from the ELF notes in /sys/kernel/notes (what perf's
 * {@code sysfs__read_build_id} reads), so that a perf.data recorded on this boot's kernel can be
 * symbolised with /proc/kallsyms.
 */
final class RunningKernel {
    private RunningKernel() {}

    static String buildId() {
        try {
            byte[] b = Files.readAllBytes(Path.of("/sys/kernel/notes"));
            ByteBuffer n = ByteBuffer.wrap(b).order(ByteOrder.nativeOrder());
            int p = 0;
            while (p + 12 <= b.length) {
                int namesz = n.getInt(p), descsz = n.getInt(p + 4), type = n.getInt(p + 8);
                int name = p + 12;
                int desc = name + ((namesz + 3) & ~3);
                if (namesz < 0 || descsz < 0 || desc + descsz > b.length) return null;
                if (type == 3 && namesz == 4 && b[name] == 'G' && b[name + 1] == 'N' && b[name + 2] == 'U') {
                    byte[] id = new byte[Math.min(descsz, 20)];
                    System.arraycopy(b, desc, id, 0, id.length);
                    return HexFormat.of().formatHex(id);
                }
                p = desc + ((descsz + 3) & ~3);
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }
}
