package org.xlstm4j.experiments.tasks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every generator against its definition, recomputed here independently from the problem part of each sample (for
 * arithmetic: a separate BigInteger parser/evaluator), over many lengths in the training and test ranges; plus the
 * paper's vocabulary sizes and chance levels, length contracts, answer masks and determinism.
 */
class TaskGeneratorsTest {
    static Stream<String> formal() { return Tasks.FORMAL.stream(); }

    /** The paper's |V| and s_rand per task (paper-tasks.md §2.1.3). */
    static final Map<String, double[]> PAPER = Map.ofEntries(
            Map.entry("parity", new double[]{3, 0.5}), Map.entry("even_pairs", new double[]{3, 0.5}),
            Map.entry("cycle_nav", new double[]{9, 0.2}), Map.entry("mod_arith", new double[]{10, 0.2}),
            Map.entry("mod_arith_brackets", new double[]{12, 0.2}), Map.entry("solve_equation", new double[]{14, 0.2}),
            Map.entry("majority", new double[]{64, 1 / 63.0}), Map.entry("majority_count", new double[]{64, 1 / 63.0}),
            Map.entry("missing_duplicate", new double[]{11, 1 / 9.0}), Map.entry("bucket_sort", new double[]{11, 0.1}),
            Map.entry("odds_first", new double[]{12, 0.1}), Map.entry("repetition", new double[]{12, 0.1}),
            Map.entry("reverse_string", new double[]{12, 0.1}), Map.entry("stack_manipulation", new double[]{11, 0.25}),
            Map.entry("set", new double[]{128, 1 / 126.0}));

    @Test
    void fifteenTasksWithThePapersVocabulariesAndChance() {
        assertEquals(15, Tasks.FORMAL.size());
        assertEquals(15, new LinkedHashSet<>(Tasks.FORMAL).size());
        for (String name : Tasks.FORMAL) {
            Task t = Tasks.create(name);
            assertEquals(name, t.name());
            assertEquals(PAPER.get(name)[0], t.vocabSize(), name);
            assertEquals(PAPER.get(name)[1], t.chance(), 1e-12, name);
            assertArrayEquals(new int[]{3, 40}, t.trainLengths());
            assertArrayEquals(new int[]{40, 256}, t.testLengths());
        }
        assertEquals(List.of("bucket_sort", "missing_duplicate", "mod_arith_brackets", "solve_equation", "cycle_nav",
                "even_pairs", "mod_arith", "parity", "majority", "majority_count"), Tasks.FIGURE4);
    }

    @Test
    void scaledAccuracy() {
        assertEquals(0.0, Task.scaled(0.5, 0.5));
        assertEquals(1.0, Task.scaled(1.0, 0.2));
        assertEquals(0.5, Task.scaled(0.6, 0.2), 1e-12);
        assertTrue(Task.scaled(0.1, 0.2) < 0);
    }

    @Test
    void independentEvaluatorOnThePapersExamples() {
        assertEquals(4, Arith.evalFlat("0-4+0-2"));                              // paper: 0 − 4 + 0 − 2 = 4
        assertEquals(Math.floorMod(2 - 3 * 4, 5), Arith.evalFlat("2-3*4"));
        assertEquals(Math.floorMod((1 + 2) * -4, 5), Arith.evalBracketed("((1+2)*(-4))"));
        assertEquals(Math.floorMod(-3, 5), Arith.evalBracketed("-3"));
    }

    @ParameterizedTest
    @MethodSource("formal")
    void samplesFollowTheirDefinition(String name) {
        Task task = Tasks.create(name);
        int[] seq = new int[300];
        boolean[] ans = new boolean[300];
        TaskRng rng = new TaskRng(0);
        int[] classes = new int[task.vocabSize()];
        for (int i = 0; i < 600; i++) {
            int L = i < 300 ? 3 + i % 38 : 40 + (i * 37) % 217;
            rng.reset(TaskRng.seedOf(7, 1, i));
            int n = task.generate(L, rng, seq, ans);
            int want = Math.max(L, task.minLength());
            assertTrue(n == want || n == want - 1, name + ": length " + n + " for " + L);
            int answers = 0;
            for (int p = 0; p < n; p++) {
                assertTrue(seq[p] >= 1 && seq[p] < task.vocabSize(), name + ": token " + seq[p] + " at " + p);
                if (ans[p]) { answers++; classes[seq[p]]++; }
            }
            assertTrue(answers >= 1, name + ": no answer");
            int[] expected = expectedAnswer(name, Arrays.copyOf(seq, n), ans);
            int k = 0;
            for (int p = 0; p < n; p++) if (ans[p]) assertEquals(expected[k++], seq[p], name + " sample " + Arrays.toString(Arrays.copyOf(seq, n)));
            assertEquals(expected.length, k, name + ": number of answer tokens");
        }
        int used = 0;
        for (int c : classes) if (c > 0) used++;
        assertTrue(used >= 2, name + ": answers use a single class");
    }

