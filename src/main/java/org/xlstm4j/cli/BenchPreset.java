package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.model.XLstmConfig;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The model presets of the training and decoding benchmarks ({@code xlstm bench train}, {@code bench decode --preset}),
 * mirrored by the PyTorch peer {@code bench/pytorch/xlstm_peer.py}: vocabulary 256; mLSTM layers with 4 heads, conv 4,
 * qkv block size 4, projection factor 2; sLSTM layers with 4 heads, conv 4 and a gated GELU FFN of factor 1.3.
 * {@code tiny} = embedding 128, 4 blocks; {@code small} = embedding 384, 6 blocks. Kind {@code m} = mLSTM blocks only,
 * {@code s} = sLSTM blocks only, {@code ms} = sLSTM at the odd positions (1, 3, 5).
 */
public enum BenchPreset {
    M_TINY("m-tiny", "m", 128, 4),
    MS_TINY("ms-tiny", "ms", 128, 4),
    S_TINY("s-tiny", "s", 128, 4),
    M_SMALL("m-small", "m", 384, 6),
    MS_SMALL("ms-small", "ms", 384, 6);

    /** Batch size and sequence length of the training benchmark. */
    public static final int BATCH = 8, SEQUENCE = 256;

    public final String label, kind;
    public final int embeddingDim, numBlocks;

    BenchPreset(String label, String kind, int embeddingDim, int numBlocks) {
        this.label = label;
        this.kind = kind;
        this.embeddingDim = embeddingDim;
        this.numBlocks = numBlocks;
    }

    /** The preset named {@code name} (e.g. "ms-small"); a {@link UserError} listing the names otherwise. */
    public static BenchPreset of(String name) {
        for (BenchPreset p : values()) if (p.label.equals(name)) return p;
        throw new UserError("unknown preset '" + name + "'; known: " + names());
    }

    public static String names() {
        return Arrays.stream(values()).map(p -> p.label).collect(Collectors.joining(", "));
    }

    /** The official-format configuration of this preset (context length {@code contextLength}). */
    public XLstmConfig config(int contextLength) {
        XLstmConfig c = new XLstmConfig();
        c.vocabSize = 256;
        c.embeddingDim = embeddingDim;
        c.numBlocks = numBlocks;
        c.contextLength = contextLength;
        c.mlstmNumHeads = 4;
        c.mlstmConvKernel = 4;
        c.mlstmQkvBlocksize = 4;
        c.mlstmProjFactor = 2.0;
        c.slstmNumHeads = 4;
        c.slstmConvKernel = 4;
        c.ffnProjFactor = 1.3;
        c.ffnActFn = "gelu";
        switch (kind) {
            case "m" -> { c.slstmAt = new int[0]; c.hasSLstm = false; }
            case "s" -> {
                c.slstmAt = new int[numBlocks];
                for (int i = 0; i < numBlocks; i++) c.slstmAt[i] = i;
                c.hasSLstm = true;
            }
            case "ms" -> {
                c.slstmAt = new int[numBlocks / 2];
                for (int i = 0; i < c.slstmAt.length; i++) c.slstmAt[i] = 2 * i + 1;
                c.hasSLstm = true;
            }
            default -> throw new IllegalStateException(kind);
        }
        return c.validate();
    }
}
