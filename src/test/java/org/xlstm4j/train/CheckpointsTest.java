package org.xlstm4j.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class CheckpointsTest {
    private static long count(Path run) throws IOException {
        try (Stream<Path> s = Files.list(run)) {
            return s.count();
        }
    }

    @Test void replacesTheCheckpointAndCleansUp(@TempDir Path run) throws Exception {
        Checkpoints.write(run, d -> Files.writeString(d.resolve("a.txt"), "one"));
        Checkpoints.write(run, d -> Files.writeString(d.resolve("a.txt"), "two"));
        assertEquals("two", Files.readString(run.resolve("checkpoint/a.txt")));
        assertEquals(1, count(run));
    }

    @Test void aFailedWriteLeavesTheOldCheckpoint(@TempDir Path run) throws Exception {
        Checkpoints.write(run, d -> Files.writeString(d.resolve("a.txt"), "good"));
        assertThrows(IOException.class, () -> Checkpoints.write(run, d -> {
            Files.writeString(d.resolve("a.txt"), "half");
            throw new IOException("disk full");
        }));
        assertEquals("good", Files.readString(run.resolve("checkpoint/a.txt")));
        assertEquals(1, count(run));
    }

    @Test void recoversFromACrashBetweenTheRenames(@TempDir Path run) throws Exception {
        // state after "rename old aside" and before "rename new into place": only old and tmp exist
        Files.createDirectories(run.resolve(".checkpoint.old-1234"));
        Files.writeString(run.resolve(".checkpoint.old-1234/a.txt"), "old");
        Files.createDirectories(run.resolve(".checkpoint.tmp-5678"));
        Files.writeString(run.resolve(".checkpoint.tmp-5678/a.txt"), "partial");
        assertTrue(Checkpoints.exists(run));
        Path dir = Checkpoints.latest(run);
        assertEquals("old", Files.readString(dir.resolve("a.txt")));
        assertEquals(1, count(run));
    }

    @Test void noCheckpointIsAUserError(@TempDir Path run) throws Exception {
        assertFalse(Checkpoints.exists(run));
        assertTrue(assertThrows(UserError.class, () -> Checkpoints.latest(run)).getMessage().contains("no checkpoint"));
        assertThrows(UserError.class, () -> Checkpoints.latest(run.resolve("missing")));
    }
}
