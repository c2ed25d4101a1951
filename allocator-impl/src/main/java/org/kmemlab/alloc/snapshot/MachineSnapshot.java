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
        if (z == null) { z = new ZoneInfo(node, name); zones.add(z); }
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
        try {
            Path b = find(dir, "buddyinfo");
            if (b != null) s.parseBuddyinfo(Files.readString(b));
            Path pt = find(dir, "pagetypeinfo");
            if (pt != null) s.parsePagetypeinfo(Files.readString(pt));
            Path zi = find(dir, "zoneinfo");
            if (zi != null) s.parseZoneinfo(Files.readString(zi));
            Path mi = find(dir, "meminfo");
            if (mi != null) s.parseMeminfo(Files.readString(mi));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (s.zones.isEmpty()) throw new IllegalArgumentException("no buddyinfo/pagetypeinfo/zoneinfo in " + dir);
        return s;
    }

    public void parseBuddyinfo(String text) {
        rawBuddyinfo = text;
        for (String line : text.split("\n")) {
            line = line.trim();
            if (!line.startsWith("Node")) continue;
            // "Node 0, zone   Normal   3220   1640 ..."
            String[] t = line.replace(",", " ").trim().split("\\s+");
            int node = Integer.parseInt(t[1]);
            String name = t[3];
            long[] nr = new long[t.length - 4];
            for (int i = 4; i < t.length; i++) nr[i - 4] = Long.parseLong(t[i]);
            nrOrders = nr.length;
            zoneOrAdd(node, name).nrFree = nr;
        }
    }

    public void parsePagetypeinfo(String text) {
        rawPagetypeinfo = text;
        boolean blocks = false;
        for (String line : text.split("\n")) {
            String l = line.trim();
            if (l.startsWith("Page block order:")) pageblockOrder = Integer.parseInt(l.substring(17).trim());
            else if (l.startsWith("Number of blocks type")) blocks = true;
            else if (l.startsWith("Free pages count")) blocks = false;
            else if (l.startsWith("Node")) {
                String[] t = l.replace(",", " ").trim().split("\\s+");
                int node = Integer.parseInt(t[1]);
                String name = t[3];
                ZoneInfo z = zoneOrAdd(node, name);
                if (!blocks && t.length > 5 && t[4].equals("type")) {
                    int mt = mtIndex(t[5]);
                    if (mt < 0) continue; // e.g. CMA on kernels built with it: not modeled
                    int n = t.length - 6;
                    if (z.freeByType == null) { z.freeByType = new long[MT_NAMES.length][n]; z.overflow = new boolean[MT_NAMES.length][n]; }
                    for (int i = 0; i < n; i++) {
                        String v = t[6 + i];
                        if (v.startsWith(">")) { z.overflow[mt][i] = true; v = v.substring(1); }
                        z.freeByType[mt][i] = Long.parseLong(v);
                    }
                } else if (blocks) {
                    long[] bc = new long[MT_NAMES.length];
                    for (int i = 0; i < MT_NAMES.length && 4 + i < t.length; i++) bc[i] = Long.parseLong(t[4 + i]);
                    z.blocksByType = bc;
                }
            }
        }
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
        for (String raw : text.split("\n")) {
            String l = raw.trim();
            if (l.isEmpty()) continue;
            if (l.startsWith("Node ")) {
                String[] t = l.replace(",", " ").split("\\s+");
                node = Integer.parseInt(t[1]);
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
                z.protection = new long[v.length];
                for (int i = 0; i < v.length; i++) z.protection[i] = Long.parseLong(v[i].trim());
                continue;
            }
            if (l.startsWith("cpu:")) {
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
