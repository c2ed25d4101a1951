package org.kmemlab.analysis.hot;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.InputError;

/**
 * A synthetic profile of total weight 21 whose percentages were worked out by hand:
 * main;a;b 7, main;a;c 5, main;d;a 3, main 2, main;a;a 4 (a recursive frame).
 * Children: main 21/21 = 100.00%, a (7+5+3+4)/21 = 90.48%, b 7/21 = 33.33%, c 5/21 = 23.81%, d 3/21 = 14.29%.
 * Self: main 2/21 = 9.52%, a (3+4)/21 = 33.33%, b 33.33%, c 23.81%, d 0.00%.
 */
class HotTreeTest {
    @TempDir Path tmp;

    static Map<String, Long> profile() {
        Map<String, Long> p = new TreeMap<>();
        p.put("main;a;b", 7L);
        p.put("main;a;c", 5L);
        p.put("main;d;a", 3L);
        p.put("main", 2L);
        p.put("main;a;a", 4L);
        return p;
    }

    @Test
    void childrenAndSelfPercentagesMatchTheHandComputation() {
        HotTree.Options o = new HotTree.Options();
        o.callGraph = false;
        String out = new HotTree(profile()).render(o, "samples");
        assertEquals(String.join("\n",
                "# Total weight: 21 samples",
                "# Children      Self  Symbol",
                "# ........  ........  ......................................",
                "#",
                "   100.00%     9.52%  main",
                "    90.48%    33.33%  a",
                "    33.33%    33.33%  b",
                "    23.81%    23.81%  c",
                "    14.29%     0.00%  d", ""), out);
    }

    @Test
    void sortBySelfAndPercentLimit() {
        HotTree t = new HotTree(profile());
        assertEquals(List.of(new HotTree.Entry("a", 19, 7), new HotTree.Entry("b", 7, 7), new HotTree.Entry("c", 5, 5),
                new HotTree.Entry("main", 21, 2), new HotTree.Entry("d", 3, 0)), t.entries(HotTree.Sort.SELF));
        HotTree.Options o = new HotTree.Options();
        o.callGraph = false;
        o.percentLimit = 20;
        String out = t.render(o, "samples");
        assertTrue(out.contains("    23.81%    23.81%  c\n"));
        assertFalse(out.contains("  d\n"), "d is under the 20% limit");
    }

    @Test
    void callerGraphIsIndentedLikePerfReport() {
        HotTree.Options o = new HotTree.Options();
        o.graphLimit = 0;
        o.limit = 1;
        String out = new HotTree(profile()).render(o, "samples");
        String want = String.join("\n",
                "   100.00%     9.52%  main",
                "            |",
                "            ---main",
                "               |",
                "               |--76.19%--a",
                "               |          |",
                "               |          |--33.33%--b",
                "               |          |",
                "               |          |--23.81%--c",
                "               |          |",
                "               |           --19.05%--a",
                "               |",
                "                --14.29%--d",
                "                          a", "", "");
        assertEquals(want, out.substring(out.indexOf("   100.00%")));
    }

    @Test
    void calleeGraphShowsCallers() {
        HotTree.Options o = new HotTree.Options();
        o.graphLimit = 0;
        o.order = HotTree.Order.CALLEE;
        String out = new HotTree(profile()).render(o, "samples");
        String a = out.substring(out.indexOf("    90.48%    33.33%  a"), out.indexOf("    33.33%    33.33%  b"));
        // last occurrence of a: callers main (7+5), a;main (4), d;main (3)
        assertEquals(String.join("\n",
                "    90.48%    33.33%  a",
                "            |",
                "            ---a",
                "               |",
                "               |--57.14%--main",
                "               |",
                "               |--19.05%--a",
                "               |          main",
                "               |",
                "                --14.29%--d",
                "                          main", "", ""), a);
    }

