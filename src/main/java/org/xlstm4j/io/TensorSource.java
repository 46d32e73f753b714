package org.xlstm4j.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.xlstm4j.io.SafetensorsException.quote;

/**
 * Named tensors read from disk: one safetensors file ({@link SafetensorsFile}) or a sharded checkpoint
 * ({@link ShardedSafetensors}). Data stays memory-mapped until a tensor is copied out with {@link #floats} or
 * {@link #longs}. All errors are {@link SafetensorsException}s with a one-line message naming the file.
 */
public interface TensorSource extends AutoCloseable {
    /** File name of a single-file checkpoint inside a model folder (Hugging Face convention). */
    String SINGLE_FILE_NAME = "model.safetensors";
    /** File name of the index of a sharded checkpoint inside a model folder (Hugging Face convention). */
    String INDEX_FILE_NAME = "model.safetensors.index.json";


    /**
     * Opens a checkpoint: a {@code .safetensors} file, a {@code *.index.json} file of a sharded checkpoint, or a folder
     * that holds {@value #SINGLE_FILE_NAME} or else {@value #INDEX_FILE_NAME}.
     */
    static TensorSource openCheckpoint(Path fileOrDir) {
        if (Files.isDirectory(fileOrDir)) {
            Path single = fileOrDir.resolve(SINGLE_FILE_NAME);
            if (Files.exists(single)) return SafetensorsFile.open(single);
            Path index = fileOrDir.resolve(INDEX_FILE_NAME);
            if (Files.exists(index)) return ShardedSafetensors.open(index);
            throw new SafetensorsException(fileOrDir + ": folder holds neither " + SINGLE_FILE_NAME + " nor " + INDEX_FILE_NAME);
        }
        if (!Files.exists(fileOrDir)) throw new SafetensorsException(fileOrDir + ": no such file or folder");
        Path name = fileOrDir.getFileName();
        if (name != null && name.toString().endsWith(".index.json")) return ShardedSafetensors.open(fileOrDir);
        return SafetensorsFile.open(fileOrDir);
    }

    /** The file this source was opened from (for a sharded checkpoint: its index file). */
    Path path();

    /** Tensor names, in file order. */
    List<String> names();

    /** True when a tensor of this name exists. */
    boolean contains(String name);

    /** Dtype, shape and byte range of a tensor; throws {@link SafetensorsException} when absent. */
    TensorInfo info(String name);

    /** The raw little-endian bytes of a tensor, memory-mapped (valid until {@link #close()}). */
    MemorySegment segment(String name);

    /** String metadata ({@code __metadata__} of a file, {@code metadata} of a sharded index); empty when absent. */
    Map<String, String> metadata();

    /** Releases the mappings. */
    @Override void close();

    /** Copies a floating-point tensor (F32, F64, BF16, F16) into a new float32 array (F64 is rounded). */
    default float[] floats(String name) {
        float[] out = new float[arrayLength(name, info(name))];
        floats(name, out, 0);
        return out;
    }

    /**
     * Copies a floating-point tensor (F32, F64, BF16, F16) as float32 into {@code dst[offset ..]}, all numel elements
     * (for loading straight into a parameter without an intermediate array).
     */
    default void floats(String name, float[] dst, int offset) {
        TensorInfo t = info(name);
        int n = arrayLength(name, t);
        if (offset < 0 || offset > dst.length - n)
            throw new IllegalArgumentException("tensor " + quote(name) + " has " + n + " elements; they do not fit in an array of "
                    + dst.length + " at offset " + offset);
        MemorySegment s = segment(name);
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(s, LittleEndian.F32, 0, dst, offset, n);
            case F64 -> { for (int i = 0; i < n; i++) dst[offset + i] = (float) s.getAtIndex(LittleEndian.F64, i); }
            case BF16 -> { for (int i = 0; i < n; i++) dst[offset + i] = BFloat16.toFloat(s.getAtIndex(LittleEndian.I16, i)); }
            case F16 -> { for (int i = 0; i < n; i++) dst[offset + i] = Float.float16ToFloat(s.getAtIndex(LittleEndian.I16, i)); }
            default -> throw new SafetensorsException(path() + ": tensor " + quote(name) + " is " + t.dtype()
                    + ", not a floating-point tensor");
        }
    }

    /** Copies an integer tensor (I64, I32, U8; BOOL as 0/1) into a new long array. */
    default long[] longs(String name) {
        TensorInfo t = info(name);
        int n = arrayLength(name, t);
        if (t.dtype().isFloatingPoint())
            throw new SafetensorsException(path() + ": tensor " + quote(name) + " is " + t.dtype() + ", not an integer tensor");
        MemorySegment s = segment(name);
        long[] out = new long[n];
        switch (t.dtype()) {
            case I64 -> MemorySegment.copy(s, LittleEndian.I64, 0, out, 0, n);
            case I32 -> { for (int i = 0; i < n; i++) out[i] = s.getAtIndex(LittleEndian.I32, i); }
            case U8 -> { for (int i = 0; i < n; i++) out[i] = s.get(ValueLayout.JAVA_BYTE, i) & 0xff; }
            case BOOL -> { for (int i = 0; i < n; i++) out[i] = s.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0; }
            default -> throw new AssertionError(t.dtype());
        }
        return out;
    }

    private int arrayLength(String name, TensorInfo t) {
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8)
            throw new SafetensorsException(path() + ": tensor " + quote(name) + " has " + n + " elements, too many for one Java array");
        return (int) n;
    }
}
