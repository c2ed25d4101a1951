package org.kmemlab.cli.notebook;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A run notebook as a Jupyter notebook (nbformat 4.5) with its outputs in it: prose as markdown cells,
 * each cell a code cell whose source starts with a {@code %%sql}, {@code %%chart}, {@code %%kmemlab} or
 * {@code %%verdict} line (Jupyter's cell-magic spelling, so the kind shows), outputs as {@code stream},
 * {@code display_data} (text/html and text/plain; image/png for charts) and {@code error}. The kernel is
 * named "kmemlab": Jupyter and GitHub show the notebook with its outputs and need no kernel for that.
 */
public final class Ipynb {
    private Ipynb() {}

    static final ObjectMapper JSON = new ObjectMapper();

    public static void write(NotebookRun run, Path out) throws IOException {
        // Jupyter's own layout: one-space indent, newline at the end; it diffs the same way
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter(" ", "\n"))
                .withArrayIndenter(new DefaultIndenter(" ", "\n"));
        Files.writeString(out, JSON.writer(pp).writeValueAsString(json(run)) + "\n", StandardCharsets.UTF_8);
    }

    public static ObjectNode json(NotebookRun run) {
        Notebook nb = run.notebook();
        ObjectNode root = JSON.createObjectNode();
        ArrayNode cells = root.putArray("cells");
        int id = 0;
        for (Notebook.Block b : nb.blocks()) {
            ObjectNode c = cells.addObject();
            c.put("id", "cell-" + (++id));
            if (b instanceof Notebook.Prose p) {
                c.put("cell_type", "markdown");
                c.putObject("metadata");
                c.set("source", lines(p.markdown().stripTrailing()));
            } else if (b instanceof Notebook.Cell cell) {
                CellRun r = run.runOf(cell);
                c.put("cell_type", "code");
                if (r == null) c.putNull("execution_count"); else c.put("execution_count", r.executionCount());
                ObjectNode md = c.putObject("metadata");
                ObjectNode km = md.putObject("kmemlab");
                km.put("kind", cell.kind().fence());
                km.put("line", cell.line());
                c.set("source", lines("%%" + cell.kind().fence() + "\n" + cell.body().stripTrailing()));
                ArrayNode outs = c.putArray("outputs");
                if (r != null) for (Output o : r.outputs()) outs.add(output(o));
            }
        }
        ObjectNode meta = root.putObject("metadata");
        ObjectNode ks = meta.putObject("kernelspec");
        ks.put("name", "kmemlab");
        ks.put("display_name", "kmemlab");
        ks.put("language", "kmemlab");
        ObjectNode li = meta.putObject("language_info");
        li.put("name", "kmemlab");
        li.put("codemirror_mode", "sql");
        li.put("pygments_lexer", "sql");
        li.put("file_extension", ".md");
        meta.put("title", nb.title());
        meta.putObject("kmemlab").put("source", nb.file().getFileName().toString());
        root.put("nbformat", 4);
        root.put("nbformat_minor", 5);
        return root;
    }

    private static ObjectNode output(Output o) {
        ObjectNode n = JSON.createObjectNode();
        if (o instanceof Output.Stream s) {
            n.put("output_type", "stream");
            n.put("name", s.name());
            n.set("text", lines(s.text()));
        } else if (o instanceof Output.Rich h) {
            n.put("output_type", "display_data");
            ObjectNode d = n.putObject("data");
            d.set("text/html", lines(h.html()));
            d.set("text/plain", lines(h.plain()));
            n.putObject("metadata");
        } else if (o instanceof Output.Image i) {
            n.put("output_type", "display_data");
            ObjectNode d = n.putObject("data");
            d.put("image/png", Base64.getEncoder().encodeToString(i.png()));
            d.set("text/plain", lines(i.alt()));
            ObjectNode size = n.putObject("metadata").putObject("image/png");
            size.put("width", i.width());
            size.put("height", i.height());
        } else if (o instanceof Output.Error e) {
            n.put("output_type", "error");
            n.put("ename", e.ename());
            n.put("evalue", e.evalue());
            ArrayNode tb = n.putArray("traceback");
            for (String l : e.traceback()) tb.add(l);
        }
        return n;
    }

    /** nbformat's multi-line string: the lines, each but the last keeping its newline. */
    static ArrayNode lines(String s) {
        ArrayNode a = JSON.createArrayNode();
        List<String> ls = new ArrayList<>();
        int from = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '\n') {
                ls.add(s.substring(from, i + 1));
                from = i + 1;
            }
        }
        if (from < s.length()) ls.add(s.substring(from));
        for (String l : ls) a.add(l);
        return a;
    }
}
