package dev.zdm.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.ZdmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A folder of migration files: each {@code *.json} directly in it is one migration, {"operations": [request
 * body, …]}, named by its file name without .json, in the order of the names (as Flyway's V1__, V2__ or a
 * date prefix sort). Other files are not migrations and are left alone, but a name that differs from
 * {@code .json} only in case ({@code 0002.JSON}) is a usage error: skipping it would deploy without it.
 */
public final class MigrationFiles {

    static final String SUFFIX = ".json";

    private MigrationFiles() {
    }

    /** The migration files in name order; a folder that does not exist is a usage error. */
    public static List<Path> list(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("apply: " + dir + " is not a directory");
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> regular = files.filter(Files::isRegularFile).toList();
            for (Path f : regular) {
                String fileName = f.getFileName().toString();
                if (!fileName.endsWith(SUFFIX) && fileName.toLowerCase(java.util.Locale.ROOT).endsWith(SUFFIX)) {
                    throw new IllegalArgumentException("apply: " + f + " is not a migration file: name it " + SUFFIX
                            + " in lower case");
                }
            }
            return regular.stream().filter(f -> f.getFileName().toString().endsWith(SUFFIX))
                    .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new IllegalArgumentException("apply: cannot list " + dir + ": " + e.getMessage());
        }
    }

    public static String name(Path file) {
        String fileName = file.getFileName().toString();
        return fileName.substring(0, fileName.length() - SUFFIX.length());
    }

    /**
     * The migration message the file stands for; a file that is not such a migration is error 12 naming
     * it, as the node answers a body it cannot read.
     */
    public static ObjectNode request(Path file, long msgId) {
        JsonNode content;
        try {
            content = Json.MAPPER.readTree(Files.readString(file));
        } catch (JsonProcessingException e) {
            throw ZdmException.malformed(file + " is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ZdmException.malformed(file + " cannot be read: " + e.getMessage());
        }
        if (!(content instanceof ObjectNode migration) || !migration.has("operations")) {
            throw ZdmException.malformed(file + " must be {\"operations\": [request body, ...]}");
        }
        for (var field : migration.properties()) {
            if (!field.getKey().equals("operations")) {
                throw ZdmException.malformed(file + ": unknown key " + field.getKey() + " (a migration file has"
                        + " only operations; its name is the file's name)");
            }
        }
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("type", "migration");
        body.put("msg_id", msgId);
        body.put("name", name(file));
        body.set("operations", migration.get("operations"));
        return body;
    }
}
