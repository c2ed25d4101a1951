package org.kmemlab.alloc.snapshot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed machine snapshot: {@code /proc/buddyinfo} ({@code mm/vmstat.c frag_show_print}),
 * {@code /proc/pagetypeinfo} ({@code pagetypeinfo_showfree_print}, {@code pagetypeinfo_showblockcount_print}),
 * {@code /proc/zoneinfo} ({@code zoneinfo_show_print}) and {@code /proc/meminfo} ({@code fs/proc/meminfo.c}).
 * Files may be named with or without a {@code .txt} suffix. Pure data; the page model builds from it.
 */
public final class MachineSnapshot {
    public static final String[] MT_NAMES = {"Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"};

    /** One zone as the snapshot shows it. Counts are -1 when the file that carries them was absent. */
    public static final class ZoneInfo {
        public final int node;
        public final String name;
        /** buddyinfo: free blocks per order. */
        public long[] nrFree;
        /** pagetypeinfo: free blocks per migratetype per order ([mt][order]); null if absent. */
        public long[][] freeByType;
        /** pagetypeinfo: true where the kernel printed "&gt;100000" (iteration capped). */
        public boolean[][] overflow;
        /** pagetypeinfo: pageblocks per migratetype. */
        public long[] blocksByType;
        // zoneinfo
        public long startPfn = -1, spanned = -1, present = -1, managed = -1, min = -1, low = -1, high = -1,
                freePages = -1, boost = 0;
        public long[] protection;
        public final Map<String, Long> stats = new LinkedHashMap<>();
        /** Per CPU: count, high, batch, high_min, high_max (-1 when not printed). */
        public final List<long[]> pagesets = new ArrayList<>();

        ZoneInfo(int node, String name) {
            this.node = node;
            this.name = name;
        }

        public long stat(String key, long dflt) { return stats.getOrDefault(key, dflt); }
    }

    public final List<ZoneInfo> zones = new ArrayList<>();
    public final Map<String, Long> meminfoKb = new LinkedHashMap<>();
    /** Per-node stats printed in zoneinfo before the node's first zone. */
    public final Map<Integer, Map<String, Long>> nodeStats = new LinkedHashMap<>();
    public int pageblockOrder = 9;
    /** Number of orders in the files (11 on x86-64). */
    public int nrOrders = 11;
    public String rawBuddyinfo, rawPagetypeinfo;

    public ZoneInfo zone(int node, String name) {
        for (ZoneInfo z : zones) if (z.node == node && z.name.equals(name)) return z;
        return null;
    }

    private ZoneInfo zoneOrAdd(int node, String name) {
        ZoneInfo z = zone(node, name);
        if (z == null) {
            check(zones.size() < MAX_ZONES, "expected at most " + MAX_ZONES + " zones");
            z = new ZoneInfo(node, name);
            zones.add(z);
        }
        return z;
    }

    static Path find(Path dir, String name) {
        Path p = dir.resolve(name);
        if (Files.isRegularFile(p)) return p;
        p = dir.resolve(name + ".txt");
        return Files.isRegularFile(p) ? p : null;
    }

