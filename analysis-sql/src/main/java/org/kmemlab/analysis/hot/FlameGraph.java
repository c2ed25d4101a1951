package org.kmemlab.analysis.hot;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A self-contained flame graph SVG in the layout of Brendan Gregg's {@code flamegraph.pl}: the root
 * ("all") at the bottom, each frame as wide as its weight, siblings in alphabetical order (flamegraph.pl
 * sorts its folded input), frames narrower than {@link #MIN_WIDTH_PX} dropped, names truncated with "..",
 * a {@code <title>} tooltip per frame. Colours use flamegraph.pl's "hot" palette but are derived from a
 * hash of the name rather than random, so that one function keeps its colour between graphs and runs.
 *
 * <p>The differential graph follows {@code difffolded.pl} + {@code flamegraph.pl}: widths come from the
 * second profile; red frames grew, blue ones shrank, the intensity scaled to the largest change. With
 * normalisation the first profile is scaled to the second's total first (difffolded.pl -n).
 */
public final class FlameGraph {
    public static final int WIDTH = 1200, FRAME_H = 16, FONT = 12, XPAD = 10;
    public static final double MIN_WIDTH_PX = 0.1, FONT_W = 0.59;

    static final class Node {
        final String name;
        long weight;
        double delta;
        final Map<String, Node> kids = new TreeMap<>();
        Node(String n) { name = n; }
    }

    private FlameGraph() {}

    static Node tree(Map<String, Long> folded) {
        Node root = new Node("all");
        for (Map.Entry<String, Long> e : folded.entrySet()) {
            long w = e.getValue();
            if (w <= 0) continue;
            root.weight += w;
            Node n = root;
            for (String f : Folded.frames(e.getKey())) {
                n = n.kids.computeIfAbsent(f, Node::new);
                n.weight += w;
            }
        }
        return root;
    }

    /** Depth of the frames that will be drawn, as flamegraph.pl sizes the image after pruning narrow frames. */
    static int depth(Node n, double wpu, double minPx) {
        if (n.weight * wpu < minPx) return 0;
        int d = 0;
        for (Node k : n.kids.values()) d = Math.max(d, depth(k, wpu, minPx));
        return d + 1;
    }

    public static String svg(Map<String, Long> folded, String title, String unit) {
        return svg(folded, title, unit, MIN_WIDTH_PX);
    }

    /** With a wider {@code minWidthPx} than flamegraph.pl's 0.1, thin deep towers stop dictating the height. */
    public static String svg(Map<String, Long> folded, String title, String unit, double minWidthPx) {
        return render(tree(folded), title, unit, false, minWidthPx);
    }

    /** A differential flame graph: the shape of {@code after}, coloured by the change from {@code before}. */
    public static String diff(Map<String, Long> before, Map<String, Long> after, boolean normalize, String title, String unit) {
        double scale = 1;
        long tb = Folded.total(before), ta = Folded.total(after);
        if (normalize && tb > 0) scale = (double) ta / tb;
        Node root = tree(after);
        // Each frame's delta is the change of the weight of all stacks through it, as flamegraph.pl sums it.
        Map<String, Double> perStack = new TreeMap<>();
        after.forEach((k, v) -> perStack.merge(k, (double) v, Double::sum));
        for (Map.Entry<String, Long> e : before.entrySet()) perStack.merge(e.getKey(), -e.getValue() * scale, Double::sum);
        for (Map.Entry<String, Double> e : perStack.entrySet()) {
            Node n = root;
            n.delta += e.getValue();
            for (String f : Folded.frames(e.getKey())) {
                Node k = n.kids.get(f);
                if (k == null) break; // gone in the second profile: no width to draw it with
                k.delta += e.getValue();
                n = k;
            }
        }
        return render(root, title, unit, true, MIN_WIDTH_PX);
    }

    private static String render(Node root, String title, String unit, boolean diff, double minPx) {
        double widthPerUnit = root.weight == 0 ? 0 : (WIDTH - 2.0 * XPAD) / root.weight;
        int depth = Math.max(1, depth(root, widthPerUnit, minPx));
        int ypadTop = FONT * 3, ypadBottom = FONT * 2 + 10;
        int height = depth * FRAME_H + ypadTop + ypadBottom;
        double maxDelta = diff ? maxAbsDelta(root) : 0;
        StringBuilder sb = new StringBuilder(1 << 16);
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"").append(WIDTH)
                .append("\" height=\"").append(height).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(height)
                .append("\" font-family=\"Verdana, DejaVu Sans, sans-serif\" font-size=\"").append(FONT).append("\">\n");
        sb.append("<defs><linearGradient id=\"fgbg\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\"><stop stop-color=\"#eeeeee\" offset=\"5%\"/>")
                .append("<stop stop-color=\"#eeeeb0\" offset=\"95%\"/></linearGradient></defs>\n");
        sb.append("<rect x=\"0\" y=\"0\" width=\"").append(WIDTH).append("\" height=\"").append(height).append("\" fill=\"url(#fgbg)\"/>\n");
        sb.append("<text x=\"").append(WIDTH / 2).append("\" y=\"").append(FONT * 2).append("\" text-anchor=\"middle\" font-size=\"17\">")
                .append(esc(title)).append("</text>\n");
        sb.append("<text x=\"").append(XPAD).append("\" y=\"").append(height - FONT / 2).append("\" fill=\"#555\">")
                .append(esc(String.format(Locale.ROOT, "total %,d %s%s", root.weight, unit,
                        diff ? "; red = grew, blue = shrank (width: second profile)" : "")))
                .append("</text>\n");
        draw(sb, root, XPAD, 0, height - ypadBottom, widthPerUnit, root.weight, unit, diff, maxDelta, minPx);
        sb.append("</svg>\n");
        return sb.toString();
    }

    private static double maxAbsDelta(Node n) {
        double m = Math.abs(n.delta);
        for (Node k : n.kids.values()) m = Math.max(m, maxAbsDelta(k));
        return m;
    }

    private static void draw(StringBuilder sb, Node n, double x, int level, int bottom, double wpu, long total,
                             String unit, boolean diff, double maxDelta, double minPx) {
        double w = n.weight * wpu;
        if (w < minPx) return;
        double y = bottom - (level + 1) * FRAME_H;
        String fill = diff ? diffColor(n.delta, maxDelta) : hot(n.name);
        String tip = String.format(Locale.ROOT, "%s (%,d %s, %.2f%%)", n.name, n.weight, unit, 100.0 * n.weight / total);
        if (diff) tip += String.format(Locale.ROOT, " %+,.0f", n.delta);
        sb.append("<g><title>").append(esc(tip)).append("</title><rect x=\"").append(fmt(x)).append("\" y=\"").append(fmt(y))
                .append("\" width=\"").append(fmt(w)).append("\" height=\"").append(FRAME_H - 1).append("\" fill=\"").append(fill)
                .append("\" rx=\"2\" ry=\"2\"/>");
        int chars = (int) (w / (FONT * FONT_W));
        if (chars >= 3) {
            String label = n.name.length() <= chars ? n.name : n.name.substring(0, chars - 2) + "..";
            sb.append("<text x=\"").append(fmt(x + 3)).append("\" y=\"").append(fmt(y + FRAME_H - 4.5)).append("\">")
                    .append(esc(label)).append("</text>");
        }
        sb.append("</g>\n");
        double cx = x;
        for (Node k : n.kids.values()) {
            draw(sb, k, cx, level + 1, bottom, wpu, total, unit, diff, maxDelta, minPx);
            cx += k.weight * wpu;
        }
    }

    /** flamegraph.pl's "hot" palette, driven by a stable hash of the name instead of rand(). */
    static String hot(String name) {
        int h = name.hashCode() * 0x9E3779B1;
        double v1 = ((h >>> 8) & 0xff) / 255.0, v2 = ((h >>> 16) & 0xff) / 255.0, v3 = ((h >>> 24) & 0xff) / 255.0;
        int r = 205 + (int) (50 * v3), g = (int) (230 * v1), b = (int) (55 * v2);
        return String.format("rgb(%d,%d,%d)", r, g, b);
    }

    static String diffColor(double delta, double maxDelta) {
        if (maxDelta == 0 || delta == 0) return "rgb(250,250,250)";
        int c = (int) Math.round(210 * (1 - Math.min(1, Math.abs(delta) / maxDelta)));
        return delta > 0 ? String.format("rgb(255,%d,%d)", c, c) : String.format("rgb(%d,%d,255)", c, c);
    }

    static String fmt(double v) { return String.format(Locale.ROOT, "%.1f", v); }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
