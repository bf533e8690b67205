package dev.zdm.schema;

import static dev.zdm.schema.CatalogReaderTest.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.config.Config;
import dev.zdm.handlers.Handlers;
import dev.zdm.protocol.ZdmException;
import dev.zdm.simulator.SimulatorEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A --schema file says which columns a generated column reads ("reads") and which views use a column
 * ("views"): the simulator's drop_column names them as the server would; what the file cannot tell
 * (other views) is an assumption explain lists.
 */
class DropColumnFromSchemaFileTest {

    @TempDir
    Path dir;

    private Handlers node() throws Exception {
        Path file = dir.resolve("schema.json");
        Files.writeString(file, """
                {"server_version": 15,
                 "tables": {"g": {"rows": 10, "primary_key": ["id"],
                   "columns": {"id": {"type": "int", "nullable": false},
                               "a": {"type": "int", "views": ["g_view"]},
                               "b": {"type": "int", "generated": true, "reads": ["a"]},
                               "c": {"type": "int"}}}}}""");
        SimulatorEngine engine = SimulatorEngine.open(Config.parse(new String[] {"--schema", file.toString()}));
        return Handlers.forEngine(engine, Config.DEFAULT_LOCK_BUDGET);
    }

    @Test
    void theGeneratedColumnAndTheViewAreNamedAndCascadeDropsTheGeneratedColumn() throws Exception {
        Handlers node = node();
        ZdmException refused = catchThrowableOfType(() -> send(node,
                "{\"type\":\"drop_column\",\"msg_id\":1,\"table\":\"g\",\"column\":\"a\"}"), ZdmException.class);
        assertThat(refused.code().code()).isEqualTo(22);
        assertThat(refused.getMessage()).contains("is used by generated column b, view g_view");

        ObjectNode dropped = send(node,
                "{\"type\":\"drop_column\",\"msg_id\":2,\"table\":\"g\",\"column\":\"a\",\"cascade\":true,\"explain\":true}");
        assertThat(dropped.get("type").asText()).isEqualTo("column_dropped");
        assertThat(dropped.get("notes").toString()).contains("dropped with the column: generated column b, view g_view");
        assertThat(dropped.get("assumptions").toString()).contains("assumes no view uses g.a beyond those the schema lists");
        ZdmException gone = catchThrowableOfType(() -> send(node,
                "{\"type\":\"drop_column\",\"msg_id\":3,\"table\":\"g\",\"column\":\"b\"}"), ZdmException.class);
        assertThat(gone.code().code()).isEqualTo(20);
        assertThat(send(node, "{\"type\":\"drop_column\",\"msg_id\":4,\"table\":\"g\",\"column\":\"c\"}")
                .get("type").asText()).isEqualTo("column_dropped");
    }

    @Test
    void readsOnAColumnThatIsNotGeneratedIsRefused() throws Exception {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, """
                {"tables": {"g": {"columns": {"a": {"type": "int"}, "b": {"type": "int", "reads": ["a"]}}}}}""");
        Throwable e = catchThrowableOfType(() -> SchemaFile.read(file), RuntimeException.class);
        assertThat(e).hasMessageContaining(".reads");
    }
}
