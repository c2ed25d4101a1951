package org.kmemlab.cli.notebook;

import java.util.List;

import org.kmemlab.analysis.report.Html;

/** A verdict cell's claims as a table with ✓ and ✗, and a line saying how many hold. */
final class Verdicts {
    private Verdicts() {}

    static Output.Rich render(List<CellRun.Claim> claims) {
        long held = claims.stream().filter(CellRun.Claim::held).count();
        String head = held == claims.size()
                ? "✓ all " + claims.size() + " claims hold"
                : "✗ " + (claims.size() - held) + " of " + claims.size() + " claims do not hold";
        StringBuilder h = new StringBuilder("<p class=\"verdict-head ").append(held == claims.size() ? "ok" : "bad").append("\">")
                .append(Html.esc(head)).append("</p>\n<table class=\"verdict\"><thead><tr><th>claim</th><th>expected</th><th>measured</th><th>holds</th></tr></thead><tbody>\n");
        int w = "claim".length(), we = "expected".length(), wm = "measured".length();
        for (CellRun.Claim c : claims) {
            w = Math.max(w, c.claim().length());
            we = Math.max(we, c.expected().length());
            wm = Math.max(wm, c.measured().length());
            h.append("<tr class=\"").append(c.held() ? "ok" : "bad").append("\"><td>").append(Html.esc(c.claim())).append("</td><td>")
                    .append(Html.esc(c.expected())).append("</td><td>").append(Html.esc(c.measured())).append("</td><td class=\"mark\">")
                    .append(mark(c)).append("</td></tr>\n");
        }
        h.append("</tbody></table>\n");
        StringBuilder p = new StringBuilder(head).append('\n');
        String fmt = "%-" + w + "s | %-" + we + "s | %-" + wm + "s | %s%n";
        p.append(String.format(fmt, "claim", "expected", "measured", "holds"));
        p.append("-".repeat(w)).append("-+-").append("-".repeat(we)).append("-+-").append("-".repeat(wm)).append("-+------\n");
        for (CellRun.Claim c : claims) p.append(String.format(fmt, c.claim(), c.expected(), c.measured(), mark(c)));
        return new Output.Rich(h.toString(), p.toString());
    }

    static String mark(CellRun.Claim c) {
        return c.holds() == null ? "✗ (NULL)" : c.held() ? "✓" : "✗";
    }
}
