package org.kmemlab.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.kmemlab.analysis.TraceDb;
import org.kmemlab.trace.TraceSchema;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kmemlab export trace.arrow --parquet DIR [--partition-by event,cpu]}: the events as Parquet that
 * DuckDB, Spark and pandas read as they are, written by DuckDB's COPY; with partitions, hive-style
 * folders {@code event=…/cpu=…/data_0.parquet} (the partition columns live in the folder names).
 */
@Command(name = "export", mixinStandardHelpOptions = true, description = "Export traces' events as (hive-partitioned) Parquet.")
public final class ExportCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "TRACE", description = "Trace files.")
    List<Path> traces;

    @Option(names = "--parquet", required = true, paramLabel = "DIR", description = "Folder to write (must not exist or be empty, unless --force).")
    Path dir;

    @Option(names = "--partition-by", split = ",", paramLabel = "COLUMN", description = "Columns of events to partition by, e.g. event,cpu.")
    List<String> partitionBy = new ArrayList<>();

    @picocli.CommandLine.Mixin
    Outputs.Force force = new Outputs.Force();

    /** Partition columns: only plain column names of the events table, so a name can never be a path. */
    static List<String> validate(List<String> cols) {
        List<String> ok = new ArrayList<>();
        for (String c : cols) {
            String t = c.strip();
            if (t.isEmpty()) throw new UserError("--partition-by: empty column name");
            if (t.contains("..") || t.startsWith("/") || t.contains("/") || t.contains("\\") || Path.of(t).isAbsolute()) {
                throw new UserError("--partition-by: '" + c + "' is a path, not a column name");
            }
            String lc = t.toLowerCase(Locale.ROOT);
            if (!lc.equals("trace") && TraceSchema.column(lc) < 0) {
                throw new UserError("--partition-by: no column '" + c + "' (columns: trace, " + String.join(", ", TraceSchema.NAMES) + ")");
            }
            if (ok.contains(lc)) throw new UserError("--partition-by: '" + c + "' given twice");
            ok.add(lc);
        }
        return ok;
    }

    @Override
    public Integer call() throws Exception {
        List<String> cols = validate(partitionBy);
        for (Path t : traces) if (!Files.isRegularFile(t)) throw new UserError(t + ": does not exist");
        Path parent = dir.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        // Written under a temporary name and renamed when complete; Outputs checks that no partition left it
        // (DuckDB escapes '/' in partition values, so comm=../x stays a folder name inside).
        return Outputs.folder(dir, force.force, tmp -> export(cols, tmp));
    }

    private int export(List<String> cols, Path tmp) throws Exception {
        try (TraceDb db = TraceDb.open(traces)) {
            String target = cols.isEmpty() ? tmp.resolve("events.parquet").toString() : tmp.toString();
            // Column names were checked against the schema above; quoting them keeps reserved words such as "order" valid.
            StringBuilder opts = new StringBuilder("FORMAT PARQUET, COMPRESSION ZSTD");
            if (!cols.isEmpty()) {
                opts.append(", PARTITION_BY (");
                for (int i = 0; i < cols.size(); i++) opts.append(i == 0 ? "" : ", ").append('"').append(cols.get(i)).append('"');
                opts.append("), OVERWRITE_OR_IGNORE true");
            }
            db.execute("COPY events TO " + TraceDb.quoteLiteral(target) + " (" + opts + ")");
            long n;
            try (var rs = db.query("SELECT count(*) FROM events")) { rs.next(); n = rs.getLong(1); }
            System.out.println("exported " + n + " events to " + (cols.isEmpty() ? dir.resolve("events.parquet") : dir + " (partitioned by " + String.join(", ", cols) + ")"));
        }
        return 0;
    }
}
