package org.kmemlab.recorder;

import java.util.function.LongConsumer;

import org.kmemlab.trace.GfpCodec;

/**
 * How to import. {@code kernelRelease} picks the GFP layout when the source does not say (text formats);
 * {@code progress} receives bytes consumed so far, for progress bars.
 */
public record ImportOptions(boolean strict, String kernelRelease, LongConsumer progress) {
    public static ImportOptions defaults() { return new ImportOptions(false, null, b -> { }); }

    public GfpCodec gfpCodec() { return GfpCodec.forRelease(kernelRelease); }

    public ImportOptions withStrict(boolean s) { return new ImportOptions(s, kernelRelease, progress); }

    public ImportOptions withKernelRelease(String k) { return new ImportOptions(strict, k, progress); }

    public ImportOptions withProgress(LongConsumer p) { return new ImportOptions(strict, kernelRelease, p); }
}
