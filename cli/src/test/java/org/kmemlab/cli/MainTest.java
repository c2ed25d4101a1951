package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The command tree holds the subcommand the arguments name, or all of them when they name none. */
class MainTest {
    @Test
    void eachSubcommandIsListedUnderTheNameItsAnnotationGives() {
        for (Map.Entry<String, Supplier<Object>> e : Main.SUBCOMMANDS.entrySet()) {
            Object c = e.getValue().get();
            assertEquals(e.getKey(), c.getClass().getAnnotation(Command.class).name(), c.getClass().getName());
        }
        assertEquals(17, Main.SUBCOMMANDS.size());
    }

    @Test
    void aNamedSubcommandIsBuiltAlone() {
        assertEquals(Set.of("import"), Main.commandLine("import", "x.txt", "-o", "x.arrow").getSubcommands().keySet());
        assertEquals(Set.of("replay"), Main.commandLine("replay").getSubcommands().keySet());
    }

    @Test
    void helpOptionsTyposAndNothingGetTheWholeTree() {
        Set<String> all = Main.SUBCOMMANDS.keySet();
        for (String[] args : List.of(new String[0], new String[]{"help", "import"}, new String[]{"--help"}, new String[]{"imprt"})) {
            assertEquals(all, Main.commandLine(args).getSubcommands().keySet(), String.join(" ", args));
        }
        // a typo still gets picocli's suggestion, which needs the other names
        CommandLine cl = Main.commandLine("imprt");
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("imprt"));
        assertTrue(err.toString().contains("import"), err.toString());
    }
}
