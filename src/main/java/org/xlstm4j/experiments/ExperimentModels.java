package org.xlstm4j.experiments;

import org.xlstm4j.UserError;
import org.xlstm4j.baselines.LstmModel;
import org.xlstm4j.baselines.SequenceModel;
import org.xlstm4j.baselines.TransformerModel;
import org.xlstm4j.model.XLstmConfig;
import org.xlstm4j.tensor.Kernels;

import java.util.List;

/**
 * The five models of the experiments, all with 2 blocks (2 layers for the LSTM) as in the paper (appendix B.1):
 * <ul>
 *   <li>{@code xlstm01} xLSTM[0:1]: two sLSTM blocks (slstm_at [0, 1]);</li>
 *   <li>{@code xlstm10} xLSTM[1:0]: two mLSTM blocks;</li>
 *   <li>{@code xlstm11} xLSTM[1:1]: mLSTM block 0, sLSTM block 1 (slstm_at [1]);</li>
 *   <li>{@code lstm} classic 2-layer LSTM ({@link LstmModel});</li>
 *   <li>{@code transformer} Llama-style causal Transformer ({@link TransformerModel}).</li>
 * </ul>
 * xLSTM variants follow the official formal-language configs: embedding = width, {@code heads} heads in both cell
 * types, sLSTM without the causal convolution (conv1d_kernel_size 0), mLSTM with its kernel-4 conv, projection factor
 * 2, gated FFN factor 1.3 (GELU), post-blocks norm, official initialisation. The head is untied on the formal
 * languages (official configs) and tied to the embedding on MQAR (Zoology's language model ties them; the paper lists
 * "Mamba without weight tying" as a separate variant).
 */
public final class ExperimentModels {
    private ExperimentModels() {}

    public static final List<String> NAMES = List.of("xlstm01", "xlstm10", "xlstm11", "lstm", "transformer");

    /** Table label of a model name: "xLSTM[0:1]", …, "LSTM", "Transformer". */
    public static String label(String name) {
        return switch (name) {
            case "xlstm01" -> "xLSTM[0:1]";
            case "xlstm10" -> "xLSTM[1:0]";
            case "xlstm11" -> "xLSTM[1:1]";
            case "lstm" -> "LSTM";
            case "transformer" -> "Transformer";
            default -> throw new UserError("unknown model '" + name + "'; models: " + String.join(", ", NAMES));
        };
    }

    /** A freshly initialised model (seeded) for a vocabulary, width, number of heads and head tying. */
    public static SequenceModel create(String name, int vocab, int width, int heads, boolean tied, Kernels kernels,
                                       long seed) {
        label(name);                                                     // validates the name
        if (width <= 0 || heads <= 0) throw new UserError("width and heads must be positive");
        return switch (name) {
            case "lstm" -> new LstmModel(kernels, vocab, width, 2, tied).init(seed);
            case "transformer" -> {
                if (width % heads != 0 || (width / heads) % 2 != 0)
                    throw new UserError("transformer: width " + width + " must split into " + heads + " heads of even size");
                yield new TransformerModel(kernels, vocab, width, 2, heads, tied).init(seed);
            }
            default -> new XLstmSequenceModel(label(name), xlstmConfig(name, vocab, width, heads, tied), kernels).init(seed);
        };
    }

    /** The xLSTM configuration of {@code xlstm01}, {@code xlstm10} or {@code xlstm11}. */
    public static XLstmConfig xlstmConfig(String name, int vocab, int width, int heads, boolean tied) {
        XLstmConfig c = new XLstmConfig();
        c.vocabSize = vocab;
        c.embeddingDim = width;
        c.numBlocks = 2;
        c.contextLength = 256;
        c.slstmAt = switch (name) {
            case "xlstm01" -> new int[]{0, 1};
            case "xlstm10" -> new int[]{};
            case "xlstm11" -> new int[]{1};
            default -> throw new IllegalArgumentException(name + " is not an xLSTM model");
        };
        c.hasSLstm = c.slstmAt.length > 0;
        c.mlstmNumHeads = heads;
        c.slstmNumHeads = heads;
        c.slstmConvKernel = 0;                   // paper appendix B.1.1: sLSTM without the causal convolution
        c.tieWeights = tied;
        c.addPostBlocksNorm = true;
        return c.validate();
    }
}
