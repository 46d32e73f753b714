package org.xlstm4j.layers;

import org.xlstm4j.model.Param;

/** Creates layer parameters with the official weight-decay flag (spec §4.2). */
final class Params {
    private Params() {}

    /** A zero-filled parameter whose weight-decay flag follows the official rule. */
    static Param create(String name, int... shape) {
        Param p = new Param(name, shape);
        p.weightDecay = decays(name);
        return p;
    }

    /** spec §4.2: decay iff the name contains "weight" and not "norm". */
    static boolean decays(String name) {
        return name.contains("weight") && !name.contains("norm");
    }
}
