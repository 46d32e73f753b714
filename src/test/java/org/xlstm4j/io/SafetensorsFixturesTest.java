package org.xlstm4j.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The official fixtures (written by the official safetensors writer through PyTorch / Hugging Face): every file reads,
 * the writer reproduces them, and the sharded checkpoint equals the single-file one.
 */
class SafetensorsFixturesTest {

    @Test void everyFixtureFileReadsCompletely() {
        List<Path> files = IoFixtures.allSafetensorsFiles();
        assertTrue(files.size() >= 15, "fixtures present: " + files);
        for (Path p : files) {
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                assertFalse(f.names().isEmpty(), p.toString());
                long bytes = 0;
                for (String name : f.names()) {
                    TensorInfo t = f.info(name);
                    bytes += t.byteSize();
                    assertEquals(t.numel() * t.dtype().byteSize, t.byteSize());
                    if (t.dtype().isFloatingPoint()) {
                        float[] v = f.floats(name);
                        assertEquals(t.numel(), v.length);
                        for (float x : v) assertTrue(Float.isFinite(x), p + " " + name + " holds " + x);
                    } else {
                        assertEquals(t.numel(), f.longs(name).length);
                    }
                }
                assertEquals(f.dataBytes(), bytes, p + ": tensors tile the data section");
            }
        }
    }

    /**
     * Writing the tensors of an official file again gives the same bytes: same layout order, JSON formatting and
     * padding. Some official writer versions put {@code __metadata__} last instead of first; for those files the header
     * must be the same JSON and the data section byte-identical.
     */
    @Test void writerReproducesOfficialFilesByteForByte() throws IOException {
        ObjectMapper json = new ObjectMapper();
        int identical = 0;
        for (Path p : IoFixtures.allSafetensorsFiles()) {
            byte[] original = Files.readAllBytes(p);
            byte[] rewritten;
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                SafetensorsWriter w = new SafetensorsWriter().metadata(f.metadata());
                for (String name : f.names()) w.copy(f, name);
                rewritten = w.toByteArray();
            }
            String header = IoFixtures.headerText(original);
            boolean metadataFirstOrAbsent = !header.contains("\"__metadata__\"") || header.startsWith("{\"__metadata__\"");
            if (metadataFirstOrAbsent) {
                assertArrayEquals(original, rewritten, p.toString());
                identical++;
            } else {
                assertEquals(original.length, rewritten.length, p.toString());
                assertEquals(json.readTree(header), json.readTree(IoFixtures.headerText(rewritten)), p.toString());
                int dataStart = 8 + header.length();
                assertArrayEquals(Arrays.copyOfRange(original, dataStart, original.length),
                        Arrays.copyOfRange(rewritten, dataStart, rewritten.length), p.toString());
            }
        }
        assertTrue(identical >= 12, "most fixtures are compared byte for byte: " + identical);
    }

    @Test void shardedCheckpointEqualsTheSingleFile() {
        try (TensorSource single = TensorSource.openCheckpoint(IoFixtures.fixture("hf_tiny_bf16"));
             TensorSource sharded = TensorSource.openCheckpoint(IoFixtures.fixture("hf_tiny_bf16_sharded"))) {
            assertInstanceOf(SafetensorsFile.class, single);
            ShardedSafetensors s = assertInstanceOf(ShardedSafetensors.class, sharded);
            assertEquals(3, s.shards().size());
            assertEquals(new HashSet<>(single.names()), new HashSet<>(sharded.names()));
            assertEquals(single.names().size(), sharded.names().size());
            long total = 0;
            for (String name : single.names()) {
                TensorInfo a = single.info(name), b = sharded.info(name);
                assertTrue(a.sameTypeAndShape(b), name);
                assertEquals(-1, single.segment(name).mismatch(sharded.segment(name)), name + ": same bytes");
                assertArrayEquals(single.floats(name), sharded.floats(name), name);
                total += b.byteSize();
            }
            assertEquals(Long.toString(total), sharded.metadata().get("total_size"), "index total_size");
            assertEquals("pt", single.metadata().get("format"));
        }
        // the index file itself can be given too
        try (TensorSource viaIndex = TensorSource.openCheckpoint(
                IoFixtures.fixture("hf_tiny_bf16_sharded").resolve(TensorSource.INDEX_FILE_NAME))) {
            assertInstanceOf(ShardedSafetensors.class, viaIndex);
        }
    }

    @Test void singleFileCheckpointsOpenFromTheirFolder() {
        for (String folder : List.of("hf_tiny", "paper_m", "paper_s", "paper_mix")) {
            try (TensorSource src = TensorSource.openCheckpoint(IoFixtures.fixture(folder))) {
                assertEquals(IoFixtures.fixture(folder).resolve("model.safetensors"), src.path());
            }
        }
    }
}
