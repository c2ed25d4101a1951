package org.kmemlab.cli;

import java.util.Map;

/**
 * Checks the {@code --set} values that the replayer only parses as it starts ({@code cost.*} overrides and
 * {@code replay.splCaches}), so that a mistake is one line naming its key rather than a bare number error.
 */
final class SetValues {
    private SetValues() {}

    static void check(Map<String, String> set) {
        for (Map.Entry<String, String> e : set.entrySet()) {
            String k = e.getKey(), v = e.getValue() == null ? "" : e.getValue().strip();
            if (k.startsWith("cost.") && !v.matches("\\d{1,18}")) {
                throw new UserError("--set " + k + ": '" + v + "' is not a cost in ns (a non-negative integer)");
            }
            if (k.equals("replay.splCaches")) {
                for (String s : v.split(",")) {
                    if (s.isBlank()) continue;
                    // NAME or NAME:OBJECTS, as Replayer reads them
                    if (!s.strip().matches("[^:\\s]+(:\\d{1,9})?")) {
                        throw new UserError("--set " + k + ": '" + s.strip() + "' is not CACHE or CACHE:OBJECTS");
                    }
                }
            }
        }
    }
}
