package org.xlstm4j.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.xlstm4j.io.SafetensorsException.quote;

/**
 * A checkpoint split over several safetensors files, as Hugging Face {@code save_pretrained} writes large models: an
 * index {@code model.safetensors.index.json} of the form {@code {"metadata": {...}, "weight_map": {name: shard file}}}
 * next to the shard files. Opening maps every shard and checks that the index and the shards agree exactly: every
 * shard exists and is a valid safetensors file, holds every tensor the index maps to it, and holds no tensor the index
 * maps elsewhere or does not list. Shard names must be plain file names in the index's folder.
 */
public final class ShardedSafetensors implements TensorSource {
    /** Index files larger than this are rejected (a real index is a few hundred kilobytes). */
    static final long MAX_INDEX_BYTES = 100_000_000L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path indexPath;
    private final Map<String, String> metadata;
    private final LinkedHashMap<String, SafetensorsFile> shardOf;
    private final List<SafetensorsFile> shards;

    private ShardedSafetensors(Path indexPath, Map<String, String> metadata, LinkedHashMap<String, SafetensorsFile> shardOf,
                               List<SafetensorsFile> shards) {
        this.indexPath = indexPath;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.shardOf = shardOf;
        this.shards = List.copyOf(shards);
    }

    private static SafetensorsException invalid(Path index, String problem) {
        return new SafetensorsException(index + ": not a valid sharded-checkpoint index: " + problem);
    }

