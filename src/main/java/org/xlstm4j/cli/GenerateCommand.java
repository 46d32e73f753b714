package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.infer.Generator;
import org.xlstm4j.infer.Sampler;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.io.SafetensorsWriter;
import org.xlstm4j.model.LMState;
import org.xlstm4j.model.LanguageModel;
import org.xlstm4j.model.Models;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.train.Checkpoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code xlstm generate}: continue a text prompt (streamed) or a batch of id prompts from a checkpoint. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Continue a prompt with a trained model. The prompt is read once through the full-sequence "
                + "(chunkwise) path; each new token is then one recurrent step (constant memory per token).",
                "Text mode (--prompt) needs a byte-level model (vocabulary 256) and streams to stdout; "
                + "id mode (--input/--out) reads input.idx (I64 [B,T]) and writes output.greedy_ids (I64 [B,T+N])."})
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "checkpoint folder, or a run folder holding checkpoint/")
    Path model;
    @Option(names = "--prompt", description = "text to continue (default: a newline)") String prompt;
    @Option(names = "--max-new-tokens", defaultValue = "200", description = "tokens to generate (default: ${DEFAULT-VALUE})") int maxNewTokens;
    @Option(names = "--temperature", defaultValue = "0.8", description = "sampling temperature, 0 = greedy (default: ${DEFAULT-VALUE})") double temperature;
    @Option(names = "--top-k", defaultValue = "0", description = "keep the k most likely tokens, 0 = all (default: ${DEFAULT-VALUE})") int topK;
    @Option(names = "--top-p", defaultValue = "1.0", description = "nucleus sampling threshold, 1 = off (default: ${DEFAULT-VALUE})") double topP;
    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--greedy", description = "always take the most likely token (same as --temperature 0)") boolean greedy;
    @Option(names = "--input", paramLabel = "FILE", description = "safetensors file with input.idx (I64 [B,T]) prompts") Path input;
    @Option(names = "--out", paramLabel = "FILE", description = "with --input: where to write output.greedy_ids") Path out;
    @Option(names = "--threads", description = "worker threads (default: all cores)") Integer threads;
    @Option(names = "--load-state", paramLabel = "FILE", description = "continue from a recurrent state saved by --save-state (the prompt is read after it)") Path loadState;
    @Option(names = "--save-state", paramLabel = "FILE", description = "write the recurrent state after the prompt and the generated tokens") Path saveState;

    @Override public Integer call() throws Exception {
        Path dir = Files.isDirectory(model.resolve(Checkpoints.DIR)) ? Checkpoints.latest(model) : model;
        try (CpuKernels kernels = threads == null ? new CpuKernels() : new CpuKernels(threads)) {
            LanguageModel lm = Models.load(dir, kernels);
            int V = lm.vocabSize();
            Sampler sampler = greedy || temperature == 0 ? Sampler.greedy(V) : new Sampler(V, temperature, topK, topP, seed);
            Generator gen = new Generator(lm);
            if (input != null) {
                if (out == null) throw new UserError("--input needs --out FILE for output.greedy_ids");
                if (prompt != null) throw new UserError("give either --prompt or --input, not both");
                int[] idx;
                int B, T;
                try (SafetensorsFile in = SafetensorsFile.open(input)) {
                    if (!in.contains("input.idx")) throw new UserError(input + ": no tensor 'input.idx' (I64 [B, T])");
                    long[] shape = in.info("input.idx").shape();
                    if (shape.length != 2) throw new UserError(input + ": input.idx must be 2-D [B, T]");
                    B = Math.toIntExact(shape[0]);
                    T = Math.toIntExact(shape[1]);
                    idx = ForwardCommand.ids(in.longs("input.idx"), V, "input.idx");
                }
                LMState state = state(lm, B);
                int[] ids = gen.generate(idx, B, T, maxNewTokens, sampler, state, null);
                if (saveState != null) state.save(saveState);
                long[] l = new long[ids.length];
                for (int i = 0; i < ids.length; i++) l[i] = ids[i];
                new SafetensorsWriter().putLongs("output.greedy_ids", l, B, T + maxNewTokens).write(out);
                System.out.println("wrote " + out + " (output.greedy_ids [" + B + ", " + (T + maxNewTokens) + "])");
                return 0;
            }
            if (V != 256)
                throw new UserError(dir + ": vocabulary " + V + " is not byte-level (256); give token ids with --input/--out");
            String text = prompt == null ? "\n" : prompt;
            System.out.print(text);
            LMState state = state(lm, 1);
            streamBytes(gen, text.getBytes(StandardCharsets.UTF_8), maxNewTokens, sampler, state);
            System.out.println();
            if (saveState != null) {
                state.save(saveState);
                System.err.println("state written to " + saveState);
            }
        }
        return 0;
    }

    private LMState state(LanguageModel lm, int B) {
        LMState s = lm.newState(B);
        if (loadState != null) s.load(loadState);
        return s;
    }

    /** Generates byte tokens after a byte prompt and writes each to stdout as soon as it is chosen. */
    static void streamBytes(Generator gen, byte[] prompt, int maxNewTokens, Sampler sampler, LMState state) {
        int[] ids = new int[Math.max(prompt.length, 1)];
        if (prompt.length == 0) ids[0] = '\n';
        for (int i = 0; i < prompt.length; i++) ids[i] = prompt[i] & 0xff;
        gen.generate(ids, 1, ids.length, maxNewTokens, sampler, state, tok -> {
            System.out.write(tok);
            System.out.flush();
        });
    }
}
