package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

/** Option parsing of {@code kmemlab record}; recording itself is tested in recorder. */
class RecordCommandTest {
    private static RecordCommand parse(String... args) {
        RecordCommand c = new RecordCommand();
        new CommandLine(c).parseArgs(args);
        return c;
    }

    @Test
    void commandAfterDoubleDashKeepsItsOwnOptions() {
        RecordCommand c = parse("-g", "-e", "kmem:kmalloc,kmem:kfree", "--buffer-kb", "4096", "-o", "t.arrow", "--", "sh", "-c", "ls -l");
        assertEquals(List.of("sh", "-c", "ls -l"), c.command);
        assertEquals(List.of("kmem:kmalloc", "kmem:kfree"), c.events);
        assertTrue(c.stacks);
        assertEquals(4096, c.bufferKb);
        assertEquals(Path.of("t.arrow"), c.output);
    }

    @Test
    void conflictingTargetsAreRejectedWithOneLine() {
        RecordCommand c = new RecordCommand();
        CommandLine cl = new CommandLine(c);
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute("-a", "-p", "1", "-o", "t.arrow");
        assertEquals(2, rc);
        assertEquals("kmemlab record: choose one of -a, -p PID or -- COMMAND", err.toString().strip());
    }

    @Test
    void unknownCompressionIsRejectedWithOneLine(@org.junit.jupiter.api.io.TempDir Path dir) {
        CommandLine cl = new CommandLine(new RecordCommand());
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute("-a", "--compression", "lz4", "-o", dir.resolve("t.arrow").toString());
        assertEquals(2, rc);
        assertEquals("kmemlab record: --compression must be one of fast, zstd, none, not 'lz4'", err.toString().strip());
        assertEquals("fast", parse("-o", "t.arrow").compression);
        assertEquals("none", parse("--compression", "none", "-o", "t.arrow").compression);
    }

    @Test
    void outputIsRequired() {
        CommandLine cl = new CommandLine(new RecordCommand());
        cl.setErr(new PrintWriter(new StringWriter()));
        assertEquals(2, cl.execute("-a"));
    }
}
