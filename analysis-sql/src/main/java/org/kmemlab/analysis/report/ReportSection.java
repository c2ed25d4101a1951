package org.kmemlab.analysis.report;

/**
 * One section of the HTML report. The trace-only sections live in this package; the replayer adds its
 * own (policy comparison, per-policy hot paths and flame graphs, fidelity, deadlocks) by implementing
 * this interface and publishing a {@link ReportSectionProvider}. A provided section whose {@link #id()}
 * equals a placeholder's takes the placeholder's place, so the report's order stays stable.
 */
public interface ReportSection {
    /** The HTML anchor and the key that placeholders are replaced by; lower-case with dashes. */
    String id();

    /** The heading, also used in the table of contents. */
    String title();

    /** Appends the section's body (without its heading) to the page. */
    void render(ReportContext ctx, Html out) throws Exception;
}
