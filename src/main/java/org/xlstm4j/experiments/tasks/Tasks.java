package org.xlstm4j.experiments.tasks;

import org.xlstm4j.UserError;

import java.util.List;

/** The registry of tasks by command-line name: the paper's 15 formal-language tasks and MQAR experiment 1. */
public final class Tasks {
    private Tasks() {}

    /** The 15 formal-language tasks (paper appendix B.1.1), in the order of the paper's tables. */
    public static final List<String> FORMAL = List.of(
            "bucket_sort", "missing_duplicate", "mod_arith_brackets", "solve_equation", "cycle_nav", "even_pairs",
            "mod_arith", "parity", "majority", "majority_count",
            "odds_first", "reverse_string", "stack_manipulation", "repetition", "set");

    /** The 10 tasks of the paper's Figure 4 (context-sensitive, deterministic context-free, regular, counting). */
    public static final List<String> FIGURE4 = FORMAL.subList(0, 10);

    /** MQAR experiment 1: (T, K) ∈ {(64, 4), (128, 8), (256, 16)}, V = 8192. */
    public static final List<String> MQAR = List.of("mqar64", "mqar128", "mqar256");

    /** A new instance of the task called {@code name} (each instance has its own scratch space). */
    public static Task create(String name) {
        return switch (name) {
            case "parity" -> new Parity();
            case "even_pairs" -> new EvenPairs();
            case "cycle_nav" -> new CycleNavigation();
            case "mod_arith" -> new ModularArithmetic();
            case "mod_arith_brackets" -> new ModularArithmeticBrackets();
            case "solve_equation" -> new SolveEquation();
            case "majority" -> new Majority();
            case "majority_count" -> new MajorityCount();
            case "missing_duplicate" -> new MissingDuplicate();
            case "bucket_sort" -> new BucketSort();
            case "odds_first" -> new StringTransduction(StringTransduction.Kind.ODDS_FIRST);
            case "repetition" -> new StringTransduction(StringTransduction.Kind.REPETITION);
            case "reverse_string" -> new StringTransduction(StringTransduction.Kind.REVERSE);
            case "stack_manipulation" -> new StackManipulation();
            case "set" -> new SetTask();
            case "mqar64" -> Mqar.experiment1(64);
            case "mqar128" -> Mqar.experiment1(128);
            case "mqar256" -> Mqar.experiment1(256);
            default -> throw new UserError("unknown task '" + name + "'; tasks: " + String.join(", ", FORMAL) + ", "
                    + String.join(", ", MQAR));
        };
    }
}
