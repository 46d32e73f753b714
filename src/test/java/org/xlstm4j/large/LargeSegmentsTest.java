package org.xlstm4j.large;

import org.junit.jupiter.api.Test;
import org.xlstm4j.large.LargeSegments.Segment;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reference's chunkwise/recurrent split (spec §6.5, §6.6) and its grouping into passes. */
class LargeSegmentsTest {
    private static LargeConfig config(LargeConfig.Flavor flavor, int chunk, int maxSlice) {
        LargeConfig c = new LargeConfig();
        c.flavor = flavor;
        c.chunkSize = chunk;
        c.maxInferenceChunksize = maxSlice;
        return c;
    }

    @Test void huggingFaceChunksThenSteps() {
        LargeConfig c = config(LargeConfig.Flavor.HUGGING_FACE, 8, 16384);
        assertEquals(List.of(new Segment(0, 16, 8), new Segment(16, 19, 0)), LargeSegments.plan(c, 19));
        assertEquals(List.of(new Segment(0, 24, 8)), LargeSegments.plan(c, 24));
        assertEquals(List.of(new Segment(0, 5, 0)), LargeSegments.plan(c, 5));
        assertEquals(List.of(new Segment(0, 1, 0)), LargeSegments.plan(config(LargeConfig.Flavor.HUGGING_FACE, 1, 16384), 1));
        // prompts longer than max_inference_chunksize: slices, each chunked with its own remainder
        LargeConfig sliced = config(LargeConfig.Flavor.HUGGING_FACE, 8, 20);
        assertEquals(List.of(new Segment(0, 16, 8), new Segment(16, 20, 0), new Segment(20, 36, 8), new Segment(36, 40, 0),
                new Segment(40, 45, 0)), LargeSegments.plan(sliced, 45));
    }

    @Test void officialHalvesTheChunkDownTo16() {
        LargeConfig c = config(LargeConfig.Flavor.OFFICIAL, 64, 0);
        assertEquals(List.of(new Segment(0, 64, 64), new Segment(64, 96, 32), new Segment(96, 100, 0)), LargeSegments.plan(c, 100));
        assertEquals(List.of(new Segment(0, 128, 64)), LargeSegments.plan(c, 128));
        assertEquals(List.of(new Segment(0, 64, 64), new Segment(64, 96, 32), new Segment(96, 112, 16), new Segment(112, 127, 0)),
                LargeSegments.plan(c, 127));
        assertEquals(List.of(new Segment(0, 32, 32), new Segment(32, 48, 16), new Segment(48, 50, 0)), LargeSegments.plan(c, 50));
        assertEquals(List.of(new Segment(0, 1, 0)), LargeSegments.plan(c, 1));
        assertEquals(List.of(new Segment(0, 19, 0)), LargeSegments.plan(config(LargeConfig.Flavor.OFFICIAL, 8, 0), 19));
    }

    @Test void passesCoverEverythingAndCutChunksOnlyAtBorders() {
        LargeConfig c = config(LargeConfig.Flavor.OFFICIAL, 64, 0);
        for (int T : new int[]{1, 17, 100, 127, 300, 1000})
            for (int max : new int[]{1, 10, 64, 100, 128, 5000}) {
                List<List<Segment>> passes = LargeSegments.passes(LargeSegments.plan(c, T), max);
                List<Segment> flat = new ArrayList<>();
                int t = 0;
                for (List<Segment> p : passes) {
                    assertTrue(!p.isEmpty());
                    int len = p.getLast().t1() - p.getFirst().t0();
                    boolean singleChunk = p.size() == 1 && p.getFirst().chunk() > 0 && len == p.getFirst().chunk();
                    assertTrue(len <= max || singleChunk, "pass of " + len + " > " + max);
                    for (Segment s : p) {
                        assertEquals(t, s.t0(), "contiguous");
                        assertTrue(s.t1() > s.t0());
                        if (s.chunk() > 0) assertEquals(0, (s.t1() - s.t0()) % s.chunk(), "whole chunks");
                        t = s.t1();
                        flat.add(s);
                    }
                }
                assertEquals(T, t);
                // merging adjacent pieces of the same form gives back the plan
                List<Segment> merged = new ArrayList<>();
                for (Segment s : flat) {
                    if (!merged.isEmpty() && merged.getLast().chunk() == s.chunk() && merged.getLast().t1() == s.t0())
                        merged.set(merged.size() - 1, new Segment(merged.getLast().t0(), s.t1(), s.chunk()));
                    else merged.add(s);
                }
                assertEquals(LargeSegments.plan(c, T), merged, "T=" + T + " max=" + max);
            }
    }
}
