package org.kmemlab.recorder.generate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A scenario's parameters: its defaults with {@code --set} values on top, checked against the declared keys. */
public final class ScenarioParams {
    private final String scenario;
    private final Map<String, String> values = new LinkedHashMap<>();

    public ScenarioParams(Scenario s, Map<String, String> set) {
        this.scenario = s.name();
        List<Param> ps = s.params();
        for (Param p : ps) values.put(p.key(), p.defaultValue());
        for (Map.Entry<String, String> e : set.entrySet()) {
            if (!values.containsKey(e.getKey())) {
                throw new IllegalArgumentException("scenario " + scenario + " has no parameter '" + e.getKey() + "'; its parameters: "
                        + String.join(", ", values.keySet()));
            }
            values.put(e.getKey(), e.getValue().trim());
        }
    }

    public String str(String key) {
        String v = values.get(key);
        if (v == null) throw new IllegalStateException(scenario + " reads undeclared parameter " + key);
        return v;
    }

    public long num(String key) {
        String v = str(key);
        try {
            return parseSize(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("scenario " + scenario + ": parameter " + key + "=" + v + " is not a whole number");
        }
    }

    /** A positive whole number. */
    public long positive(String key) {
        long v = num(key);
        if (v <= 0) throw new IllegalArgumentException("scenario " + scenario + ": parameter " + key + "=" + v + " must be positive");
        return v;
    }

    public int cpus() {
        long v = positive("cpus");
        if (v > 4096) throw new IllegalArgumentException("scenario " + scenario + ": cpus=" + v + " is more than 4096");
        return (int) v;
    }

    public double fraction(String key) {
        String v = str(key);
        try {
            double d = Double.parseDouble(v);
            if (d < 0 || d > 1 || Double.isNaN(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("scenario " + scenario + ": parameter " + key + "=" + v + " is not a fraction in [0, 1]");
        }
    }

    /** {@code key=value} separated by spaces, every parameter with the value used (kmemlab.scenario.params). */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append(k).append('=').append(v));
        return sb.toString();
    }

    /** 65536, 64K, 64KiB, 1G, 512MiB, 1_000. */
    static long parseSize(String v) {
        String s = v.replace("_", "").trim();
        long mul = 1;
        String u = s.toUpperCase(java.util.Locale.ROOT);
        if (u.endsWith("IB")) u = u.substring(0, u.length() - 2);
        else if (u.endsWith("B") && u.length() > 1 && Character.isLetter(u.charAt(u.length() - 2))) u = u.substring(0, u.length() - 1);
        if (u.endsWith("K")) { mul = 1L << 10; u = u.substring(0, u.length() - 1); }
        else if (u.endsWith("M")) { mul = 1L << 20; u = u.substring(0, u.length() - 1); }
        else if (u.endsWith("G")) { mul = 1L << 30; u = u.substring(0, u.length() - 1); }
        return Math.multiplyExact(Long.parseLong(u), mul);
    }
}
