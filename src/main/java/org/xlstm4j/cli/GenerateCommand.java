package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.infer.Generator;
import org.xlstm4j.infer.Sampler;
import org.xlstm4j.infer.TextCodec;
import org.xlstm4j.tokenizer.BpeTokenizer;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.io.SafetensorsWriter;
import org.xlstm4j.model.LMState;
import org.xlstm4j.model.LanguageModel;
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
                "Text mode (--prompt) uses the checkpoint's tokenizer.json (or bytes for a 256-token vocabulary) and streams to stdout; "
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
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda (both architectures on the GPU; default: ${DEFAULT-VALUE})") String device;
    @Option(names = "--precision", defaultValue = "stored", description = "with --device cuda: stored (matrices in the checkpoint's dtype) or fp32 (default: ${DEFAULT-VALUE})") String precision;
    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json for text prompts (default: the checkpoint's tokenizer.json if present, else bytes)") Path tokenizer;
    @Option(names = "--load-state", paramLabel = "FILE", description = "continue from a recurrent state saved by --save-state (the prompt is read after it)") Path loadState;
    @Option(names = "--save-state", paramLabel = "FILE", description = "write the recurrent state after the prompt and the generated tokens") Path saveState;

    @Override public Integer call() throws Exception {
        checkOptions();
        // a run folder's checkpoint, read only (no recovery of an interrupted swap: the run may be training right now)
        Path dir = Files.isDirectory(model.resolve(Checkpoints.DIR)) ? model.resolve(Checkpoints.DIR) : model;
        try (CpuKernels kernels = threads == null ? new CpuKernels() : new CpuKernels(threads)) {
            LanguageModel lm = Devices.load(dir, device, precision, kernels);
            int V = lm.vocabSize();
            Sampler sampler = greedy || temperature == 0 ? Sampler.greedy(V) : new Sampler(V, temperature, topK, topP, seed);
            Generator gen = new Generator(lm);
            if (input != null) {
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
            TextCodec codec = codec(dir, V);
            String text = prompt == null ? "\n" : prompt;
            LMState state = state(lm, 1);
            System.out.print(text);
            streamText(gen, codec, text, maxNewTokens, sampler, state);
            System.out.println();
            if (saveState != null) {
                state.save(saveState);
                System.err.println("state written to " + saveState);
            }
        }
        return 0;
    }

    /** Option mistakes that need no model: found before anything is loaded or printed. */
    private void checkOptions() {
        if (maxNewTokens < 0) throw new UserError("--max-new-tokens must be >= 0, got " + maxNewTokens);
        if (out != null && input == null) throw new UserError("--out writes the ids of --input prompts; with --prompt the text goes to stdout");
        if (input != null && out == null) throw new UserError("--input needs --out FILE for output.greedy_ids");
        if (input != null && prompt != null) throw new UserError("give either --prompt or --input, not both");
        Devices.checkPrecision(precision);
        if (loadState != null && !Files.isRegularFile(loadState)) throw new UserError("--load-state " + loadState + ": no such file");
        for (Path p : new Path[] {saveState, out}) {
            Path parent = p == null ? null : p.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent))
                throw new UserError(p + ": cannot write there, " + parent + " is not a folder");
            if (p != null && Files.isDirectory(p)) throw new UserError(p + ": is a folder; give a file name");
        }
    }

    private LMState state(LanguageModel lm, int B) {
        LMState s = lm.newState(B);
        if (loadState != null) s.load(loadState);
        return s;
    }

    /** The tokenizer: --tokenizer, else the checkpoint's tokenizer.json, else bytes for a 256-token vocabulary. */
    private TextCodec codec(Path dir, int V) {
        Path tok = tokenizer != null ? tokenizer : dir.resolve("tokenizer.json");
        if (Files.exists(tok)) {
            BpeTokenizer t = BpeTokenizer.load(tok);
            if (t.vocabSize() > V)
                throw new UserError(tok + ": tokenizer has " + t.vocabSize() + " tokens but the model's vocabulary is " + V);
            return TextCodec.of(t);
        }
        if (tokenizer != null) throw new UserError(tokenizer + ": no such file");
        if (V != 256)
            throw new UserError(dir + ": vocabulary " + V + " is not byte-level (256) and there is no tokenizer.json; "
                    + "give --tokenizer FILE or token ids with --input/--out");
        return TextCodec.bytes();
    }

    /** Generates after a text prompt and prints each piece of text as soon as it is complete. */
    static void streamText(Generator gen, TextCodec codec, String prompt, int maxNewTokens, Sampler sampler, LMState state) {
        int[] ids = codec.encode(prompt);
        if (ids.length == 0) ids = codec.encode("\n");
        gen.generate(ids, 1, ids.length, maxNewTokens, sampler, state, codec.printer(System.out));
    }
}