    /** Loads whichever of buddyinfo, pagetypeinfo, zoneinfo, meminfo exist in {@code dir}. */
    public static MachineSnapshot load(Path dir) {
        MachineSnapshot s = new MachineSnapshot();
        Path cur = dir;
        try {
            Path b = find(dir, "buddyinfo");
            if (b != null) { cur = b; s.parseBuddyinfo(read(b)); }
            Path pt = find(dir, "pagetypeinfo");
            if (pt != null) { cur = pt; s.parsePagetypeinfo(read(pt)); }
            Path zi = find(dir, "zoneinfo");
            if (zi != null) { cur = zi; s.parseZoneinfo(read(zi)); }
            Path mi = find(dir, "meminfo");
            if (mi != null) { cur = mi; s.parseMeminfo(read(mi)); }
        } catch (SnapshotFormatException e) {
            throw e.in(cur.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (s.zones.isEmpty()) throw new SnapshotFormatException(dir.toString(), 0, "expected buddyinfo, pagetypeinfo or zoneinfo with a zone in this folder");
        return s;
    }

    /** /proc files are small; a snapshot file larger than this is not one. */
    static final long MAX_FILE = 64L << 20;
    /** Bounds of what a kernel prints: MAX_PAGE_ORDER is at most 15 (arm64 64K pages), MAX_NUMNODES 1 << 10, NR_CPUS 8192. */
    static final int MAX_ORDERS = 32, MAX_NODES = 1 << 10, MAX_PAGESETS = 8192, MAX_ZONES = 4096;

    private static String read(Path p) throws IOException {
        long size = Files.size(p);
        if (size > MAX_FILE) throw new SnapshotFormatException(p.toString(), 0, "expected a /proc snapshot of at most " + MAX_FILE + " bytes, found " + size);
        return Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** Runs {@code body} on each line, turning any parse failure into an error naming the line. */
    private static void lines(String file, String text, String expected, java.util.function.Consumer<String> body) {
        String[] ls = text.split("\n");
        for (int i = 0; i < ls.length; i++) {
            try {
                body.accept(ls[i]);
            } catch (SnapshotFormatException e) {
                throw new SnapshotFormatException(file, i + 1, e.expected());
            } catch (RuntimeException e) {
                throw new SnapshotFormatException(file, i + 1, "expected " + expected);
            }
        }
    }

    private static void check(boolean ok, String expected) {
        if (!ok) throw new SnapshotFormatException("", 0, expected);
    }

    private static int node(String v) {
        int n = Integer.parseInt(v);
        check(n >= 0 && n < MAX_NODES, "expected a node id below " + MAX_NODES + ", found " + v);
        return n;
    }

    public void parseBuddyinfo(String text) {
        rawBuddyinfo = text;
        lines("buddyinfo", text, "'Node N, zone NAME' and a count per order", raw -> {
            String line = raw.trim();
            if (!line.startsWith("Node")) return;
            // "Node 0, zone   Normal   3220   1640 ..."
            String[] t = line.replace(",", " ").trim().split("\\s+");
            int node = node(t[1]);
            String name = t[3];
            check(t.length - 4 <= MAX_ORDERS, "expected at most " + MAX_ORDERS + " orders, found " + (t.length - 4));
            long[] nr = new long[t.length - 4];
            for (int i = 4; i < t.length; i++) nr[i - 4] = nonNegative(t[i]);
            nrOrders = nr.length;
            zoneOrAdd(node, name).nrFree = nr;
        });
    }

    public void parsePagetypeinfo(String text) {
        rawPagetypeinfo = text;
        boolean[] blocks = {false};
        lines("pagetypeinfo", text, "the layout of /proc/pagetypeinfo (Node N, zone NAME, type T, counts per order)", line -> {
            String l = line.trim();
            if (l.startsWith("Page block order:")) {
                pageblockOrder = Integer.parseInt(l.substring(17).trim());
                check(pageblockOrder >= 0 && pageblockOrder < MAX_ORDERS, "expected a page block order below " + MAX_ORDERS);
            }
            else if (l.startsWith("Number of blocks type")) blocks[0] = true;
            else if (l.startsWith("Free pages count")) blocks[0] = false;
            else if (l.startsWith("Node")) {
                String[] t = l.replace(",", " ").trim().split("\\s+");
                int node = node(t[1]);
                String name = t[3];
                ZoneInfo z = zoneOrAdd(node, name);
                if (!blocks[0] && t.length > 5 && t[4].equals("type")) {
                    int mt = mtIndex(t[5]);
                    if (mt < 0) return; // e.g. CMA on kernels built with it: not modeled
                    int n = t.length - 6;
                    check(n <= MAX_ORDERS, "expected at most " + MAX_ORDERS + " orders, found " + n);
                    check(z.freeByType == null || z.freeByType[0].length == n, "expected as many orders as the zone's other types");
                    if (z.freeByType == null) { z.freeByType = new long[MT_NAMES.length][n]; z.overflow = new boolean[MT_NAMES.length][n]; }
                    for (int i = 0; i < n; i++) {
                        String v = t[6 + i];
                        if (v.startsWith(">")) { z.overflow[mt][i] = true; v = v.substring(1); }
                        z.freeByType[mt][i] = nonNegative(v);
                    }
                } else if (blocks[0]) {
                    long[] bc = new long[MT_NAMES.length];
                    for (int i = 0; i < MT_NAMES.length && 4 + i < t.length; i++) bc[i] = nonNegative(t[4 + i]);
                    z.blocksByType = bc;
                }
            }
        });
    }

    private static long nonNegative(String v) {
        long n = Long.parseLong(v);
        check(n >= 0, "expected a count, found " + v);
        return n;
    }

    static int mtIndex(String name) {
        for (int i = 0; i < MT_NAMES.length; i++) if (MT_NAMES[i].equals(name)) return i;
        return -1;
    }

    public void parseZoneinfo(String text) {
        ZoneInfo z = null;
        int node = -1;
        long[] cpuSet = null;
        Map<String, Long> nodeMap = null;
        boolean inNodeStats = false;
        String[] ls = text.split("\n");
        for (int ln = 0; ln < ls.length; ln++) {
          try {
            String l = ls[ln].trim();
            if (l.isEmpty()) continue;
            if (l.startsWith("Node ")) {
                String[] t = l.replace(",", " ").split("\\s+");
                node = node(t[1]);
                String name = t[3];
                z = zoneOrAdd(node, name);
                cpuSet = null;
                inNodeStats = false;
                continue;
            }
            if (z == null) continue;
            if (l.equals("per-node stats")) {
                inNodeStats = true;
                nodeMap = nodeStats.computeIfAbsent(node, k -> new LinkedHashMap<>());
                continue;
            }
            String[] t = l.split("\\s+");
            if (l.startsWith("pages free")) { z.freePages = Long.parseLong(t[2]); inNodeStats = false; continue; }
            if (l.startsWith("protection:")) {
                String inner = l.substring(l.indexOf('(') + 1, l.indexOf(')'));
                String[] v = inner.split(",");
                check(v.length <= MAX_ORDERS, "expected at most " + MAX_ORDERS + " protection values");
                z.protection = new long[v.length];
                for (int i = 0; i < v.length; i++) z.protection[i] = Long.parseLong(v[i].trim());
                continue;
            }
            if (l.startsWith("cpu:")) {
                check(z.pagesets.size() < MAX_PAGESETS, "expected at most " + MAX_PAGESETS + " CPUs' pagesets in a zone");
                cpuSet = new long[]{-1, -1, -1, -1, -1};
                z.pagesets.add(cpuSet);
                continue;
            }
            if (t.length == 2 && t[0].endsWith(":") && cpuSet != null) {
                int idx = switch (t[0]) {
                    case "count:" -> 0;
                    case "high:" -> 1;
                    case "batch:" -> 2;
                    case "high_min:" -> 3;
                    case "high_max:" -> 4;
                    default -> -1;
                };
                if (idx >= 0) cpuSet[idx] = Long.parseLong(t[1]);
                continue;
            }
            if (l.startsWith("start_pfn:")) { z.startPfn = Long.parseLong(t[1]); continue; }
            if (t.length == 2 && t[1].matches("-?\\d+")) {
                long v = Long.parseLong(t[1]);
                if (inNodeStats && nodeMap != null) { nodeMap.put(t[0], v); continue; }
                switch (t[0]) {
                    case "min" -> z.min = v;
                    case "low" -> z.low = v;
                    case "high" -> z.high = v;
                    case "spanned" -> z.spanned = v;
                    case "present" -> z.present = v;
                    case "managed" -> z.managed = v;
                    case "boost" -> z.boost = v;
                    default -> z.stats.put(t[0], v);
                }
            }
          } catch (SnapshotFormatException e) {
            throw new SnapshotFormatException("zoneinfo", ln + 1, e.expected());
          } catch (RuntimeException e) {
            throw new SnapshotFormatException("zoneinfo", ln + 1, "expected the layout of /proc/zoneinfo (Node N, zone NAME, then 'key value' lines)");
          }
        }
    }

    public void parseMeminfo(String text) {
        for (String l : text.split("\n")) {
            int c = l.indexOf(':');
            if (c < 0) continue;
            String[] t = l.substring(c + 1).trim().split("\\s+");
            try { meminfoKb.put(l.substring(0, c).trim(), Long.parseLong(t[0])); } catch (NumberFormatException ignored) {}
        }
    }

    /** Number of CPUs the zoneinfo pagesets show (0 if unknown). */
    public int cpus() {
        for (ZoneInfo z : zones) if (!z.pagesets.isEmpty()) return z.pagesets.size();
        return 0;
    }
}
