package org.kmemlab.replay;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Several policies over one trace, each on its own thread with its own reader and model, so that the
 * output of a policy depends only on the trace, the policy and its settings — never on how many run
 * together or in what order they finish.
 */
public final class MultiReplay {
    private MultiReplay() {}

    /** {@code policies}: presets or named variants, as {@link PolicySpec#parse} reads them. */
    public static Map<String, Map<String, Object>> run(Path trace, List<String> policies, Map<String, String> set,
                                                       Path out, int threads) throws IOException {
        List<Replayer> rs = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (String p : policies) {
            PolicySpec spec = PolicySpec.parse(p);
            if (!names.add(spec.name())) throw new IllegalArgumentException("policy '" + spec.name() + "' is given twice: name the variants (NAME=PRESET,KEY=VALUE)");
            rs.add(new Replayer(trace, spec, set));
        }
        // one pre-pass for all: it depends on the trace alone, and each replay only reads it
        PrePass pre = PrePass.scan(trace);
        ExecutorService ex = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, rs.size())), r -> {
            Thread t = new Thread(r, "kmemlab-replay");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Map<String, Object>>> fs = new ArrayList<>();
            for (Replayer r : rs) fs.add(ex.submit(() -> r.run(out.resolve(r.policy()), pre)));
            Map<String, Map<String, Object>> res = new LinkedHashMap<>();
            for (int i = 0; i < rs.size(); i++) {
                try {
                    res.put(rs.get(i).policy(), fs.get(i).get());
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof IOException io) throw io;
                    if (c instanceof RuntimeException re) throw re;
                    throw new IllegalStateException(c);
                }
            }
            return res;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } finally {
            ex.shutdownNow();
        }
    }
}