    @ParameterizedTest
    @MethodSource("formal")
    void deterministicPerSeed(String name) {
        Task a = Tasks.create(name), b = Tasks.create(name);
        int[] s1 = new int[300], s2 = new int[300];
        boolean[] a1 = new boolean[300], a2 = new boolean[300];
        for (int i = 0; i < 20; i++) {
            int n1 = a.generate(40 + 10 * i, new TaskRng(i), s1, a1), n2 = b.generate(40 + 10 * i, new TaskRng(i), s2, a2);
            assertEquals(n1, n2);
            assertArrayEquals(Arrays.copyOf(s1, n1), Arrays.copyOf(s2, n2));
            assertArrayEquals(Arrays.copyOf(a1, n1), Arrays.copyOf(a2, n2));
        }
    }

    /** The answer tokens of a sample, recomputed from its problem part (independently of the generators). */
    static int[] expectedAnswer(String name, int[] s, boolean[] mask) {
        int n = s.length, firstAnswer = 0;
        while (!mask[firstAnswer]) firstAnswer++;
        switch (name) {
            case "parity": {                                   // 1 iff an even number of b (= 2)
                long bs = Arrays.stream(s, 0, n - 1).filter(v -> v == 2).count();
                return new int[]{bs % 2 == 0 ? 1 : 2};
            }
            case "even_pairs": {                               // the definition: number of ab and ba substrings is even
                int pairs = 0;
                for (int p = 0; p + 1 < n - 1; p++) if (s[p] != s[p + 1]) pairs++;
                return new int[]{pairs % 2 == 0 ? 1 : 2};
            }
            case "cycle_nav": {                                // walk the cycle of 5 step by step
                int pos = 0;
                for (int p = 0; p < n - 1; p++) pos = (pos + (s[p] == 2 ? 1 : s[p] == 3 ? 4 : 0)) % 5;
                return new int[]{4 + pos};
            }
            case "mod_arith": {
                assertEquals(1, n % 2, "odd length");
                assertEquals(4, s[n - 2]);
                StringBuilder e = new StringBuilder();
                for (int p = 0; p < n - 2; p++) {
                    if (p % 2 == 0) assertTrue(s[p] >= 5 && s[p] <= 9, "digit at even position");
                    else assertTrue(s[p] >= 1 && s[p] <= 3, "operator at odd position");
                    e.append(s[p] >= 5 ? Character.forDigit(s[p] - 5, 10) : "+-*".charAt(s[p] - 1));
                }
                return new int[]{5 + Arith.evalFlat(e.toString())};
            }
            case "mod_arith_brackets": {
                assertEquals(4, s[n - 2]);
                String e = Arith.render(s, 0, n - 2, new int[]{1, 2, 3, 5, 6, 7});
                return new int[]{7 + Arith.evalBracketed(e)};
            }
            case "solve_equation": {
                int len = n - 4;
                assertEquals(4, s[len]);
                assertEquals(7, s[len + 2]);
                String e = Arith.render(s, 0, len, new int[]{1, 2, 3, 5, 6, 9});
                assertEquals(1, e.chars().filter(c -> c == 'x').count(), "exactly one unknown");
                assertFalse(e.contains("*"), "+ and - only");
                int value = s[len + 1] - 9, solution = -1;
                for (int c = 0; c < 5; c++)
                    if (Arith.evalBracketed(e.replace('x', Character.forDigit(c, 10))) == value) {
                        assertEquals(-1, solution, "unique solution");
                        solution = c;
                    }
                return new int[]{9 + solution};
            }
            case "majority":
            case "majority_count": {
                int[] counts = new int[64];
                for (int p = 0; p < n - 1; p++) counts[s[p]]++;
                int best = 1;
                for (int v = 1; v < 64; v++) if (counts[v] > counts[best]) best = v;   // ties: smallest symbol
                return new int[]{name.equals("majority") ? best : Math.min(63, counts[best])};
            }
            case "missing_duplicate": {
                int m = (n - 1) / 2, hole = -1;
                assertEquals(2 * m + 1, n);
                for (int p = 0; p < m; p++) {
                    assertTrue(s[p] >= 1 && s[p] <= 9);
                    if (s[m + p] == 10) { assertEquals(-1, hole); hole = p; }
                    else assertEquals(s[p], s[m + p], "copy");
                }
                return new int[]{s[hole]};
            }
            case "bucket_sort": {
                int m = n / 2;
                assertEquals(m, firstAnswer);
                int[] sorted = Arrays.copyOf(s, m);
                Arrays.sort(sorted);
                return sorted;
            }
            case "odds_first":
            case "repetition":
            case "reverse_string": {
                int m = (n - 1) / 2;
                assertEquals(11, s[m], "ACT");
                List<Integer> out = new ArrayList<>();
                if (name.equals("repetition")) for (int p = 0; p < m; p++) out.add(s[p]);
                if (name.equals("reverse_string")) for (int p = m - 1; p >= 0; p--) out.add(s[p]);
                if (name.equals("odds_first")) {
                    for (int p = 1; p <= m; p += 2) out.add(s[p - 1]);   // 1-based odd positions
                    for (int p = 2; p <= m; p += 2) out.add(s[p - 1]);
                }
                return out.stream().mapToInt(Integer::intValue).toArray();
            }
            case "stack_manipulation": {
                List<Integer> stack = new ArrayList<>();
                int p = 0;
                while (s[p] >= 3 && s[p] <= 6) stack.add(s[p++]);      // initial stack, bottom first
                assertFalse(stack.isEmpty(), "initial stack");
                for (; s[p] != 1; p++) {
                    if (s[p] == 2) { if (!stack.isEmpty()) stack.remove(stack.size() - 1); }
                    else { assertTrue(s[p] >= 7 && s[p] <= 10, "action"); stack.add(s[p] - 4); }
                }
                assertEquals(p + 1, firstAnswer);
                return stack.stream().mapToInt(Integer::intValue).toArray();
            }
            case "set": {
                int act = 0;
                while (s[act] != 127) act++;
                LinkedHashSet<Integer> seen = new LinkedHashSet<>();
                for (int p = 0; p < act; p++) seen.add(s[p]);
                assertEquals(act + 1, firstAnswer);
                return seen.stream().mapToInt(Integer::intValue).toArray();
            }
            default: throw new AssertionError(name);
        }
    }

