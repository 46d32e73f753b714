package org.xlstm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.cli.CliRun.Result;
import org.xlstm4j.io.TensorInfo;
import org.xlstm4j.io.TensorSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.cli.CliRun.run;

/** {@code xlstm inspect}: what it prints for files and folders, and one-line errors with exit code 2. */
class InspectCommandTest {
    @TempDir Path dir;

    private static Path fixture(String folder) {
        return org.xlstm4j.Fixtures.fixture(folder);
    }

    /** Every tensor line, the parameter total and the metadata, computed here from the file itself. */
    private static void assertListsEverything(String out, TensorSource src) {
        long total = 0;
        for (String name : src.names()) {
            TensorInfo t = src.info(name);
            total += t.numel();
            assertTrue(out.lines().anyMatch(l -> l.trim().matches("\\Q" + name + "\\E\\s+" + t.dtype() + "\\s+\\Q"
                    + Arrays.toString(t.shape()) + "\\E")), "line for " + name + " in:\n" + out);
        }
        assertTrue(out.contains("tensors (" + src.names().size() + "):"), out);
        assertTrue(out.contains("parameters: " + String.format(Locale.ROOT, "%,d", total) + " "), out);
        for (Map.Entry<String, String> m : src.metadata().entrySet())
            assertTrue(out.contains("  " + m.getKey() + ": " + m.getValue()), out);
    }

    @Test void inspectsAFile() throws Exception {
        Path file = fixture("paper_m").resolve("model.safetensors");
        Result r = run("inspect", file.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().startsWith(file + ": safetensors file"), r.out());
        assertTrue(r.out().contains("metadata: none"), r.out());
        assertFalse(r.out().contains("config.json"), "config only for folders");
        try (TensorSource src = TensorSource.openCheckpoint(file)) {
            assertListsEverything(r.out(), src);
        }
    }

    @Test void inspectsAShardedFolderWithItsConfig() throws Exception {
        Path folder = fixture("hf_tiny_bf16_sharded");
        Result r = run("inspect", folder.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("sharded checkpoint, 3 shards"), r.out());
        assertTrue(r.out().contains("model-00002-of-00003.safetensors"), r.out());
        try (TensorSource src = TensorSource.openCheckpoint(folder)) {
            assertListsEverything(r.out(), src);
        }
        JsonNode config = new ObjectMapper().readTree(folder.resolve("config.json").toFile());
        assertTrue(r.out().contains("config.json:"), r.out());
        String configPart = r.out().substring(r.out().indexOf("config.json:"));
        for (Map.Entry<String, JsonNode> e : config.properties()) {
            String line = configPart.lines().filter(l -> l.startsWith("  " + e.getKey() + ": ")).findFirst()
                    .orElseThrow(() -> new AssertionError(e.getKey() + " missing in:\n" + r.out()));
            String shown = line.substring(e.getKey().length() + 4);
            JsonNode v = e.getValue();
            if (v.isTextual()) assertEquals(v.asText(), shown);
            else assertEquals(v, new ObjectMapper().readTree(shown), e.getKey()); // same JSON value (numbers as written)
        }
        assertTrue(configPart.contains("  eps: 1e-06\n"), "numbers keep their original text");
    }

    @Test void aCorruptFileGivesExitCode2AndOneLine() throws Exception {
        byte[] good = Files.readAllBytes(fixture("paper_s").resolve("model.safetensors"));
        Path bad = dir.resolve("bad.safetensors");
        Files.write(bad, Arrays.copyOf(good, good.length - 3));
        Result r = run("inspect", bad.toString());
        assertEquals(2, r.code());
        assertEquals("", r.out());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, r.err());
        assertTrue(lines[0].startsWith("xlstm: error: " + bad + ": not a valid safetensors file"), lines[0]);
    }

    @Test void missingPathAndBadConfigAreUserErrors() throws IOException {
        Result r = run("inspect", dir.resolve("nothing").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no such file or folder"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        Files.copy(Path.of(fixtureUnchecked("paper_m")).resolve("model.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), "{\"a\": ");
        r = run("inspect", dir.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().strip().startsWith("xlstm: error: " + dir.resolve("config.json") + ": malformed JSON"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    private static String fixtureUnchecked(String folder) {
        try {
            return fixture(folder).toString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
