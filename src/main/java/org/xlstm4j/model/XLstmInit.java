package org.xlstm4j.model;

import org.xlstm4j.layers.Init;

import java.util.Random;
import java.util.random.RandomGenerator;

/**
 * The official initialisation of the paper model (spec §2.3, §4.1, §4.2), including the embedding and head init that
 * the official code applies in {@code reset_parameters()}. Parameters are visited in {@link XLstmLM#parameters()}
 * order with one seeded generator, so a seed fixes the model.
 */
public final class XLstmInit {
    private XLstmInit() {}

    public static void apply(XLstmLM model, long seed) {
        XLstmConfig c = model.config;
        RandomGenerator rng = new Random(seed);
        int E = c.embeddingDim;
        for (Param p : model.parameters()) {
            String n = p.name;
            int block = blockIndex(n);
            if (n.equals("token_embedding.weight") || n.equals("lm_head.weight")) Init.smallInit(p, E, rng);
            else if (n.endsWith("norm.weight")) Init.constant(p, 0f);                  // LN scale stored as 1 + w
            else if (n.endsWith("learnable_skip")) Init.constant(p, 1f);
            else if (n.endsWith("conv1d.conv.weight") || n.endsWith("conv1d.conv.bias")) {
                int k = n.contains("blocks." + block + ".xlstm.") && c.isSLstm(block) ? c.slstmConvKernel : c.mlstmConvKernel;
                double bound = 1.0 / Math.sqrt(k);                                      // PyTorch Conv1d default, fan_in = K
                Init.uniform(p, -bound, bound, rng);
            } else if (n.endsWith("mlstm_cell.igate.weight") || n.endsWith("mlstm_cell.fgate.weight")) Init.constant(p, 0f);
            else if (n.endsWith("mlstm_cell.igate.bias")) Init.normal(p, 0.1, rng);
            else if (n.endsWith("mlstm_cell.fgate.bias")) Init.linspace(p, 3.0, 6.0);
            else if (n.endsWith("ffn.proj_down.weight")) Init.wangInit(p, E, 1, rng);     // FeedForwardConfig._num_blocks stays 1 in the official config
            else if (n.endsWith("xlstm.proj_down.weight")) Init.wangInit(p, E, c.numBlocks, rng);
            else if (n.endsWith("slstm_cell._recurrent_kernel_")) {
                if (c.slstmRecurrentWeightInit.equals("standard")) Init.uniform(p, -1 / Math.sqrt(E), 1 / Math.sqrt(E), rng);
                else Init.constant(p, 0f);
            } else if (n.endsWith("slstm_cell._bias_")) slstmBias(p, c, block);
            else if (n.endsWith(".bias")) Init.constant(p, 0f);
            else Init.smallInit(p, E, rng);    // proj_up, q/k/v, sLSTM gate projections, FFN proj_up
        }
    }

    /** sLSTM bias init (spec §2.3), vanilla layout (4, NH, DH): only the forget-gate slot (index 1) is non-zero. */
    static void slstmBias(Param p, XLstmConfig c, int block) {
        java.util.Arrays.fill(p.data, 0f);
        int E = c.embeddingDim, NH = c.slstmNumHeads, DH = E / NH;
        switch (c.slstmBiasInit) {
            case "powerlaw_blockdependent" -> {
                double r = c.numBlocks > 1 ? (double) block / (c.numBlocks - 1) : 0.0;
                for (int h = 0; h < NH; h++)
                    for (int j = 0; j < DH; j++) {
                        double frac = DH > 1 ? (double) j / (DH - 1) : 0.0;
                        p.data[E + h * DH + j] = (float) -(-5.0 + 12.0 * Math.pow(frac, 0.3 + 1.3 * r));
                    }
            }
            case "small_init" -> {
                for (int h = 0; h < NH; h++)
                    for (int j = 0; j < DH; j++)
                        p.data[E + h * DH + j] = (float) (DH > 1 ? 3.0 + 3.0 * j / (DH - 1) : 3.0);
            }
            case "zeros" -> { }
            case "standard" -> {
                RandomGenerator rng = new Random(block * 7919L + 17);
                double b = 1 / Math.sqrt(E);
                for (int i = 0; i < p.data.length; i++) p.data[i] = (float) (-b + 2 * b * rng.nextDouble());
            }
            default -> throw new org.xlstm4j.UserError("unknown sLSTM bias_init '" + c.slstmBiasInit + "'");
        }
    }

    private static int blockIndex(String name) {
        String key = "blocks.";
        int i = name.indexOf(key);
        if (i < 0) return 0;
        int j = name.indexOf('.', i + key.length());
        return Integer.parseInt(name.substring(i + key.length(), j));
    }
}