    static double widthOf(String svg, String title) {
        Matcher m = Pattern.compile("<title>" + Pattern.quote(title) + "[^<]*</title><rect x=\"[^\"]+\" y=\"[^\"]+\" width=\"([0-9.]+)\"").matcher(svg);
        assertTrue(m.find(), title);
        return Double.parseDouble(m.group(1));
    }

    static String fillOf(String svg, String title) {
        Matcher m = Pattern.compile("<title>" + Pattern.quote(title) + "[^<]*</title><rect [^>]*fill=\"([^\"]+)\"").matcher(svg);
        assertTrue(m.find(), title);
        return m.group(1);
    }

    @Test
    void flameGraphFramesAreAsWideAsTheirWeight() {
        String svg = FlameGraph.svg(profile(), "Flame Graph", "samples");
        // 1180 px of drawable width for 21 samples
        assertEquals(1180.0, widthOf(svg, "all ("), 0.05);
        assertEquals(1180.0, widthOf(svg, "main ("), 0.05);
        assertEquals(16 * 1180.0 / 21, widthOf(svg, "a (16 samples"), 0.05);
        assertEquals(3 * 1180.0 / 21, widthOf(svg, "d (3 samples"), 0.05);
        assertTrue(svg.contains("<title>a (16 samples, 76.19%)</title>"));
        assertTrue(svg.startsWith("<svg ") && svg.strip().endsWith("</svg>"));
        assertFalse(svg.contains("http://") && svg.replace("http://www.w3.org/2000/svg", "").contains("http://"), "no external references");
    }

    @Test
    void narrowFramesArePrunedAndDoNotSetTheHeight() {
        Map<String, Long> p = new TreeMap<>(profile());
        // a 1-sample tower 30 frames deep among 10,000 samples is 0.12 px wide: drawn at 0.1 px, pruned at 1 px
        p.put("main", 10_000L);
        p.put("main;" + "t;".repeat(29) + "t", 1L);
        String thin = FlameGraph.svg(p, "t", "samples");
        String pruned = FlameGraph.svg(p, "t", "samples", 1.0);
        java.util.function.Function<String, Integer> height = svg -> Integer.parseInt(svg.replaceFirst("(?s).*?height=\"(\\d+)\".*", "$1"));
        // 16 px per level, 36 px above and 34 below. Total 10,020 over 1180 px: at 1 px, a (16 samples, 1.88 px)
        // stays and b (7 samples, 0.82 px) goes, so 3 levels (all, main, a) against 32 (all, main, 30 t)
        assertEquals(32 * 16 + 70, height.apply(thin));
        assertEquals(3 * 16 + 70, height.apply(pruned));
        assertFalse(pruned.contains("<title>t ("));
    }

    @Test
    void differentialGraphColoursGrowthRedAndShrinkBlue() {
        Map<String, Long> before = Map.of("main;a", 10L, "main;b", 10L);
        Map<String, Long> after = Map.of("main;a", 30L, "main;b", 10L);
        String raw = FlameGraph.diff(before, after, false, "diff", "samples");
        assertEquals("rgb(255,0,0)", fillOf(raw, "a (30"));
        assertEquals("rgb(250,250,250)", fillOf(raw, "b (10"));
        // normalised, before scales by 40/20: a 20 -> 30 grew by 10, b 20 -> 10 shrank by 10
        String norm = FlameGraph.diff(before, after, true, "diff", "samples");
        assertEquals("rgb(255,0,0)", fillOf(norm, "a (30"));
        assertEquals("rgb(0,0,255)", fillOf(norm, "b (10"));
        assertEquals("rgb(250,250,250)", fillOf(norm, "main (40"));
    }

    @Test
    void foldedRoundTripsAndRejectsBadLines() throws Exception {
        Path f = tmp.resolve("p.folded");
        try (var w = Files.newBufferedWriter(f)) { Folded.write(profile(), w); }
        assertEquals(profile(), Folded.parse(f));
        Files.writeString(f, "a;b 3\nno weight here\n");
        InputError e = assertThrows(InputError.class, () -> Folded.parse(f));
        assertTrue(e.getMessage().contains(":2"), e.getMessage());
    }
}
