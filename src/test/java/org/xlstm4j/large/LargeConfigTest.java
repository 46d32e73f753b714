package org.xlstm4j.large;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Derived sizes (spec §6.1, §6.2) and the config readers. */
class LargeConfigTest {
    @Test void sevenBillionSizesAndParameterCount() {
        LargeConfig c = LargeCheckpoints.preset("7B");
        assertEquals(2048, c.qkDim());
        assertEquals(4096, c.vDim());
        assertEquals(256, c.qkHeadDim());
        assertEquals(512, c.vHeadDim());
        assertEquals(10944, c.ffnDim());
        assertEquals(6_865_424_896L, c.parameterCount());            // spec §6.2, counted from the official code
        long oneB = LargeCheckpoints.preset("1B").parameterCount();
        assertTrue(oneB > 0.95e9 && oneB < 1.1e9, "the 1B preset has " + oneB + " parameters");
    }

    /** The count formula equals the elements a written checkpoint holds (untied head with out norm, and tied). */
    @Test void parameterCountEqualsTheTensorsOfAWrittenCheckpoint(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        for (boolean tied : new boolean[]{false, true}) {
            LargeConfig c = TinyLargeConfig.of(40, 32, 2, 8, 16);
            c.tieWordEmbeddings = tied;
            c.validate("test");
            java.nio.file.Path dir = tmp.resolve("tied-" + tied);
            LargeCheckpoints.createRandom(dir, c, org.xlstm4j.io.DType.F32, 1);
            long elements = 0;
            try (org.xlstm4j.io.TensorSource src = LargeCheckpoints.open(dir)) {
                for (String n : src.names()) {
                    long e = 1;
                    for (long d : src.info(n).shape()) e *= d;
                    elements += e;
                }
            }
            assertEquals(elements, c.parameterCount(), "tied " + tied);
        }
    }

    @Test void ffnRoundingIsTheReferenceFormula() {
        LargeConfig c = new LargeConfig();
        c.embeddingDim = 128;
        c.ffnProjFactor = 2.667;
        c.ffnRoundUpToMultipleOf = 16;
        assertEquals(352, c.ffnDim());                                // hf_tiny: 341.376 → 352
        c.ffnProjFactor = 16.5 / 128;                                 // x = 16.5: int(((16.5 + 15) // 16) · 16) = 16, not 32
        assertEquals(16, c.ffnDim());
        c.ffnProjFactor = 2.0;
        assertEquals(256, c.ffnDim());                                // exact multiples stay
    }

    @Test void huggingFaceAndOfficialKeys() throws Exception {
        ObjectMapper om = new ObjectMapper();
        ObjectNode hf = (ObjectNode) om.readTree("{\"model_type\":\"xlstm\",\"hidden_size\":256,\"num_hidden_layers\":3,\"num_heads\":4,"
                + "\"vocab_size\":1000,\"gate_soft_cap\":null,\"chunk_size\":16}");
        LargeConfig c = LargeConfig.fromJson(hf, "hf");
        assertEquals(LargeConfig.Flavor.HUGGING_FACE, c.flavor);
        assertEquals(256, c.embeddingDim);
        assertEquals(3, c.numBlocks);
        assertNull(c.gateSoftCap);                                    // null = no cap
        assertEquals(30.0, c.outputLogitSoftCap);                     // defaults
        assertEquals(704, c.ffnDim());                                // 256·2.667 = 682.8 → 704
        ObjectNode off = (ObjectNode) om.readTree("{\"embedding_dim\":256,\"num_blocks\":3,\"num_heads\":4,\"vocab_size\":1000,"
                + "\"mode\":\"train\",\"chunkwise_kernel\":\"chunkwise--triton_xl_chunk\",\"autocast_kernel_dtype\":\"bfloat16\"}");
        assertEquals(LargeConfig.Flavor.OFFICIAL, LargeConfig.fromJson(off, "official").flavor);
    }

    @Test void flatYaml() {
        ObjectNode n = LargeConfig.flatYaml(List.of("# c", "embedding_dim: 64", "gate_soft_cap: 15.0", "weight_mode: single",
                "add_out_norm: true", "output_logit_soft_cap: null", "eps: 1e-06"), "y");
        assertEquals(64, n.get("embedding_dim").asInt());
        assertEquals(15.0, n.get("gate_soft_cap").asDouble());
        assertEquals("single", n.get("weight_mode").asText());
        assertEquals(true, n.get("add_out_norm").asBoolean());
        assertEquals(true, n.get("output_logit_soft_cap").isNull());
        assertEquals(1e-6, n.get("eps").asDouble());
    }
}
