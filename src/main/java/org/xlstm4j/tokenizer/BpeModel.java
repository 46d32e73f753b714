package org.xlstm4j.tokenizer;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model of a byte-level tokenizer: a vocabulary of byte-level strings and a ranked list of merges. A word (one
 * pre-token, spelled in the {@link ByteLevel} alphabet) starts as one symbol per character; then, repeatedly, the
 * adjacent pair whose merge has the lowest rank (leftmost first among equals) is replaced by the merged token, until no
 * adjacent pair has a merge. Results for short words are cached, since text repeats its words.
 */
final class BpeModel {
    /** Words longer than this (in byte-level characters) are not cached. */
    private static final int MAX_CACHED_WORD = 128;
    /** The cache is emptied when it grows past this many words, which bounds its memory. */
    private static final int MAX_CACHE_ENTRIES = 1 << 18;

    private final Map<String, Integer> vocab;
    /** Merge rank by pair of symbol ids ({@code left << 32 | right}). */
    private final Map<Long, Integer> rankOfPair;
    /** The id of the token a merge produces, by rank. */
    private final int[] mergedIdByRank;
    /** The symbol id of each byte-level character, by the byte it stands for. */
    private final int[] idOfByte;
    /** When true, a word that is itself in the vocabulary is one token, whatever the merges would give. */
    private final boolean ignoreMerges;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param vocab         token (byte-level string) to id
     * @param merges        pairs of tokens in rank order; each pair and its concatenation are in {@code vocab}
     * @param idOfByte      the id of the single-character token of each byte
     * @param ignoreMerges  the {@code ignore_merges} flag of newer tokenizer files
     */
    BpeModel(Map<String, Integer> vocab, String[][] merges, int[] idOfByte, boolean ignoreMerges) {
        this.vocab = vocab;
        this.idOfByte = idOfByte;
        this.ignoreMerges = ignoreMerges;
        this.rankOfPair = new HashMap<>(merges.length * 2);
        this.mergedIdByRank = new int[merges.length];
        for (int rank = 0; rank < merges.length; rank++) {
            String left = merges[rank][0], right = merges[rank][1];
            rankOfPair.putIfAbsent(pair(vocab.get(left), vocab.get(right)), rank);
            mergedIdByRank[rank] = vocab.get(left + right);
        }
    }

    private static long pair(int left, int right) {
        return (long) left << 32 | (right & 0xFFFFFFFFL);
    }

    private int rank(int left, int right) {
        Integer rank = rankOfPair.get(pair(left, right));
        return rank == null ? -1 : rank;
    }

    /** Appends the ids of one word, given in the byte-level alphabet (non-empty). */
    void encodeWord(String word, IntList out) {
        if (word.length() > MAX_CACHED_WORD) {
            out.addAll(merge(word));
            return;
        }
        int[] ids = cache.get(word);
        if (ids == null) {
            ids = merge(word);
            if (cache.size() >= MAX_CACHE_ENTRIES) cache.clear();
            cache.put(word, ids);
        }
        out.addAll(ids);
    }

    /**
     * Merges the symbols of a word. Symbols live in a linked list over arrays; candidate merges wait in a heap keyed by
     * (rank, position of the left symbol), and a candidate whose pair has changed since it was queued is dropped when it
     * comes out, so a word of n characters takes O(n log n).
     */
    private int[] merge(String word) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) return new int[]{whole};
        }
        int n = word.length();
        int[] id = new int[n], next = new int[n], prev = new int[n];
        boolean[] gone = new boolean[n];
        for (int i = 0; i < n; i++) {
            id[i] = idOfByte[ByteLevel.byteOf(word.charAt(i))];
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        LongMinHeap candidates = new LongMinHeap(n);
        for (int i = 0; i + 1 < n; i++) queue(candidates, id, i, i + 1);
        int symbols = n;
        while (!candidates.isEmpty()) {
            long top = candidates.pop();
            int rank = (int) (top >>> 32), i = (int) top;
            int j = gone[i] ? -1 : next[i];
            if (j < 0 || rank(id[i], id[j]) != rank) continue; // stale: the pair changed after it was queued
            id[i] = mergedIdByRank[rank];
            gone[j] = true;
            next[i] = next[j];
            if (next[j] >= 0) prev[next[j]] = i;
            symbols--;
            if (prev[i] >= 0) queue(candidates, id, prev[i], i);
            if (next[i] >= 0) queue(candidates, id, i, next[i]);
        }
        int[] result = new int[symbols];
        for (int i = 0, k = 0; i >= 0; i = next[i]) result[k++] = id[i];
        return result;
    }

    private void queue(LongMinHeap candidates, int[] id, int left, int right) {
        int rank = rank(id[left], id[right]);
        if (rank >= 0) candidates.push((long) rank << 32 | left);
    }
}
