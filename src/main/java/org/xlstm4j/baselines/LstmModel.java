package org.xlstm4j.baselines;

import org.xlstm4j.layers.Init;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The classic LSTM baseline of the paper's synthetic experiments: embedding → {@code numLayers} stacked
 * {@link LstmLayer}s of width E (no norms, no residuals) → linear head (optionally tied to the embedding).
 * Initialisation: PyTorch's {@code nn.LSTM} default U(±1/√H) for every LSTM weight and bias; embedding and head
 * small_init N(0, √(2/(5E))) as the xLSTM models.
 */
public final class LstmModel extends HeadedSequenceModel {
    private final LstmLayer[] layers;
    private float[][] acts;    // acts[i] = output of layer i
    private float[] dA, dB;
    private int rows;          // B·T of the last forward

    public LstmModel(Kernels kernels, int vocab, int width, int numLayers, boolean tied) {
        super(kernels, "embedding", "head.weight", vocab, width, tied);
        layers = new LstmLayer[numLayers];
        for (int i = 0; i < numLayers; i++) layers[i] = new LstmLayer("lstm.", i, width, width);
    }

    @Override public String name() { return "LSTM"; }

    /** Seeded initialisation (see the class comment). */
    public LstmModel init(long seed) {
        Random rng = new Random(seed);
        Init.smallInit(embedding.weight, dim, rng);
        double bound = 1 / Math.sqrt(dim);
        for (LstmLayer l : layers)
            for (Param p : l.parameters()) Init.uniform(p, -bound, bound, rng);
        if (!tied) Init.smallInit(head, dim, rng);
        return this;
    }

    @Override protected List<Param> bodyParameters() {
        List<Param> ps = new ArrayList<>();
        for (LstmLayer l : layers) ps.addAll(l.parameters());
        return ps;
    }

    @Override protected float[] forwardBody(float[] x, int B, int T) {
        int n = B * T * dim;
        rows = B * T;
        if (acts == null) acts = new float[layers.length][];
        float[] in = x;
        for (int i = 0; i < layers.length; i++) {
            acts[i] = Buffers.ensure(acts[i], n);
            layers[i].forward(kernels, in, acts[i], B, T);
            in = acts[i];
        }
        return in;
    }

    @Override protected float[] backwardBody(float[] dh) {
        int n = rows * dim;
        dA = Buffers.ensure(dA, n);
        dB = Buffers.ensure(dB, n);
        float[] dy = dh, dx = dA;
        for (int i = layers.length - 1; i >= 0; i--) {
            layers[i].backward(kernels, dy, dx);
            dy = dx;
            dx = dx == dA ? dB : dA;
        }
        return dy;
    }
}
