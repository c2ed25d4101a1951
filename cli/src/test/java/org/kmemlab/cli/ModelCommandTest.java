package org.kmemlab.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assertions.*;

class ModelCommandTest {
    static String run(String... args) {
        StringWriter sw = new StringWriter();
        CommandLine cl = new CommandLine(new ModelCommand());
        cl.setOut(new PrintWriter(sw));
        assertEquals(0, cl.execute(args));
        return sw.toString();
    }

    @Test
    void showsBuddyinfoOfASnapshotDirectory(@TempDir Path dir) throws Exception {
        String buddy = "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n"
                + "Node 0, zone    DMA32      1      1      4      2      5      4      3      3      4      2    752 \n";
        Files.writeString(dir.resolve("buddyinfo"), buddy);
        assertEquals(buddy, run("show", "--snapshot", dir.toString(), "--what", "buddyinfo"));
        String pt = run("show", "--snapshot", dir.toString(), "--what", "pagetypeinfo");
        assertTrue(pt.startsWith("Page block order: 9\nPages per block:  512\n"));
        assertTrue(pt.contains("Node    0, zone    DMA32, type      Movable      1      1      4      2      5      4      3      3      4      2    752 \n"));
    }

    @Test
    void showsTheSharedMachineSnapshotExactly() throws Exception {
        String shared = System.getProperty("kmemlab.shared");
        Path dir = shared == null ? null : Paths.get(shared, "traces", "machine");
        Assumptions.assumeTrue(dir != null && Files.isDirectory(dir), "shared traces absent");
        assertEquals(Files.readString(dir.resolve("pagetypeinfo.txt")), run("show", "--snapshot", dir.toString(), "--what", "pagetypeinfo"));
        String all = run("show", "--snapshot", dir.toString());
        assertTrue(all.contains("Node 0, zone    DMA32      1      1      4      2      5      4      3      3      4      2    752 \n"));
    }
}
