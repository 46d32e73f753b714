package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.model.XLstmConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The paper model's architecture knobs as flags; each overrides the value from --model-config (or the default). */
final class ModelOptions {
    @Option(names = "--model-config", paramLabel = "FILE", description = "official xLSTMLMModelConfig JSON (as in a checkpoint's config.json); flags below override it")
    Path modelConfig;
    @Option(names = "--embedding-dim", description = "embedding width E (default 128)")
    Integer embeddingDim;
    @Option(names = "--num-blocks", description = "number of blocks (default 4)")
    Integer numBlocks;
    @Option(names = "--slstm-at", paramLabel = "LIST", description = "sLSTM block positions: comma list, 'all' or 'none' (default 1,3: xLSTM[1:1])")
    String slstmAt;
    @Option(names = "--mlstm-heads", description = "mLSTM heads (default 4)")
    Integer mlstmHeads;
    @Option(names = "--slstm-heads", description = "sLSTM heads (default 4)")
    Integer slstmHeads;
    @Option(names = "--mlstm-proj-factor", description = "mLSTM up-projection factor (default 2.0)")
    Double mlstmProjFactor;
    @Option(names = "--ffn-proj-factor", description = "sLSTM block gated FFN factor (default 1.3)")
    Double ffnProjFactor;
    @Option(names = "--conv-kernel", description = "causal conv kernel size of both block kinds, 0 disables (default 4)")
    Integer convKernel;
    @Option(names = "--qkv-blocksize", description = "mLSTM headwise q/k/v block size (default 4)")
    Integer qkvBlocksize;
    @Option(names = "--tie-weights", description = "tie the LM head to the embedding")
    Boolean tieWeights;
    @Option(names = "--no-post-norm", description = "no LayerNorm after the last block")
    boolean noPostNorm;

    /** The first architecture flag given on the command line (e.g. "--embedding-dim"), or null when there is none. */
    String firstGiven() {
        Object[][] given = {{modelConfig, "--model-config"}, {embeddingDim, "--embedding-dim"}, {numBlocks, "--num-blocks"},
                {slstmAt, "--slstm-at"}, {mlstmHeads, "--mlstm-heads"}, {slstmHeads, "--slstm-heads"},
                {mlstmProjFactor, "--mlstm-proj-factor"}, {ffnProjFactor, "--ffn-proj-factor"}, {convKernel, "--conv-kernel"},
                {qkvBlocksize, "--qkv-blocksize"}, {tieWeights, "--tie-weights"}, {noPostNorm ? true : null, "--no-post-norm"}};
        for (Object[] g : given) if (g[0] != null) return (String) g[1];
        return null;
    }

    /** The default small model of `xlstm train`: byte-level xLSTM[1:1], E=128, 4 blocks, sLSTM at 1 and 3. */
    static XLstmConfig defaults() {
        XLstmConfig c = new XLstmConfig();
        c.vocabSize = 256;
        c.embeddingDim = 128;
        c.numBlocks = 4;
        c.slstmAt = new int[]{1, 3};
        c.hasSLstm = true;
        return c;
    }

    XLstmConfig build(int vocabSize, int contextLength) {
        XLstmConfig c = modelConfig != null ? XLstmConfig.load(modelConfig) : defaults();
        if (embeddingDim != null) c.embeddingDim = embeddingDim;
        if (numBlocks != null) c.numBlocks = numBlocks;
        if (slstmAt != null) c.slstmAt = parsePositions(slstmAt, c.numBlocks);
        if (mlstmHeads != null) c.mlstmNumHeads = mlstmHeads;
        if (slstmHeads != null) c.slstmNumHeads = slstmHeads;
        if (mlstmProjFactor != null) c.mlstmProjFactor = mlstmProjFactor;
        if (ffnProjFactor != null) c.ffnProjFactor = ffnProjFactor;
        if (convKernel != null) { c.mlstmConvKernel = convKernel; c.slstmConvKernel = convKernel; }
        if (qkvBlocksize != null) c.mlstmQkvBlocksize = qkvBlocksize;
        if (tieWeights != null) c.tieWeights = tieWeights;
        if (noPostNorm) c.addPostBlocksNorm = false;
        if (slstmAt != null) {
            c.hasMLstm = c.slstmAt.length < c.numBlocks;   // every block sLSTM: the official "mlstm_block": null
            c.hasSLstm = c.slstmAt.length > 0;
        }
        if (modelConfig != null && c.vocabSize != vocabSize)
            throw new UserError(modelConfig + ": vocab_size " + c.vocabSize + " does not match the data's vocabulary (" + vocabSize + ")");
        c.vocabSize = vocabSize;
        c.contextLength = contextLength;
        return c.validate();
    }

    static int[] parsePositions(String s, int numBlocks) {
        s = s.trim();
        if (s.equals("none") || s.isEmpty()) return new int[0];
        if (s.equals("all")) {
            int[] r = new int[numBlocks];
            for (int i = 0; i < numBlocks; i++) r[i] = i;
            return r;
        }
        String[] parts = s.split(",");
        int[] r = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                r[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new UserError("--slstm-at: '" + parts[i].trim() + "' is not a block index (use e.g. 1,3 or all or none)");
            }
        }
        return r;
    }
}
