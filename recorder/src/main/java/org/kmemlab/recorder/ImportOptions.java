package org.kmemlab.recorder;

import java.nio.file.Path;
import java.util.function.LongConsumer;

import org.kmemlab.trace.GfpCodec;

/**
 * How to import. {@code kernelRelease} picks the GFP layout when the source does not say (text formats);
 * {@code progress} receives bytes consumed so far, for progress bars. {@code kallsyms}, when set, is the
 * recording machine's {@code /proc/kallsyms} (same boot) used to symbolise call-site addresses of binary
 * traces whose file carries no symbols.
 */
public record ImportOptions(boolean strict, String kernelRelease, LongConsumer progress, Path kallsyms) {
    public ImportOptions(boolean strict, String kernelRelease, LongConsumer progress) {
        this(strict, kernelRelease, progress, null);
    }

    public static ImportOptions defaults() { return new ImportOptions(false, null, b -> { }, null); }

    public GfpCodec gfpCodec() { return GfpCodec.forRelease(kernelRelease); }

    public ImportOptions withStrict(boolean s) { return new ImportOptions(s, kernelRelease, progress, kallsyms); }

    public ImportOptions withKernelRelease(String k) { return new ImportOptions(strict, k, progress, kallsyms); }

    public ImportOptions withProgress(LongConsumer p) { return new ImportOptions(strict, kernelRelease, p, kallsyms); }

    public ImportOptions withKallsyms(Path k) { return new ImportOptions(strict, kernelRelease, progress, k); }
}
