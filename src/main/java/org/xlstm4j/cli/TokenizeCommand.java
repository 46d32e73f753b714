package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.tokenizer.BpeTokenizer;
import org.xlstm4j.tokenizer.BpeTokens;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.StringJoiner;
import java.util.concurrent.Callable;

/** {@code xlstm tokenize}: text to ids, ids to text, or the token count of a file, with a Hugging Face tokenizer.json. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Encode or decode with a byte-level BPE tokenizer.json (the GPT-2 / GPT-NeoX family of xLSTM-7B).",
                "--text prints the ids as a JSON array; --decode prints the text of ids; --file prints the number of "
                        + "tokens of a text file and its bytes per token."})
public final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "the tokenizer.json to use")
    Path tokenizer;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", paramLabel = "TEXT", description = "text to encode")
        String text;

        @Option(names = "--decode", paramLabel = "IDS", description = "ids to decode: 1,2,3 or a JSON array [1, 2, 3]")
        String decode;

        @Option(names = "--file", paramLabel = "FILE", description = "a UTF-8 text file to count tokens of")
        Path file;
    }

    @Option(names = "--no-special", description = "--text: leave out the ids the tokenizer's post-processor adds "
            + "(e.g. a BOS token); --decode: nothing")
    boolean noSpecial;

    @Option(names = "--keep-special", description = "--decode: keep special tokens such as <|endoftext|> in the text "
            + "(by default they are left out, as in Hugging Face tokenizers)")
    boolean keepSpecial;

    @Spec CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        BpeTokenizer tok = BpeTokenizer.load(tokenizer);
        if (input.text != null) {
            StringJoiner json = new StringJoiner(", ", "[", "]");
            for (int id : tok.encode(input.text, !noSpecial)) json.add(Integer.toString(id));
            out.println(json);
        } else if (input.decode != null) {
            out.println(tok.decode(parseIds(input.decode), !keepSpecial));
        } else {
            BpeTokens tokens = BpeTokens.fromFile(input.file, tok);
            out.println("tokens: " + tokens.ids().length);
            out.println(String.format(Locale.ROOT, "bytes/token: %.4f", tokens.bytesPerToken()));
        }
        out.flush();
        return 0;
    }

    /** Ids separated by commas and/or spaces, optionally inside [ ]. */
    static int[] parseIds(String text) {
        String body = text.strip();
        if (body.startsWith("[") && body.endsWith("]")) body = body.substring(1, body.length() - 1).strip();
        if (body.isEmpty()) return new int[0];
        return Arrays.stream(body.split("[,\\s]+")).mapToInt(s -> {
            try {
                return Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new UserError("--decode: '" + s + "' is not a token id (expected ids like 1,2,3)");
            }
        }).toArray();
    }
}
