package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.infer.Generator;
import org.xlstm4j.infer.Sampler;
import org.xlstm4j.infer.TextCodec;
import org.xlstm4j.large.LargeTrainable;
import org.xlstm4j.model.Models;
import org.xlstm4j.tokenizer.BpeTokenizer;
import org.xlstm4j.tokenizer.BpeTokens;
import org.xlstm4j.model.Checkpoint;
import org.xlstm4j.model.XLstmConfig;
import org.xlstm4j.model.XLstmInit;
import org.xlstm4j.model.XLstmLM;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.train.*;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code xlstm train}: trains the paper's xLSTM language model on a text file (default: the bundled KJV). */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train an xLSTM language model (byte-level by default) and print a sample at the end. "
                + "Writes <out>/metrics.jsonl, <out>/loss.png and <out>/checkpoint/ (config.json + model.safetensors in the "
                + "official format, optimizer.safetensors, trainer.json). Ctrl-C stops after the current step with a checkpoint."})
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "FILE", description = "text file to train on (default: the bundled King James Bible)")
    Path data;
    @Option(names = "--out", paramLabel = "DIR", description = "run folder (default: runs/<date-time>; runs/latest points to it)")
    Path out;
    @Option(names = "--tokenizer", paramLabel = "FILE", description = "train on Hugging Face BPE ids (tokenizer.json) instead of bytes; needs --data")
    Path tokenizer;
    @Option(names = "--resume", paramLabel = "DIR", description = "continue the run in DIR exactly where its checkpoint stopped; "
            + "or fine-tune an xLSTM-7B-architecture checkpoint folder DIR (Hugging Face or official; needs --data and --out)")
    Path resume;
    @Option(names = "--train-config", paramLabel = "FILE", description = "training hyper-parameters as JSON (TrainConfig keys); flags below override it")
    Path trainConfig;
    @Option(names = "--steps", description = "optimizer updates (default 600)") Integer steps;
    @Option(names = "--batch-size", description = "sequences per micro-batch (default 16)") Integer batchSize;
    @Option(names = "--context", description = "tokens per sequence (default 128)") Integer context;
    @Option(names = "--grad-accum", description = "micro-batches per update (default 1)") Integer gradAccum;
    @Option(names = "--lr", description = "peak learning rate (default 2e-3)") Double lr;
    @Option(names = "--min-lr-ratio", description = "cosine floor as a fraction of the peak (default 0.1)") Double minLrRatio;
    @Option(names = "--warmup", description = "linear warm-up updates (default 50)") Integer warmup;
    @Option(names = "--weight-decay", description = "AdamW decoupled weight decay (default 0.1)") Double weightDecay;
    @Option(names = "--clip", description = "global gradient-norm clip, 0 disables (default 1.0)") Double clip;
    @Option(names = "--eval-interval", description = "updates between validation runs (default 100)") Integer evalInterval;
    @Option(names = "--eval-batches", description = "validation batches per evaluation (default 8)") Integer evalBatches;
    @Option(names = "--checkpoint-interval", description = "updates between checkpoints (default 100)") Integer checkpointInterval;
    @Option(names = "--log-interval", description = "updates between metrics lines (default 10)") Integer logInterval;
    @Option(names = "--seed", description = "seed of the initialisation and the data order (default 1337)") Long seed;
    @Option(names = "--threads", description = "worker threads (default: all cores)") Integer threads;
    @Option(names = "--chunk-size", defaultValue = "64", description = "mLSTM chunkwise chunk size (default: ${DEFAULT-VALUE})") int chunkSize;
    @Option(names = "--sample-tokens", defaultValue = "300", description = "bytes to generate after training (0 = none; default: ${DEFAULT-VALUE})") int sampleTokens;
    @Option(names = "--sample-prompt", defaultValue = "And God said", description = "prompt of the final sample (default: ${DEFAULT-VALUE})") String samplePrompt;
    @Mixin ModelOptions modelOptions;

    /** Defaults of `xlstm train`: sized so the default model finishes in about 1½ minutes on 2 cores. */
    static TrainConfig defaults() {
        return new TrainConfig(600, 16, 128, 1, 2e-3, 0.1, 50, 0.1, 0.9, 0.95, 1e-8, 1.0,
                100, 8, 100, 1337, 10);
    }

    @Override public Integer call() throws Exception {
        checkFolders();
        try (CpuKernels kernels = threads == null ? new CpuKernels() : new CpuKernels(threads)) {
            if (resume != null && isLarge(resume)) return trainLarge(kernels);
            Trainer trainer;
            XLstmLM model;
            Path runDir;
            if (resume != null) {
                runDir = resume;
                Path ckpt = Checkpoints.latest(runDir);
                model = Checkpoint.load(ckpt, kernels);
                TrainerState saved = TrainerState.read(ckpt);
                TrainConfig cfg = overrides(saved.config());
                model.setMLstmForm(org.xlstm4j.blocks.MLstmLayer.Form.CHUNKWISE, chunkSize);
                Tokens tokens = openTokens(saved.data().source());
                TextDataset ds = new TextDataset(tokens, cfg.contextLength(), cfg.seed());
                trainer = Trainer.resume(runDir, new XLstmTrainable(model, bpe == null ? null : bpe.path()), ds, cfg);
                System.out.println("resuming " + runDir + " at step " + trainer.step() + " of " + cfg.steps());
            } else {
                TrainConfig cfg = overrides(trainConfig != null ? TrainConfig.read(trainConfig) : defaults());
                Tokens tokens = newTokens();
                TextDataset ds = new TextDataset(tokens, cfg.contextLength(), cfg.seed());
                XLstmConfig mc = modelOptions.build(tokens.vocabSize(), cfg.contextLength());
                model = new XLstmLM(mc, kernels);
                XLstmInit.apply(model, cfg.seed());
                model.setMLstmForm(org.xlstm4j.blocks.MLstmLayer.Form.CHUNKWISE, chunkSize);
                runDir = out != null ? out : Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
                System.out.printf("model: %s, %,d parameters; data: %s (%,d train / %,d validation tokens); run folder: %s%n",
                        mc, model.parameterCount(), tokens.source(), ds.trainTokens(), ds.valTokens(), runDir);
                trainer = new Trainer(cfg, new XLstmTrainable(model, bpe == null ? null : bpe.path()), ds, runDir);
                if (out == null) linkLatest(runDir);
            }
            runStoppable(trainer);
            Path ckpt = runDir.resolve(Checkpoints.DIR);
            System.out.println("checkpoint: " + ckpt);
            if (sampleTokens > 0) {
                TextCodec codec = bpe != null ? TextCodec.of(bpe) : TextCodec.bytes();
                System.out.println("sample (temperature 0.8, top-k 40):");
                System.out.print(samplePrompt);
                GenerateCommand.streamText(new Generator(model), codec, samplePrompt, sampleTokens,
                        new Sampler(model.config.vocabSize, 0.8, 40, 1.0, 1), null);
                System.out.println();
                System.out.println("continue with: ./xlstm generate --model " + ckpt + " --prompt \"" + samplePrompt + "\"");
            }
        }
        return 0;
    }

    private BpeTokenizer bpe;

    /**
     * Runs the trainer with a progress bar; Ctrl-C (a shutdown hook) asks it to stop after the current step and waits
     * up to two minutes for the checkpoint it then writes.
     */
    private static void runStoppable(Trainer trainer) throws java.io.IOException {
        trainer.listener(ProgressBar.forConsole());
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            trainer.requestStop();
            try { done.await(120, TimeUnit.SECONDS); } catch (InterruptedException ignored) { }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            trainer.run();
        } finally {
            done.countDown();
            try { Runtime.getRuntime().removeShutdownHook(hook); } catch (IllegalStateException ignored) { }
        }
    }

    /**
     * Checks before anything is built: --out must be (or become) a folder; --resume takes a run folder (its checkpoint/
     * folder is accepted too) and keeps the architecture of its checkpoint, so the flags that shape a new model are refused.
     */
    private void checkFolders() {
        if (out != null) {
            for (Path p = out.toAbsolutePath(); p != null; p = p.getParent())
                if (Files.exists(p) && !Files.isDirectory(p))
                    throw new UserError("--out " + out + ": " + p + " is a file, not a folder");
        }
        if (resume != null) {
            Path abs = resume.toAbsolutePath().normalize();
            if (Files.isRegularFile(abs.resolve(TrainerState.FILE)) && abs.getFileName() != null
                    && abs.getFileName().toString().equals(Checkpoints.DIR))
                resume = abs.getParent();                                // the run folder of a checkpoint folder
            String flag = modelOptions.firstGiven();
            if (flag != null)
                throw new UserError(flag + " shapes a new model; --resume " + resume + " continues with its checkpoint's "
                        + "architecture (drop " + flag + ", or train a new model without --resume)");
        }
        boolean continuesRun = resume != null && Files.isDirectory(resume)
                && !Files.exists(resume.resolve("config.json")) && !Files.exists(resume.resolve("config.yaml"));
        if (continuesRun && out != null)
            throw new UserError("--resume " + resume + " continues that run in its own folder; drop --out (or give a model "
                    + "checkpoint folder to --resume to start a new fine-tuning run in --out)");
        if (continuesRun && trainConfig != null)
            throw new UserError("--resume " + resume + " keeps the run's training config; change single values with flags "
                    + "such as --steps or --lr instead of --train-config");
        try {
            if (!continuesRun && out != null && Checkpoints.exists(out))
                throw new UserError(out + ": already holds a checkpoint; resume it with --resume " + out + " or choose another run folder");
        } catch (java.io.IOException e) {
            throw new UserError(out + ": cannot read: " + e.getMessage(), e);
        }
    }

    private Tokens newTokens() {
        if (tokenizer != null) {
            if (data == null) throw new UserError("--tokenizer needs --data FILE (the bundled corpus is trained byte-level)");
            bpe = BpeTokenizer.load(tokenizer);
            return BpeTokens.fromFile(data, bpe);
        }
        return data != null ? ByteTokens.fromFile(data) : BundledCorpus.kjv();
    }

    private Tokens openTokens(String source) {
        if (source.contains("|tokenizer:")) {
            BpeTokens t = BpeTokens.open(source);
            bpe = BpeTokenizer.load(Path.of(source.substring(source.indexOf("|tokenizer:") + "|tokenizer:".length())));
            return t;
        }
        return data != null ? ByteTokens.fromFile(data) : ByteTokens.open(source);
    }

    private TrainConfig overrides(TrainConfig c) {
        return new TrainConfig(
                steps != null ? steps : c.steps(),
                batchSize != null ? batchSize : c.batchSize(),
                context != null ? context : c.contextLength(),
                gradAccum != null ? gradAccum : c.gradAccum(),
                lr != null ? lr : c.lr(),
                minLrRatio != null ? minLrRatio : c.minLrRatio(),
                warmup != null ? warmup : c.warmupSteps(),
                weightDecay != null ? weightDecay : c.weightDecay(),
                c.beta1(), c.beta2(), c.eps(),
                clip != null ? clip : c.clipNorm(),
                evalInterval != null ? evalInterval : c.evalInterval(),
                evalBatches != null ? evalBatches : c.evalBatches(),
                checkpointInterval != null ? checkpointInterval : c.checkpointInterval(),
                seed != null ? seed : c.seed(),
                logInterval != null ? logInterval : c.logInterval());
    }

    private static void linkLatest(Path runDir) {
        try {
            Path latest = runDir.toAbsolutePath().getParent().resolve("latest");
            Files.createDirectories(latest.getParent());
            Files.deleteIfExists(latest);
            Files.createSymbolicLink(latest, latest.getParent().relativize(runDir.toAbsolutePath()));
        } catch (Exception e) {
            if (e instanceof UserError u) throw u;
            // a missing symlink only costs convenience
        }
    }

    // ---- xLSTM Large (the xLSTM-7B architecture): `--resume DIR` on a checkpoint folder starts a fine-tuning run in
    //      --out; `--resume RUN` on such a run continues it. The paper model's path above is not involved.

    /** An xLSTM-Large checkpoint folder (not itself a training checkpoint), or a run folder whose checkpoint is one. */
    private static boolean isLarge(Path dir) {
        if (!Files.isDirectory(dir)) return false;
        if (Files.exists(dir.resolve("config.json")) || Files.exists(dir.resolve("config.yaml")))
            return !Files.exists(dir.resolve(TrainerState.FILE)) && Models.kind(dir) == Models.Kind.LARGE;
        return Models.kind(Checkpoints.latest(dir)) == Models.Kind.LARGE;
    }

    private Integer trainLarge(CpuKernels kernels) throws Exception {
        boolean start = Files.exists(resume.resolve("config.json")) || Files.exists(resume.resolve("config.yaml"));
        LargeTrainable model;
        Tokens tokens;
        Trainer trainer;
        Path runDir;
        if (start) {
            if (data == null) throw new UserError("fine-tuning " + resume + " needs --data FILE (the text to train on)");
            if (out == null) throw new UserError("fine-tuning " + resume + " needs --out DIR (the new run folder)");
            model = LargeTrainable.load(resume, kernels);
            Path tok = tokenizer != null ? tokenizer : resume.resolve("tokenizer.json");
            if (tokenizer != null || Files.exists(tok)) {
                bpe = BpeTokenizer.load(tok);
                tokens = BpeTokens.fromFile(data, bpe);
                model.keepTokenizer(tok);
            } else if (model.vocabSize() == ByteTokens.VOCAB) {
                tokens = ByteTokens.fromFile(data);
            } else {
                throw new UserError(resume + ": the model has a vocabulary of " + model.vocabSize() + " tokens and the folder no"
                        + " tokenizer.json; give --tokenizer FILE (byte-level training needs a vocabulary of 256)");
            }
            checkVocab(tokens, model);
            TrainConfig cfg = overrides(trainConfig != null ? TrainConfig.read(trainConfig) : defaults());
            TextDataset ds = new TextDataset(tokens, cfg.contextLength(), cfg.seed());
            runDir = out;
            System.out.printf("fine-tuning %s: %s, %,d parameters; data: %s (%,d train / %,d validation tokens); run folder: %s%n",
                    resume, model.config, model.parameterCount(), tokens.source(), ds.trainTokens(), ds.valTokens(), runDir);
            trainer = new Trainer(cfg, model, ds, runDir);
        } else {
            runDir = resume;
            Path ckpt = Checkpoints.latest(runDir);
            model = LargeTrainable.load(ckpt, kernels);
            TrainerState saved = TrainerState.read(ckpt);
            TrainConfig cfg = overrides(saved.config());
            tokens = openTokens(saved.data().source());
            checkVocab(tokens, model);
            trainer = Trainer.resume(runDir, model, new TextDataset(tokens, cfg.contextLength(), cfg.seed()), cfg);
            System.out.println("resuming " + runDir + " at step " + trainer.step() + " of " + cfg.steps());
        }
        runStoppable(trainer);
        Path ckpt = runDir.resolve(Checkpoints.DIR);
        System.out.println("checkpoint: " + ckpt + " (config and weights in the format of the model it started from)");
        if (sampleTokens > 0) {
            TextCodec codec = bpe != null ? TextCodec.of(bpe) : TextCodec.bytes();
            System.out.println("sample (temperature 0.8, top-k 40):");
            System.out.print(samplePrompt);
            GenerateCommand.streamText(new Generator(model), codec, samplePrompt, sampleTokens,
                    new Sampler(tokens.vocabSize(), 0.8, 40, 1.0, 1), null);
            System.out.println();
        }
        return 0;
    }

    private void checkVocab(Tokens tokens, LargeTrainable model) {
        if (tokens.vocabSize() > model.vocabSize())
            throw new UserError((bpe != null ? bpe.path() : tokens.source()) + ": the tokenizer has " + tokens.vocabSize()
                    + " tokens but the model's vocabulary is " + model.vocabSize());
    }
}
