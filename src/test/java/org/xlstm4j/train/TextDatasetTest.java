package org.xlstm4j.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.UserError;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class TextDatasetTest {
    /** Ids 0..n-1 (mod vocab) so that a window's start can be read off its first id. */
    private static Tokens counting(int n, int vocab) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = i % vocab;
        return new Tokens() {
            public int vocabSize() { return vocab; }
            public int[] ids() { return ids; }
            public String source() { return "counting"; }
        };
    }

    @Test void splitsNinetyTenAndShiftsTargets() {
        TextDataset d = new TextDataset(counting(1000, 1 << 20), 8, 7);
        assertEquals(900, d.trainTokens());
        assertEquals(100, d.valTokens());
        int B = 50, T = 8;
        int[] x = new int[B * T], y = new int[B * T];
        for (int step = 0; step < 20; step++) {
            d.sampleBatch(x, y, B, T, step, 0);
            for (int b = 0; b < B; b++) {
                int s = x[b * T];
                assertTrue(s >= 0 && s + T < 900, "train window " + s + " leaks out of the training split");
                for (int t = 0; t < T; t++) {
                    assertEquals(s + t, x[b * T + t]);
                    assertEquals(s + t + 1, y[b * T + t]);
                }
            }
        }
        boolean[] seen = new boolean[1000];
        for (int i = 0; i < 4; i++) {
            d.validationBatch(x, y, B, T, i, 4);
            for (int b = 0; b < B; b++) {
                int s = x[b * T];
                assertTrue(s >= 900 && s + T < 1000, "validation window " + s);
                assertEquals(s + 1, y[b * T]);
                seen[s] = true;
            }
        }
        assertTrue(seen[900] && seen[1000 - T - 1], "validation windows span the whole split");
    }

    @Test void batchesDependOnlyOnSeedStepAndMicroStep() {
        Tokens tok = counting(100_000, 1 << 20);
        TextDataset a = new TextDataset(tok, 16, 42), b = new TextDataset(tok, 16, 42), c = new TextDataset(tok, 16, 43);
        int n = 4 * 16;
        int[] x1 = new int[n], y1 = new int[n], x2 = new int[n], y2 = new int[n];
        b.sampleBatch(x2, y2, 4, 16, 0, 0);   // b has drawn other batches before: no hidden state
        a.sampleBatch(x1, y1, 4, 16, 5, 1);
        b.sampleBatch(x2, y2, 4, 16, 5, 1);
        assertArrayEquals(x1, x2);
        assertArrayEquals(y1, y2);
        b.sampleBatch(x2, y2, 4, 16, 5, 0);
        assertFalse(Arrays.equals(x1, x2), "micro-steps differ");
        b.sampleBatch(x2, y2, 4, 16, 6, 1);
        assertFalse(Arrays.equals(x1, x2), "steps differ");
        c.sampleBatch(x2, y2, 4, 16, 5, 1);
        assertFalse(Arrays.equals(x1, x2), "seeds differ");
        c.withSeed(42).sampleBatch(x2, y2, 4, 16, 5, 1);
        assertArrayEquals(x1, x2);
    }

    @Test void clearErrors(@TempDir Path dir) throws Exception {
        UserError missing = assertThrows(UserError.class, () -> ByteTokens.fromFile(dir.resolve("nope.txt")));
        assertTrue(missing.getMessage().contains("nope.txt") && missing.getMessage().contains("no such file"), missing.getMessage());
        Path empty = Files.createFile(dir.resolve("empty.txt"));
        assertTrue(assertThrows(UserError.class, () -> ByteTokens.fromFile(empty)).getMessage().contains("empty"));
        Path small = Files.writeString(dir.resolve("small.txt"), "x".repeat(300));
        ByteTokens tok = ByteTokens.fromFile(small);
        assertEquals(256, tok.vocabSize());
        // 300 bytes: 270 train, 30 validation; context 40 fits training but not validation
        UserError shortVal = assertThrows(UserError.class, () -> new TextDataset(tok, 40, 1));
        assertTrue(shortVal.getMessage().contains("validation split has 30 tokens")
                && shortVal.getMessage().contains("at least 41"), shortVal.getMessage());
        UserError shortTrain = assertThrows(UserError.class, () -> new TextDataset(tok, 400, 1));
        assertTrue(shortTrain.getMessage().contains("training split has 270 tokens"), shortTrain.getMessage());
        new TextDataset(tok, 29, 1);   // 30 tokens are enough for context 29
    }

    @Test void bytesAreIdsAndUtf8IsKept() {
        ByteTokens t = ByteTokens.of("aé".getBytes(StandardCharsets.UTF_8), "x");
        assertArrayEquals(new int[] {'a', 0xc3, 0xa9}, t.ids());
    }

    @Test void bundledKingJamesBible() {
        ByteTokens kjv = BundledCorpus.kjv();
        assertEquals(BundledCorpus.KJV, kjv.source());
        assertTrue(kjv.ids().length > 4_000_000);
        byte[] head = new byte[16];
        for (int i = 0; i < 16; i++) head[i] = (byte) kjv.ids()[i];
        assertEquals("In the beginning", new String(head, StandardCharsets.US_ASCII));
        assertEquals(kjv.ids().length, ByteTokens.open(BundledCorpus.KJV).ids().length);
    }
}