    /** Opens the checkpoint described by an index file; throws {@link SafetensorsException} on any problem. */
    public static ShardedSafetensors open(Path indexFile) {
        Map<String, String> metadata = new LinkedHashMap<>();
        LinkedHashMap<String, String> weightMap = readIndex(indexFile, metadata);
        Path dir = indexFile.toAbsolutePath().getParent();

        Map<String, SafetensorsFile> byFileName = new LinkedHashMap<>();
        try {
            LinkedHashMap<String, SafetensorsFile> shardOf = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String shardName = e.getValue();
                SafetensorsFile shard = byFileName.get(shardName);
                if (shard == null) {
                    Path shardPath = indexFile.resolveSibling(shardName);
                    if (!Files.isRegularFile(shardPath))
                        throw invalid(indexFile, "shard " + quote(shardName) + " does not exist in " + dir);
                    shard = SafetensorsFile.open(shardPath);
                    byFileName.put(shardName, shard);
                }
                if (!shard.contains(e.getKey()))
                    throw invalid(indexFile, "tensor " + quote(e.getKey()) + " is mapped to shard " + quote(shardName)
                            + ", which does not hold it");
                shardOf.put(e.getKey(), shard);
            }
            for (Map.Entry<String, SafetensorsFile> e : byFileName.entrySet()) {
                for (String name : e.getValue().names()) {
                    String mapped = weightMap.get(name);
                    if (mapped == null)
                        throw invalid(indexFile, "shard " + quote(e.getKey()) + " holds tensor " + quote(name) + ", which the index does not list");
                    if (!mapped.equals(e.getKey()))
                        throw invalid(indexFile, "shard " + quote(e.getKey()) + " holds tensor " + quote(name)
                                + ", which the index maps to " + quote(mapped));
                }
            }
            return new ShardedSafetensors(indexFile, metadata, shardOf, new ArrayList<>(byFileName.values()));
        } catch (RuntimeException | Error e) {
            for (SafetensorsFile f : byFileName.values()) f.close();
            throw e;
        }
    }

    /** Parses the index: fills {@code metadata} (values as text) and returns the weight map in file order. */
    private static LinkedHashMap<String, String> readIndex(Path indexFile, Map<String, String> metadata) {
        byte[] bytes;
        try {
            long size = Files.size(indexFile);
            if (size > MAX_INDEX_BYTES) throw invalid(indexFile, "file of " + size + " bytes is implausibly large");
            bytes = Files.readAllBytes(indexFile);
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(indexFile + ": no such file");
        } catch (AccessDeniedException e) {
            throw new SafetensorsException(indexFile + ": permission denied");
        } catch (IOException e) {
            throw new SafetensorsException(indexFile + ": cannot read: " + e.getMessage(), e);
        }
        LinkedHashMap<String, String> weightMap = null;
        boolean sawMetadata = false;
        try (JsonParser p = JSON.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw invalid(indexFile, "not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                switch (key) {
                    case "metadata" -> {
                        if (sawMetadata) throw invalid(indexFile, "duplicate key 'metadata'");
                        sawMetadata = true;
                        if (p.currentToken() == JsonToken.VALUE_NULL) break;
                        if (p.currentToken() != JsonToken.START_OBJECT) throw invalid(indexFile, "'metadata' is not an object");
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String k = p.currentName();
                            p.nextToken();
                            String v = p.currentToken() == JsonToken.VALUE_STRING ? p.getText() : p.readValueAsTree().toString();
                            if (metadata.putIfAbsent(k, v) != null) throw invalid(indexFile, "duplicate key " + quote(k) + " in 'metadata'");
                        }
                    }
                    case "weight_map" -> {
                        if (weightMap != null) throw invalid(indexFile, "duplicate key 'weight_map'");
                        if (p.currentToken() != JsonToken.START_OBJECT) throw invalid(indexFile, "'weight_map' is not an object");
                        weightMap = new LinkedHashMap<>();
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String tensor = p.currentName();
                            if (p.nextToken() != JsonToken.VALUE_STRING)
                                throw invalid(indexFile, "weight_map entry " + quote(tensor) + " is not a file name string");
                            String shard = p.getText();
                            if (!isPlainFileName(shard))
                                throw invalid(indexFile, "weight_map entry " + quote(tensor) + " names " + quote(shard)
                                        + ", which is not a plain file name in the index's folder");
                            if (weightMap.putIfAbsent(tensor, shard) != null)
                                throw invalid(indexFile, "tensor " + quote(tensor) + " is listed twice in weight_map");
                        }
                    }
                    default -> p.skipChildren();
                }
            }
            if (p.nextToken() != null) throw invalid(indexFile, "extra content after the JSON object");
        } catch (JsonProcessingException e) {
            String msg = e.getOriginalMessage() == null ? "" : e.getOriginalMessage().split("[\\r\\n]", 2)[0];
            String q = quote(msg);
            throw invalid(indexFile, "malformed JSON: " + q.substring(1, q.length() - 1));
        } catch (IOException e) {
            throw invalid(indexFile, "malformed JSON: " + e.getMessage());
        }
        if (weightMap == null) throw invalid(indexFile, "no 'weight_map'");
        if (weightMap.isEmpty()) throw invalid(indexFile, "'weight_map' lists no tensors");
        return weightMap;
    }

    private static boolean isPlainFileName(String s) {
        return !s.isEmpty() && !s.equals(".") && !s.equals("..") && s.indexOf('/') < 0 && s.indexOf('\\') < 0
                && s.indexOf('\0') < 0 && s.indexOf(':') < 0;
    }

    /** The index file. */
    @Override public Path path() { return indexPath; }

    /** The index's {@code metadata} (for example {@code total_size}), values as text. */
    @Override public Map<String, String> metadata() { return metadata; }

    /** Tensor names in the order of the index's weight map. */
    @Override public List<String> names() { return List.copyOf(shardOf.keySet()); }

    @Override public boolean contains(String name) { return shardOf.containsKey(name); }

    @Override public TensorInfo info(String name) { return shard(name).info(name); }

    @Override public MemorySegment segment(String name) { return shard(name).segment(name); }

    /** The shard that holds a tensor. */
    public SafetensorsFile shard(String name) {
        SafetensorsFile f = shardOf.get(name);
        if (f == null) throw new SafetensorsException(indexPath + ": no tensor named " + quote(name));
        return f;
    }

    /** The shards, in the order the index first mentions them. */
    public List<SafetensorsFile> shards() { return shards; }

    /** Unmaps every shard. */
    @Override public void close() {
        for (SafetensorsFile f : shards) f.close();
    }

    @Override public String toString() {
        return "ShardedSafetensors[" + indexPath + ", " + shards.size() + " shards, " + shardOf.size() + " tensors]";
    }
}
