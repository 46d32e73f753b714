package org.xlstm4j.train;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import org.xlstm4j.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Contents of {@code trainer.json} in a checkpoint: the configuration, the number of updates done, the seed, the
 * data identity and the best validation loss so far (null before the first evaluation).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record TrainerState(String format, int step, long seed, TrainConfig config, DataInfo data, Double bestValLoss) {
    /** Value of {@link #format()} written by this version. */
    public static final String FORMAT = "xlstm4j-trainer-1";
    /** File name inside a checkpoint folder. */
    public static final String FILE = "trainer.json";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** JSON text of this state. */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads {@code trainer.json} from a checkpoint folder. */
    public static TrainerState read(Path checkpointDir) {
        Path file = checkpointDir.resolve(FILE);
        try {
            TrainerState s = JSON.readValue(Files.readString(file), TrainerState.class);
            if (!FORMAT.equals(s.format()) || s.config() == null || s.data() == null)
                throw new UserError(file + ": not an xlstm4j trainer state (format " + s.format() + ")");
            return s;
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file (not a training checkpoint)");
        } catch (IOException e) {
            if (e.getCause() instanceof UserError u) throw new UserError(file + ": " + u.getMessage(), u);
            throw new UserError(file + ": cannot read: " + e.getMessage().split("\n", 2)[0], e);
        }
    }
}
