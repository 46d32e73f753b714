package org.xlstm4j.train;

import org.junit.jupiter.api.Test;
import org.xlstm4j.UserError;

import static org.junit.jupiter.api.Assertions.*;

class TrainConfigTest {
    @Test void jsonRoundTripWithSnakeCaseKeys() {
        TrainConfig c = new TrainConfig(77, 3, 64, 2, 2e-3, 0.05, 7, 0.01, 0.85, 0.98, 1e-7, 0.5, 11, 4, 13, -5, 3);
        String json = c.toJson();
        assertTrue(json.contains("\"batch_size\"") && json.contains("\"min_lr_ratio\""), json);
        assertEquals(c, TrainConfig.fromJson(json));
    }

    @Test void missingKeysKeepDefaults() {
        TrainConfig c = TrainConfig.fromJson("{\"steps\": 5, \"lr\": 0.01}");
        assertEquals(5, c.steps());
        assertEquals(0.01, c.lr());
        assertEquals(TrainConfig.defaults().batchSize(), c.batchSize());
        assertEquals(TrainConfig.defaults().withSteps(5), TrainConfig.fromJson("{\"steps\": 5}"));
    }

    @Test void badInputIsAUserError() {
        assertTrue(assertThrows(UserError.class, () -> TrainConfig.fromJson("{\"step\": 5}")).getMessage().contains("unknown key 'step'"));
        assertTrue(assertThrows(UserError.class, () -> TrainConfig.fromJson("{\"batch_size\": 0}")).getMessage().contains("batch_size must be >= 1"));
        assertTrue(assertThrows(UserError.class, () -> TrainConfig.fromJson("{\"beta2\": 1.0}")).getMessage().contains("beta2"));
        assertThrows(UserError.class, () -> TrainConfig.fromJson("[1]"));
        assertThrows(UserError.class, () -> TrainConfig.fromJson("{\"lr\": \"fast\"}"));
    }
}
