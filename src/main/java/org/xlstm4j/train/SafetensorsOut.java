package org.xlstm4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Minimal float32 safetensors writer (header length, JSON header padded to 8 bytes, little-endian data), fsynced.
 * A private stand-in until {@code org.xlstm4j.io.SafetensorsWriter} is available.
 */
final class SafetensorsOut {
    private SafetensorsOut() {}

    /** One float32 tensor to write. */
    record Tensor(int[] shape, float[] data) {}

    /** Creates (or truncates) {@code file} with the tensors in map order plus string {@code metadata}, then fsyncs it. */
    static void writeF32(Path file, SequencedMap<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            long n = 1;
            for (int d : t.shape()) n *= d;
            if (n != t.data().length) throw new IllegalArgumentException(e.getKey() + ": shape does not match data length");
            ObjectNode o = header.putObject(e.getKey());
            o.put("dtype", "F32");
            var shape = o.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            o.putArray("data_offsets").add(offset).add(offset + 4L * n);
            offset += 4L * n;
        }
        byte[] h = json.writeValueAsBytes(header);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(h);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (head.hasRemaining()) ch.write(head);
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor t : tensors.values()) {
                float[] d = t.data();
                for (int i = 0; i < d.length; ) {
                    int n = Math.min(d.length - i, buf.capacity() / 4);
                    buf.clear();
                    buf.asFloatBuffer().put(d, i, n);
                    buf.limit(4 * n);
                    while (buf.hasRemaining()) ch.write(buf);
                    i += n;
                }
            }
            ch.force(true);
        }
    }
}
