package org.xlstm4j.layers;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.layers.GradCheck.*;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.xlstm4j.UserError;

class EmbeddingTest {
    @Test
    void nameAndDecay() {
        Embedding e = new Embedding("token_embedding", 10, 4);
        assertEquals("token_embedding.weight", e.weight.name);
        assertArrayEquals(new int[] {10, 4}, e.weight.shape);
        assertFalse(e.weight.weightDecay);
    }

    @Test
    void forwardGathersRows() {
        Embedding e = new Embedding("emb", 7, 3);
        randomize(e.weight, new Random(1), 1);
        int[] ids = {6, 0, 3, 3};
        float[] y = new float[ids.length * 3];
        e.forward(ids, y, ids.length);
        for (int r = 0; r < ids.length; r++)
            for (int i = 0; i < 3; i++) assertEquals(e.weight.data[ids[r] * 3 + i], y[r * 3 + i]);
    }

    @Test
    void gradientWithRepeatedIds() {
        Embedding e = new Embedding("emb", 6, 4);
        Random rng = new Random(2);
        randomize(e.weight, rng, 1);
        int[] ids = {1, 4, 1, 5, 1};
        int rows = ids.length;
        float[] y = new float[rows * 4], R = rand(rng, rows * 4);
        DoubleSupplier loss = () -> { e.forward(ids, y, rows); return dot(y, R, y.length); };
        loss.getAsDouble();
        e.weight.zeroGrad();
        e.backward(R, rows);
        assertGrad("embedding dW", e.weight.data, e.weight.grad, loss, 1e-2f, 1e-3);
        assertGradDouble("embedding dW", e.weight.data, e.weight.grad,
                () -> DoubleReference.dot(DoubleReference.embedding(ids, e.weight.data, 4), R));
        for (int i = 0; i < 4; i++) { // unused rows stay zero
            assertEquals(0f, e.weight.grad[0 * 4 + i]);
            assertEquals(0f, e.weight.grad[2 * 4 + i]);
        }
    }

    @Test
    void outOfRangeIdIsUserError() {
        Embedding e = new Embedding("emb", 50304, 2);
        float[] y = new float[4];
        UserError err = assertThrows(UserError.class, () -> e.forward(new int[] {3, 50304}, y, 2));
        assertTrue(err.getMessage().contains("50304") && err.getMessage().contains("vocab size 50304"), err.getMessage());
        UserError neg = assertThrows(UserError.class, () -> e.forward(new int[] {-2, 0}, y, 2));
        assertTrue(neg.getMessage().contains("-2"), neg.getMessage());
    }
}
