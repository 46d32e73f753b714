package org.xlstm4j.large;

import java.util.ArrayList;
import java.util.List;

/**
 * How a sequence of T tokens is split between the mLSTM's chunkwise and recurrent forms, exactly as the reference
 * inference code does it (spec §6.5, §6.6), and into passes of bounded length.
 * <ul>
 *   <li>Hugging Face: prompts longer than {@code max_inference_chunksize} are cut into slices of that length; in each
 *       slice the longest multiple of {@code chunk_size} goes chunkwise, the remainder step by step (one token: a
 *       step).</li>
 *   <li>Official ({@code wrap_chunkwise__arbitrary_sequence_length}): chunk sizes {@code chunk_size}, /2, /4, … while
 *       ≥ 16, each taking the longest multiple that fits and stopping once nothing is left; the remainder step by step.</li>
 * </ul>
 * The forms agree up to the eps·exp(m) term of spec §3.5; copying the split makes the logits match to rounding.
 */
final class LargeSegments {
    private LargeSegments() {}

    /** Tokens [t0, t1) in the chunkwise form with this chunk size, or (chunk = 0) one recurrent step at a time. */
    record Segment(int t0, int t1, int chunk) {}

    /** The reference's split of [0, T). */
    static List<Segment> plan(LargeConfig c, int T) {
        List<Segment> out = new ArrayList<>();
        if (c.flavor == LargeConfig.Flavor.HUGGING_FACE) {
            int slice = T > c.maxInferenceChunksize ? c.maxInferenceChunksize : T;
            for (int s0 = 0; s0 < T; s0 += slice) {
                int s1 = Math.min(T, s0 + slice), n = s1 - s0 == 1 ? 0 : (s1 - s0) / c.chunkSize * c.chunkSize;
                if (n > 0) out.add(new Segment(s0, s0 + n, c.chunkSize));
                if (s0 + n < s1) out.add(new Segment(s0 + n, s1, 0));
            }
            return out;
        }
        int pos = 0;
        if (T > 1) {
            for (int cs = c.chunkSize; cs >= 16; cs /= 2) {
                int remaining = T - pos, n = remaining / cs * cs;
                if (n == 0) continue;
                out.add(new Segment(pos, pos + n, cs));
                pos += n;
                if (remaining % cs == 0) break;
            }
        }
        if (pos < T) out.add(new Segment(pos, T, 0));
        return out;
    }

    /**
     * Groups segments into passes of at most {@code maxTokens} tokens, cutting chunkwise segments only at multiples of
     * their chunk size and recurrent ones anywhere, so the result is the same as one pass (a pass holds at least one
     * chunk even when maxTokens is smaller).
     */
    static List<List<Segment>> passes(List<Segment> segments, int maxTokens) {
        List<List<Segment>> passes = new ArrayList<>();
        List<Segment> current = new ArrayList<>();
        int used = 0;
        for (Segment s : segments) {
            int t = s.t0();
            while (t < s.t1()) {
                int room = Math.max(0, maxTokens - used), left = s.t1() - t;
                int take = s.chunk() > 0 ? Math.min(left, room / s.chunk() * s.chunk()) : Math.min(left, room);
                if (take == 0 && used == 0) take = Math.min(left, s.chunk());
                if (take == 0) {
                    passes.add(current);
                    current = new ArrayList<>();
                    used = 0;
                    continue;
                }
                current.add(new Segment(t, t + take, s.chunk()));
                used += take;
                t += take;
            }
        }
        if (!current.isEmpty()) passes.add(current);
        return passes;
    }
}
