package dev.zdm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zdm.handlers.Handlers;
import dev.zdm.pg.ServerVersion;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Node;
import dev.zdm.simulator.SimulatorEngine;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** apply on the simulator: the files it takes, their order, and where it stops. */
class ApplyTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private ExitCode apply() {
        SimulatorEngine engine = SimulatorEngine.withUsersTable(ServerVersion.DEFAULT, 1_000);
        Node node = new Node(Handlers.forEngine(engine, Duration.ofSeconds(2)), new PrintStream(out), m -> { });
        return Apply.run(node, MigrationFiles.list(dir), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private List<JsonNode> replies() throws Exception {
        List<JsonNode> replies = new ArrayList<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                replies.add(Json.MAPPER.readTree(line));
            }
        }
        return replies;
    }

    private void write(String file, String column) throws Exception {
        Files.writeString(dir.resolve(file), """
                {"operations": [{"type": "add_column", "table": "users", "column": "%s"}]}""".formatted(column));
    }

    @Test
    void jsonFilesInNameOrderEachAMigrationNamedByItsFile() throws Exception {
        write("0002_b.json", "b");
        write("0001_a.json", "a");
        write("0010_c.json", "c");
        Files.writeString(dir.resolve("notes.txt"), "not a migration");
        Files.createDirectory(dir.resolve("old.json"));
        assertThat(apply()).isEqualTo(ExitCode.OK);
        assertThat(replies()).extracting(r -> r.get("name").asText()).containsExactly("0001_a", "0002_b", "0010_c");
        assertThat(replies()).extracting(r -> r.get("in_reply_to").asInt()).containsExactly(1, 2, 3);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("0001_a 1/1 add_column users: applied: ");
    }

    @Test
    void aFileThatIsNotAMigrationStopsItThereWithError12() throws Exception {
        write("0001_a.json", "a");
        Files.writeString(dir.resolve("0002_b.json"), "{\"operations\": [");
        write("0003_c.json", "c");
        assertThat(apply()).isEqualTo(ExitCode.FAILED);
        assertThat(replies()).hasSize(2);
        assertThat(replies().get(1).get("code").asInt()).isEqualTo(12);
        assertThat(replies().get(1).get("text").asText()).contains("0002_b.json is not JSON");
    }

    @Test
    void aFileWithKeysOtherThanOperationsIsRefused() throws Exception {
        Files.writeString(dir.resolve("0001_a.json"), "{\"name\": \"x\", \"operations\": []}");
        assertThat(apply()).isEqualTo(ExitCode.FAILED);
        assertThat(replies().get(0).get("text").asText()).contains("unknown key name");
    }

    @Test
    void anEmptyFolderIsNothingToDo() {
        assertThat(apply()).isEqualTo(ExitCode.OK);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("nothing to do");
    }

    @Test
    void aMigrationNamedInUpperCaseIsAUsageErrorNotSkipped() throws Exception {
        write("0001_a.json", "a");
        java.nio.file.Files.writeString(dir.resolve("0002_b.JSON"), "{\"operations\": []}");
        assertThatThrownBy(() -> MigrationFiles.list(dir))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0002_b.JSON");
    }

    @Test
    void aFolderThatIsNotThereIsAUsageError() {
        assertThatThrownBy(() -> MigrationFiles.list(dir.resolve("missing")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("is not a directory");
    }

    @Test
    void theExitCodeTellsAFailureToFixFromOneToRetry() {
        assertThat(ExitCode.ofError(14)).isEqualTo(ExitCode.INTERRUPTED);
        assertThat(ExitCode.ofError(13)).isEqualTo(ExitCode.INTERRUPTED);
        assertThat(ExitCode.ofError(21)).isEqualTo(ExitCode.FAILED);
        assertThat(ExitCode.ofError(12)).isEqualTo(ExitCode.FAILED);
    }
}
