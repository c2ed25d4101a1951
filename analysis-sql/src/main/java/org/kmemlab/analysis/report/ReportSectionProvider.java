package org.kmemlab.analysis.report;

import java.util.List;

/**
 * Found with {@link java.util.ServiceLoader} ({@code META-INF/services/org.kmemlab.analysis.report.ReportSectionProvider}):
 * how a module that analysis-sql does not depend on, such as the replayer, contributes report sections.
 * It is given the context (which holds the replay output folder when one was passed) and returns the
 * sections it can fill, or none.
 */
public interface ReportSectionProvider {
    List<ReportSection> sections(ReportContext ctx) throws Exception;
}
