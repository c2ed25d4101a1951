package org.kmemlab.replay;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Self-time per call path, kept as a tree of frames (as perf report builds it) so that charging time
 * costs a field update, not a string. Folded into {@code a;b;c} lines only when written out.
 */
final class CallTree {
    static final class Node {
        final String frame;
        final Node parent;
        long selfNs;
        long hits;
        private Map<String, Node> children;

        Node(String frame, Node parent) {
            this.frame = frame;
            this.parent = parent;
        }

        /** The last child looked up, by identity: frames are mostly the model's string constants, and a path repeats. */
        private String lastFrame;
        private Node lastChild;

        Node child(String f) {
            if (f == lastFrame) return lastChild;
            if (children == null) children = new HashMap<>(4);
            Node c = children.get(f);
            if (c == null) {
                c = new Node(f, this);
                children.put(f, c);
            }
            lastFrame = f;
            lastChild = c;
            return c;
        }
    }

    final Node root = new Node("", null);

    /** Folded paths with their self-time, sorted, for deterministic output. */
    Map<String, Long> folded() {
        Map<String, Long> out = new TreeMap<>();
        walk(root, new ArrayList<>(), out);
        return out;
    }

    private static void walk(Node n, List<String> path, Map<String, Long> out) {
        if (n != null && n.selfNs > 0 && !path.isEmpty()) out.merge(String.join(";", path), n.selfNs, Long::sum);
        if (n.children == null) return;
        for (Node c : n.children.values()) {
            path.add(c.frame);
            walk(c, path, out);
            path.remove(path.size() - 1);
        }
    }

    long total() {
        long[] t = {0};
        sum(root, t);
        return t[0];
    }

    private static void sum(Node n, long[] t) {
        t[0] += n.selfNs;
        if (n.children != null) for (Node c : n.children.values()) sum(c, t);
    }
}
