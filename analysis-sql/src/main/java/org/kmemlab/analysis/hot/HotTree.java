package org.kmemlab.analysis.hot;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A hot-path breakdown in the layout of {@code perf report --children --stdio} (tools/perf/ui/stdio/hist.c):
 * one line per symbol with <b>Children %</b> (the share of total weight whose stack contains the symbol,
 * counted once per stack even under recursion) and <b>Self %</b> (the share where the symbol is the leaf),
 * each followed by its indented call graph with percentages relative to the total, as perf's default
 * {@code -g graph,0.5,caller}. Caller order shows what each symbol calls; callee order shows who calls it.
 */
public final class HotTree {
    public enum Sort { CHILDREN, SELF, SYMBOL }
    public enum Order { CALLER, CALLEE }

    /** One symbol of the profile: weights, not percentages, so that tests can check them exactly. */
    public record Entry(String symbol, long children, long self) {}

    /** Printing options; the defaults are perf report's. */
    public static final class Options {
        public Sort sort = Sort.CHILDREN;
        public Order order = Order.CALLER;
        /** Hide entries whose sort-key share is below this percent (perf's --percent-limit). */
        public double percentLimit = 0;
        /** Hide call-graph branches below this percent of the total (perf's -g graph,0.5). */
        public double graphLimit = 0.5;
        public boolean callGraph = true;
        /** At most this many entries; 0 = all. */
        public int limit = 0;
    }

    private final Map<String, Long> folded;
    private final long total;

    public HotTree(Map<String, Long> folded) {
        this.folded = folded;
        this.total = Folded.total(folded);
    }

    public long total() { return total; }

    public List<Entry> entries(Sort sort) {
        Map<String, long[]> acc = new HashMap<>();
        for (Map.Entry<String, Long> e : folded.entrySet()) {
            String[] f = Folded.frames(e.getKey());
            long w = e.getValue();
            Set<String> seen = new HashSet<>();
            for (String s : f) if (seen.add(s)) acc.computeIfAbsent(s, k -> new long[2])[0] += w;
            acc.computeIfAbsent(f[f.length - 1], k -> new long[2])[1] += w;
        }
        List<Entry> out = new ArrayList<>();
        acc.forEach((k, v) -> out.add(new Entry(k, v[0], v[1])));
        Comparator<Entry> byName = Comparator.comparing(Entry::symbol);
        Comparator<Entry> c = switch (sort) {
            case CHILDREN -> Comparator.comparingLong(Entry::children).reversed()
                    .thenComparing(Comparator.comparingLong(Entry::self).reversed()).thenComparing(byName);
            case SELF -> Comparator.comparingLong(Entry::self).reversed()
                    .thenComparing(Comparator.comparingLong(Entry::children).reversed()).thenComparing(byName);
            case SYMBOL -> byName;
        };
        out.sort(c);
        return out;
    }

    public double pct(long w) { return total == 0 ? 0 : 100.0 * w / total; }

    static String pctStr(double p) { return String.format(Locale.ROOT, "%.2f%%", p); }

    /** The report as perf prints it to a terminal with --stdio. */
    public String render(Options o, String weightName) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Total weight: ").append(total).append(' ').append(weightName).append('\n');
        sb.append("# Children      Self  Symbol\n");
        sb.append("# ........  ........  ......................................\n#\n");
        int shown = 0;
        for (Entry e : entries(o.sort)) {
            double key = o.sort == Sort.SELF ? pct(e.self()) : pct(e.children());
            if (key < o.percentLimit) continue;
            if (o.limit > 0 && shown >= o.limit) break;
            shown++;
            sb.append(String.format(Locale.ROOT, "%9.2f%%%9.2f%%  %s%n", pct(e.children()), pct(e.self()), e.symbol()));
            if (o.callGraph && e.children() > 0) {
                graph(sb, e.symbol(), o);
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    /** A call-graph node: a frame, the weight of the stacks through it below the entry, its children. */
    static final class Node {
        final String name;
        long weight;
        final Map<String, Node> kids = new LinkedHashMap<>();
        Node(String name) { this.name = name; }
    }

    /** The entry's graph: callees (caller order, from its outermost occurrence) or callers (callee order). */
    Node graphOf(String sym, Order order) {
        Node root = new Node(sym);
        for (Map.Entry<String, Long> e : folded.entrySet()) {
            String[] f = Folded.frames(e.getKey());
            long w = e.getValue();
            if (order == Order.CALLER) {
                int k = -1;
                for (int i = 0; i < f.length; i++) if (f[i].equals(sym)) { k = i; break; }
                if (k < 0) continue;
                root.weight += w;
                Node n = root;
                for (int i = k + 1; i < f.length; i++) {
                    n = n.kids.computeIfAbsent(f[i], Node::new);
                    n.weight += w;
                }
            } else {
                int k = -1;
                for (int i = f.length - 1; i >= 0; i--) if (f[i].equals(sym)) { k = i; break; }
                if (k < 0) continue;
                root.weight += w;
                Node n = root;
                for (int i = k - 1; i >= 0; i--) {
                    n = n.kids.computeIfAbsent(f[i], Node::new);
                    n.weight += w;
                }
            }
        }
        return root;
    }

    private List<Node> shownKids(Node n, Options o) {
        List<Node> ks = new ArrayList<>();
        for (Node k : n.kids.values()) if (pct(k.weight) >= o.graphLimit) ks.add(k);
        ks.sort(Comparator.comparingLong((Node k) -> k.weight).reversed().thenComparing(k -> k.name));
        return ks;
    }

    private void graph(StringBuilder sb, String sym, Options o) {
        Node root = graphOf(sym, o.order);
        String pad = " ".repeat(12);
        sb.append(pad).append("|\n");
        sb.append(pad).append("---").append(root.name).append('\n');
        String prefix = " ".repeat(15);
        Node n = straight(sb, root, prefix, o);
        branches(sb, n, prefix, o);
    }

    /** Follows a chain with one branch carrying all the weight, printing one frame per line like perf. */
    private Node straight(StringBuilder sb, Node n, String prefix, Options o) {
        while (true) {
            List<Node> ks = shownKids(n, o);
            if (ks.size() != 1 || ks.get(0).weight != n.weight) return n;
            n = ks.get(0);
            sb.append(prefix).append(n.name).append('\n');
        }
    }

    private void branches(StringBuilder sb, Node n, String prefix, Options o) {
        List<Node> ks = shownKids(n, o);
        for (int i = 0; i < ks.size(); i++) {
            Node k = ks.get(i);
            boolean last = i == ks.size() - 1;
            String p = pctStr(pct(k.weight));
            sb.append(prefix).append("|\n");
            sb.append(prefix).append(last ? " --" : "|--").append(p).append("--").append(k.name).append('\n');
            String child = prefix + (last ? " " : "|") + " ".repeat(p.length() + 4);
            Node end = straight(sb, k, child, o);
            branches(sb, end, child, o);
        }
    }
}
