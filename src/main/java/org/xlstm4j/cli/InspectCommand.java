package org.xlstm4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.xlstm4j.UserError;
import org.xlstm4j.io.DType;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.io.ShardedSafetensors;
import org.xlstm4j.io.TensorInfo;
import org.xlstm4j.io.TensorSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code xlstm inspect FILE|DIR}: what a checkpoint holds (tensors, parameter count, metadata, config.json). */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Show the tensors of a safetensors file or checkpoint folder: names, dtypes, shapes, the parameter "
                + "count, the metadata and, for a folder, the fields of config.json.",
                "A folder holds model.safetensors or a sharded model.safetensors.index.json."})
public final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE|DIR", description = "a .safetensors file, a *.index.json, a model folder, or a run folder (its checkpoint)")
    Path path;

    @Spec CommandSpec spec;

    @Override public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (Files.isDirectory(path.resolve(org.xlstm4j.train.Checkpoints.DIR)) && !Files.exists(path.resolve("model.safetensors"))
                && !Files.exists(path.resolve("model.safetensors.index.json")))
            path = path.resolve(org.xlstm4j.train.Checkpoints.DIR);  // a run folder: its checkpoint (read only, no recovery)
        Path configFile = path.resolve("config.json");
        Map<String, String> config = Files.isDirectory(path) && Files.isRegularFile(configFile) ? readConfig(configFile) : null;
        try (TensorSource src = TensorSource.openCheckpoint(path)) {
            printSource(out, src);
        }
        if (config != null) {
            out.println("config.json:");
            config.forEach((k, v) -> out.printf("  %s: %s%n", k, v));
        }
        out.flush();
        return 0;
    }

    private static void printSource(PrintWriter out, TensorSource src) {
        if (src instanceof ShardedSafetensors sharded) {
            out.printf("%s: sharded checkpoint, %d shards%n", src.path(), sharded.shards().size());
            for (SafetensorsFile shard : sharded.shards())
                out.printf("  %s  (%d tensors)%n", shard.path().getFileName(), shard.names().size());
        } else {
            out.printf("%s: safetensors file%n", src.path());
        }

        Map<String, String> metadata = src.metadata();
        out.println(metadata.isEmpty() ? "metadata: none" : "metadata:");
        metadata.forEach((k, v) -> out.printf("  %s: %s%n", k, v));

        int nameWidth = 4;
        for (String name : src.names()) nameWidth = Math.max(nameWidth, name.length());
        out.printf("tensors (%d):%n", src.names().size());
        Map<DType, Long> perDtype = new EnumMap<>(DType.class);
        long params = 0, bytes = 0;
        for (String name : src.names()) {
            TensorInfo t = src.info(name);
            out.printf("  %-" + nameWidth + "s  %-4s  %s%n", name, t.dtype(), Arrays.toString(t.shape()));
            perDtype.merge(t.dtype(), t.numel(), Long::sum);
            params += t.numel();
            bytes += t.byteSize();
        }
        StringBuilder split = new StringBuilder();
        perDtype.forEach((d, n) -> split.append(split.isEmpty() ? "" : ", ").append(d).append(": ").append(group(n)));
        out.printf("parameters: %s (%s bytes%s)%n", group(params), group(bytes), split.isEmpty() ? "" : "; " + split);
    }

    /** The top-level fields of config.json, values as written (numbers keep their text, e.g. 1e-06). */
    private static Map<String, String> readConfig(Path config) {
        Map<String, String> fields = new LinkedHashMap<>();
        try (JsonParser p = new ObjectMapper().createParser(config.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new UserError(config + ": not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken value = p.nextToken();
                fields.put(key, value.isStructStart() ? p.readValueAsTree().toString() : p.getText());
            }
        } catch (JsonProcessingException e) {
            throw new UserError(config + ": malformed JSON: " + e.getOriginalMessage().split("\n", 2)[0]);
        } catch (IOException e) {
            throw new UserError(config + ": cannot read: " + e.getMessage());
        }
        return fields;
    }

    private static String group(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
