package org.xlstm4j.large;

/** Small xLSTM-Large configs for tests: two heads, the given sizes, everything else at the config's defaults. */
public final class TinyLargeConfig {
    private TinyLargeConfig() {}

    /**
     * vocab, embedding size E, blocks and chunk size as given, 2 heads; {@code ffnMultiple} > 0 rounds the FFN size up
     * to that multiple (else the default). Not yet validated, so a test can change more fields first.
     */
    public static LargeConfig of(int vocab, int E, int blocks, int chunk, int ffnMultiple) {
        LargeConfig c = new LargeConfig();
        c.vocabSize = vocab;
        c.embeddingDim = E;
        c.numHeads = 2;
        c.numBlocks = blocks;
        c.chunkSize = chunk;
        if (ffnMultiple > 0) c.ffnRoundUpToMultipleOf = ffnMultiple;
        return c;
    }
}
