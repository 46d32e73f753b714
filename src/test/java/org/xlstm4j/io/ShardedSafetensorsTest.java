package org.xlstm4j.io;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Sharded checkpoints: index validation against the shards, and TensorSource.openCheckpoint's choices and errors. */
class ShardedSafetensorsTest {
    @TempDir Path dir;
    private Path index;
    private String indexText;

    /** A writable copy of the official sharded fixture. */
    @BeforeEach void copyFixture() throws IOException {
        Path src = IoFixtures.fixture("hf_tiny_bf16_sharded");
        try (Stream<Path> s = Files.list(src)) {
            for (Path p : s.toList()) Files.copy(p, dir.resolve(p.getFileName()));
        }
        index = dir.resolve(TensorSource.INDEX_FILE_NAME);
        indexText = Files.readString(index);
    }

    private void rejects(String expected) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> TensorSource.openCheckpoint(dir).close());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    private static final String SHARD1 = "model-00001-of-00003.safetensors";
    private static final String SHARD2 = "model-00002-of-00003.safetensors";
    private static final String EMBEDDING = "\"backbone.embeddings.weight\": \"" + SHARD1 + "\"";

    @Test void theCopyOpens() {
        try (TensorSource s = TensorSource.openCheckpoint(dir)) {
            assertEquals(index, s.path());
            assertTrue(s.contains("backbone.embeddings.weight"));
            assertEquals(dir.resolve(SHARD1), ((ShardedSafetensors) s).shard("backbone.embeddings.weight").path());
        }
    }

    @Test void missingShard() throws IOException {
        Files.delete(dir.resolve(SHARD2));
        rejects("shard '" + SHARD2 + "' does not exist");
    }

    @Test void corruptShardIsReportedWithItsOwnName() throws IOException {
        byte[] b = Files.readAllBytes(dir.resolve(SHARD2));
        Files.write(dir.resolve(SHARD2), java.util.Arrays.copyOf(b, b.length - 1));
        rejects(dir.resolve(SHARD2) + ": not a valid safetensors file");
    }

    @Test void tensorMappedToAShardThatDoesNotHoldIt() throws IOException {
        assertTrue(indexText.contains(EMBEDDING));
        Files.writeString(index, indexText.replace(EMBEDDING, EMBEDDING.replace(SHARD1, SHARD2)));
        rejects("tensor 'backbone.embeddings.weight' is mapped to shard '" + SHARD2 + "', which does not hold it");
    }

    @Test void shardHoldsATensorTheIndexDoesNotList() throws IOException {
        Files.writeString(index, indexText.replace(EMBEDDING + ",", ""));
        rejects("holds tensor 'backbone.embeddings.weight', which the index does not list");
    }

    @Test void malformedIndexes() throws IOException {
        Files.writeString(index, indexText.substring(0, indexText.length() / 2));
        rejects("malformed JSON");
        Files.writeString(index, "{\"metadata\": {}}");
        rejects("no 'weight_map'");
        Files.writeString(index, "{\"weight_map\": {}}");
        rejects("lists no tensors");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"" + SHARD1 + "\", \"a\": \"" + SHARD2 + "\"}}");
        rejects("tensor 'a' is listed twice");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"../" + SHARD1 + "\"}}");
        rejects("not a plain file name");
        Files.writeString(index, "{\"weight_map\": {\"a\": 3}}");
        rejects("not a file name string");
        Files.writeString(index, "[]");
        rejects("not a JSON object");
        Files.writeString(index, "{\"weight_map\": {}, \"weight_map\": {}}");
        rejects("duplicate key 'weight_map'");
    }

    /** A checkpoint resharded by our own writer (two shards, index written atomically) equals the original. */
    @Test void reshardingWithTheWriterRoundTrips() throws IOException {
        Path out = dir.resolve("resharded");
        Files.createDirectory(out);
        try (TensorSource original = TensorSource.openCheckpoint(IoFixtures.fixture("hf_tiny_bf16"))) {
            List<String> names = original.names();
            SafetensorsWriter a = new SafetensorsWriter().metadata("format", "pt");
            SafetensorsWriter b = new SafetensorsWriter().metadata("format", "pt");
            StringBuilder map = new StringBuilder();
            List<String> entries = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                String shard = i % 2 == 0 ? "a.safetensors" : "b.safetensors";
                (i % 2 == 0 ? a : b).copy(original, names.get(i));
                entries.add("\"" + names.get(i) + "\":\"" + shard + "\"");
            }
            map.append(String.join(",", entries));
            a.write(out.resolve("a.safetensors"));
            b.write(out.resolve("b.safetensors"));
            AtomicFiles.writeString(out.resolve(TensorSource.INDEX_FILE_NAME),
                    "{\"metadata\":{\"total_size\":0},\"weight_map\":{" + map + "}}");
            try (TensorSource resharded = TensorSource.openCheckpoint(out)) {
                assertEquals(names, resharded.names());
                for (String n : names) assertEquals(-1, original.segment(n).mismatch(resharded.segment(n)), n);
                assertEquals("0", resharded.metadata().get("total_size"));
            }
        }
    }

    @Test void openCheckpointExplainsWhatItLooksFor() throws IOException {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> TensorSource.openCheckpoint(empty));
        assertEquals(empty + ": folder holds neither model.safetensors nor model.safetensors.index.json", e.getMessage());
        Path missing = dir.resolve("missing");
        e = assertThrows(SafetensorsException.class, () -> TensorSource.openCheckpoint(missing));
        assertEquals(missing + ": no such file or folder", e.getMessage());
    }

    @Test void aSingleFileWinsOverAnIndex() throws IOException {
        Files.copy(IoFixtures.fixture("hf_tiny_bf16").resolve("model.safetensors"), dir.resolve("model.safetensors"));
        try (TensorSource s = TensorSource.openCheckpoint(dir)) {
            assertInstanceOf(SafetensorsFile.class, s);
        }
    }
}