    /** An independent evaluator: BigInteger values, reduced modulo 5 only at the end (Python-style, never negative). */
    static final class Arith {
        /** Renders tokens to a string with the given ids of + − × ( ) and digit 0 (and 'x' for any other id). */
        static String render(int[] s, int from, int to, int[] ids) {
            StringBuilder b = new StringBuilder();
            for (int p = from; p < to; p++) {
                int t = s[p];
                if (t == ids[0]) b.append('+');
                else if (t == ids[1]) b.append('-');
                else if (t == ids[2]) b.append('*');
                else if (t == ids[3]) b.append('(');
                else if (t == ids[4]) b.append(')');
                else if (t >= ids[5] && t < ids[5] + 5) b.append(Character.forDigit(t - ids[5], 10));
                else b.append('x');
            }
            return b.toString();
        }

        /** "d op d op … d" with × binding tighter, by shunting the products first. */
        static int evalFlat(String e) {
            BigInteger sum = BigInteger.ZERO, term = BigInteger.valueOf(e.charAt(0) - '0');
            int sign = 1;
            for (int i = 1; i < e.length(); i += 2) {
                char op = e.charAt(i);
                BigInteger d = BigInteger.valueOf(e.charAt(i + 1) - '0');
                if (op == '*') term = term.multiply(d);
                else {
                    sum = sign > 0 ? sum.add(term) : sum.subtract(term);
                    sign = op == '+' ? 1 : -1;
                    term = d;
                }
            }
            sum = sign > 0 ? sum.add(term) : sum.subtract(term);
            return sum.mod(BigInteger.valueOf(5)).intValue();
        }

        /** E := d | −d | ( E ) | ( E op E ), parsed completely; the value mod 5. */
        static int evalBracketed(String e) {
            int[] pos = {0};
            BigInteger v = parse(e, pos);
            assertEquals(e.length(), pos[0], "the whole expression parses: " + e);
            return v.mod(BigInteger.valueOf(5)).intValue();
        }

        private static BigInteger parse(String e, int[] pos) {
            char c = e.charAt(pos[0]++);
            if (Character.isDigit(c)) return BigInteger.valueOf(c - '0');
            if (c == '-') return parse(e, pos).negate();
            assertEquals('(', c, "expression start in " + e);
            BigInteger a = parse(e, pos);
            char op = e.charAt(pos[0]++);
            if (op == ')') return a;
            BigInteger b = parse(e, pos);
            assertEquals(')', e.charAt(pos[0]++), "closing bracket in " + e);
            return switch (op) { case '+' -> a.add(b); case '-' -> a.subtract(b); case '*' -> a.multiply(b); default -> throw new AssertionError(e); };
        }
    }
}
