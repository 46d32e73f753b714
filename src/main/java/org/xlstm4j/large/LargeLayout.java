package org.xlstm4j.large;

import org.xlstm4j.io.DType;
import org.xlstm4j.io.TensorSource;

import java.util.HashMap;
import java.util.Map;

/**
 * How one xLSTM-Large checkpoint names and stores its tensors (spec §6.4), so a trainable copy can be written back in
 * the same format: the embedding's name (Hugging Face {@code backbone.embeddings.weight} or official
 * {@code embedding.weight}), the q/k/v projections' names ({@code q}/{@code k}/{@code v} or
 * {@code query}/{@code key}/{@code value}), for each block whether q/k/v/o, the two gates and the FFN's gate/up
 * projections are "fused" into one tensor, whether {@code lm_head.weight} is stored when tied, and the stored dtype of
 * every tensor. The rules are the ones {@link LargeWeights} reads with; it validates shapes first.
 */
final class LargeLayout {
    final String embeddingName;
    /** Per block: the prefixes of the q, k, v projections ({@code ...mlstm_layer.q} or {@code ...mlstm_layer.query}). */
    final String[] qName, kName, vName;
    /** Per block: qkv_opreact = [q; k; v; o], ifgate_preact = [i; f], proj_up_gate_z = [gate; up]. */
    final boolean[] fusedQkvo, fusedGates, fusedUpGate;
    /** Tied embeddings only: whether the checkpoint holds a copy of the head as {@code lm_head.weight}. */
    final boolean storesTiedHead;
    /** Stored dtype by tensor name; tensors not listed are F32. */
    private final Map<String, DType> dtypes;
    /** The {@code __metadata__} of the weights file. */
    final Map<String, String> metadata;

    private LargeLayout(String embeddingName, int blocks, boolean storesTiedHead, Map<String, DType> dtypes, Map<String, String> metadata) {
        this.embeddingName = embeddingName;
        this.qName = new String[blocks];
        this.kName = new String[blocks];
        this.vName = new String[blocks];
        this.fusedQkvo = new boolean[blocks];
        this.fusedGates = new boolean[blocks];
        this.fusedUpGate = new boolean[blocks];
        this.storesTiedHead = storesTiedHead;
        this.dtypes = dtypes;
        this.metadata = metadata;
    }

    /** The layout {@link LargeCheckpoints#createRandom} writes: Hugging Face names, single weights, all F32. */
    static LargeLayout huggingFace(LargeConfig c) {
        LargeLayout l = new LargeLayout("backbone.embeddings.weight", c.numBlocks, false, new HashMap<>(), Map.of("format", "pt"));
        for (int i = 0; i < c.numBlocks; i++) {
            String m = mlstm(i);
            l.qName[i] = m + "q";
            l.kName[i] = m + "k";
            l.vName[i] = m + "v";
        }
        return l;
    }

    /** The layout of {@code src}, which {@link LargeWeights#read} has accepted for {@code c}. */
    static LargeLayout of(TensorSource src, LargeConfig c) {
        String emb = src.contains("embedding.weight") && !src.contains("backbone.embeddings.weight")
                ? "embedding.weight" : "backbone.embeddings.weight";
        Map<String, DType> dtypes = new HashMap<>();
        for (String n : src.names()) dtypes.put(n, src.info(n).dtype());
        Map<String, String> meta = new HashMap<>(src.metadata());
        meta.remove("total_size");                                            // a sharded index's, not a file's
        meta.putIfAbsent("format", "pt");
        LargeLayout l = new LargeLayout(emb, c.numBlocks, c.tieWordEmbeddings && src.contains("lm_head.weight"), dtypes,
                Map.copyOf(meta));
        for (int i = 0; i < c.numBlocks; i++) {
            String m = mlstm(i), p = block(i);
            l.fusedQkvo[i] = src.contains(m + "qkv_opreact.weight");
            l.fusedGates[i] = src.contains(m + "ifgate_preact.weight");
            l.fusedUpGate[i] = src.contains(p + "ffn.proj_up_gate_z.weight");
            l.qName[i] = alias(src, m, "q", "query");
            l.kName[i] = alias(src, m, "k", "key");
            l.vName[i] = alias(src, m, "v", "value");
        }
        return l;
    }

    /** The stored dtype of a tensor (F32 when the source did not have it). */
    DType dtype(String name) { return dtypes.getOrDefault(name, DType.F32); }

    static String block(int i) { return "backbone.blocks." + i + "."; }

    static String mlstm(int i) { return block(i) + "mlstm_layer."; }

    private static String alias(TensorSource src, String prefix, String name, String other) {
        return !src.contains(prefix + name + ".weight") && src.contains(prefix + other + ".weight") ? prefix + other : prefix + name;
    }
}
