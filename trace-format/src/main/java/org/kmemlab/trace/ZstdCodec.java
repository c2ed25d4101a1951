package org.kmemlab.trace;

import java.nio.ByteBuffer;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import org.apache.arrow.compression.CommonsCompressionFactory;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.compression.AbstractCompressionCodec;
import org.apache.arrow.vector.compression.CompressionCodec;
import org.apache.arrow.vector.compression.CompressionUtil;
import org.apache.arrow.vector.compression.NoCompressionCodec;

/**
 * The ZSTD codec of Arrow IPC bodies (arrow-compression's {@code ZstdCompressionCodec}), with its zstd contexts
 * kept for the life of one writer or reader.
 *
 * <p>Arrow's codec calls {@code ZSTD_compress()} and {@code ZSTD_decompress()}, which build a new context for every
 * buffer: malloc its workspace, clear the match tables, free it. An import of tar compresses some 500 buffers, and
 * every fresh workspace is first-touched again: about 4,500 page faults per import, which on the developers' VMs
 * cost about 12 µs each (a PVM guest), a tenth of the import's CPU. A kept context clears its tables in memory
 * that is already mapped. Compressed output goes to one kept scratch buffer and is copied into a buffer of its
 * own size, so Arrow's per-buffer allocation of the compress bound (half a MiB, mmap'd and unmapped by malloc) is
 * gone too.
 *
 * <p>The frames are the ones {@code ZSTD_compress()} writes at the same level, byte for byte (a kept context with
 * only its level set takes the same parameters from the source size), so files do not change and any Arrow reader
 * reads them. One context of each kind serves every call: Arrow's writer compresses on the thread that writes
 * batches and a reader decompresses on the thread that loads them, but a consumer (DuckDB's scan of an exported
 * stream) may pull batches from more than one thread in turn, so the methods are synchronized.
 */
final class ZstdCodec extends AbstractCompressionCodec implements AutoCloseable {
    private final int level;
    private ZstdCompressCtx cctx;
    private ZstdDecompressCtx dctx;
    private ByteBuffer scratch;

    private ZstdCodec(int level) {
        this.level = level;
    }

    @Override
    protected synchronized ArrowBuf doCompress(BufferAllocator allocator, ArrowBuf uncompressed) {
        if (cctx == null) cctx = new ZstdCompressCtx().setLevel(level);
        long len = uncompressed.writerIndex();
        long bound = Zstd.compressBound(len);
        if (bound > Integer.MAX_VALUE) throw new IllegalArgumentException("a buffer of " + len + " bytes is too large to compress");
        if (scratch == null || scratch.capacity() < bound) scratch = ByteBuffer.allocateDirect((int) Math.max(bound, 1 << 20));
        int n = cctx.compressDirectByteBuffer(scratch, 0, (int) bound, uncompressed.nioBuffer(0, (int) len), 0, (int) len);
        ArrowBuf out = allocator.buffer(CompressionUtil.SIZE_OF_UNCOMPRESSED_LENGTH + n);
        out.setBytes(CompressionUtil.SIZE_OF_UNCOMPRESSED_LENGTH, scratch, 0, n);
        out.writerIndex(CompressionUtil.SIZE_OF_UNCOMPRESSED_LENGTH + n);
        return out;
    }

    @Override
    protected synchronized ArrowBuf doDecompress(BufferAllocator allocator, ArrowBuf compressed) {
        if (dctx == null) dctx = new ZstdDecompressCtx();
        long want = readUncompressedLength(compressed);
        long have = compressed.writerIndex() - CompressionUtil.SIZE_OF_UNCOMPRESSED_LENGTH;
        if (want > Integer.MAX_VALUE || have > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a compressed buffer of " + have + " bytes claims " + want + " bytes");
        }
        ArrowBuf out = allocator.buffer(want);
        try {
            int n = dctx.decompressDirectByteBuffer(out.nioBuffer(0, (int) want), 0, (int) want,
                    compressed.nioBuffer(CompressionUtil.SIZE_OF_UNCOMPRESSED_LENGTH, (int) have), 0, (int) have);
            if (n != want) throw new IllegalArgumentException("expected " + want + " decompressed bytes, got " + n);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        out.writerIndex(want);
        return out;
    }

    @Override
    public CompressionUtil.CodecType getCodecType() {
        return CompressionUtil.CodecType.ZSTD;
    }

    @Override
    public synchronized void close() {
        if (cctx != null) cctx.close();
        if (dctx != null) dctx.close();
        cctx = null;
        dctx = null;
        scratch = null;
    }

    /**
     * Hands out one {@link ZstdCodec} for ZSTD bodies (Arrow's readers ask the factory again for every batch);
     * LZ4_FRAME, which other Arrow writers may use, goes to arrow-compression's codec. Close it with its writer or
     * reader to free the zstd contexts.
     */
    static final class Factory implements CompressionCodec.Factory, AutoCloseable {
        private final ZstdCodec zstd;

        Factory(int level) {
            zstd = new ZstdCodec(level);
        }

        Factory() {
            this(Zstd.defaultCompressionLevel());
        }

        @Override
        public CompressionCodec createCodec(CompressionUtil.CodecType type) {
            return switch (type) {
                case ZSTD -> zstd;
                case NO_COMPRESSION -> NoCompressionCodec.INSTANCE;
                default -> CommonsCompressionFactory.INSTANCE.createCodec(type);
            };
        }

        @Override
        public CompressionCodec createCodec(CompressionUtil.CodecType type, int level) {
            if (type == CompressionUtil.CodecType.ZSTD && level != zstd.level) {
                throw new IllegalArgumentException("this factory compresses at zstd level " + zstd.level + ", not " + level);
            }
            return type == CompressionUtil.CodecType.ZSTD ? zstd : CommonsCompressionFactory.INSTANCE.createCodec(type, level);
        }

        @Override
        public void close() {
            zstd.close();
        }
    }
}
