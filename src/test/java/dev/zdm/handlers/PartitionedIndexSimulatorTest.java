package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import dev.zdm.schema.Schema;
import dev.zdm.schema.SchemaFile;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The simulator with a --schema file that has a partition tree: the plan, and the model after it. */
class PartitionedIndexSimulatorTest {

    private static final String SCHEMA = """
            {"server_version": %d,
             "tables": {"sales": {"rows": 0, "columns": {"id": {"type": "bigint"}, "region": {"type": "text"},
                                                       "sold": {"type": "date"}, "email": {"type": "text"}},
                                  "partition_by": ["region"]},
                        "sales_eu": {"rows": 1000, "columns": {"id": {"type": "bigint"}, "region": {"type": "text"},
                                                             "sold": {"type": "date"}, "email": {"type": "text"}},
                                     "partition_of": "sales"},
                        "sales_us": {"rows": 0, "columns": {"id": {"type": "bigint"}, "region": {"type": "text"},
                                                          "sold": {"type": "date"}, "email": {"type": "text"}},
                                     "partition_of": "sales", "partition_by": ["sold"]},
                        "sales_us_2024": {"rows": 1000, "columns": {"id": {"type": "bigint"}, "region": {"type": "text"},
                                                                  "sold": {"type": "date"}, "email": {"type": "text"}},
                                          "partition_of": "sales_us"}}}""";

    private SimulatorEngine engine;
    private Handlers handlers;
    private long msgId;

    private void open(int version) throws Exception {
        Schema schema = SchemaFile.parse(Json.MAPPER.readTree(SCHEMA.formatted(version)));
        ServerVersion v = new ServerVersion(version);
        engine = new SimulatorEngine(v, SimCatalog.of(schema, v), CostModel.DEFAULT, RetryPolicy.of(3));
        handlers = Handlers.forEngine(engine, Duration.ofMillis(2000));
    }

    private ObjectNode send(String json) throws Exception {
        ObjectNode body = (ObjectNode) Json.MAPPER.readTree(json);
        body.put("msg_id", ++msgId);
        Request request = new Request("admin", "migrations", body);
        try {
            return handlers.handle(request);
        } catch (ZdmException e) {
            return Reply.error(request.msgId(), e);
        }
    }

    private static List<String> sql(ObjectNode reply) {
        List<String> sql = new ArrayList<>();
        reply.path("steps").forEach(s -> sql.add(s.get("sql").asText()));
        return sql;
    }

    @Test
    void theParentsIndexIsValidOnceEveryPartitionsIsAttached() throws Exception {
        open(15);
        ObjectNode reply = send("""
                {"type":"create_index","table":"sales","column":"email","index":"sales_email","explain":true}""");
        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("index_created");
        assertThat(sql(reply)).containsExactly(
                "CREATE INDEX \"sales_email\" ON ONLY \"sales\" (\"email\")",
                "CREATE INDEX CONCURRENTLY \"sales_eu_email_idx\" ON \"sales_eu\" (\"email\")",
                "ALTER INDEX \"sales_email\" ATTACH PARTITION \"sales_eu_email_idx\"",
                "CREATE INDEX \"sales_us_email_idx\" ON ONLY \"sales_us\" (\"email\")",
                "ALTER INDEX \"sales_email\" ATTACH PARTITION \"sales_us_email_idx\"",
                "CREATE INDEX CONCURRENTLY \"sales_us_2024_email_idx\" ON \"sales_us_2024\" (\"email\")",
                "ALTER INDEX \"sales_us_email_idx\" ATTACH PARTITION \"sales_us_2024_email_idx\"");
        assertThat(reply.get("table_locked").asBoolean()).isFalse();
        assertThat(engine.catalog().index(SqlName.of("sales_email"))).contains(CatalogView.IndexState.VALID);
        assertThat(engine.catalog().index(SqlName.of("sales_us_email_idx"))).contains(CatalogView.IndexState.VALID);
        assertThat(send("""
                {"type":"create_index","table":"sales","column":"email","index":"sales_email"}""").get("code").asInt())
                .isEqualTo(21);
        // A second index on the same column: each partition's name is taken, so PostgreSQL's next one is chosen.
        ObjectNode second = send("""
                {"type":"create_index","table":"sales","column":"email","index":"sales_email2","explain":true}""");
        assertThat(sql(second).get(1)).contains("\"sales_eu_email_idx1\"");
    }

    @Test
    void whatPostgresRefusesOnAPartitionedTableIsRefusedBeforeRunning() throws Exception {
        open(15);
        ObjectNode unique = send("""
                {"type":"create_index","table":"sales","columns":["id","region"],"unique":true}""");
        assertThat(unique.get("code").asInt()).as(unique.toString()).isEqualTo(22);
        assertThat(unique.get("text").asText()).contains("sales_us").contains("sold");
        ObjectNode plain = send("""
                {"type":"create_index","table":"sales","columns":["email"],"concurrently":false,"explain":true}""");
        assertThat(sql(plain)).containsExactly("CREATE INDEX \"idx_email\" ON \"sales\" (\"email\")");
        open(10);
        ObjectNode ten = send("""
                {"type":"create_index","table":"sales","column":"email"}""");
        assertThat(ten.get("code").asInt()).as(ten.toString()).isEqualTo(22);
    }

    @Test
    void aRowShareHolderOnAPartitionDoesNotBlockTheAttachOfItsIndex() throws Exception {
        open(15);
        // LOCK TABLE locks the table, not its indexes: ATTACH's ACCESS EXCLUSIVE is on the partition's index.
        ObjectNode opened = send("""
                {"type":"open_transaction","session":"app","table":"sales_eu","mode":"ROW SHARE","duration_seconds":5}""");
        assertThat(opened.get("type").asText()).as(opened.toString()).isNotEqualTo("error");
        ObjectNode reply = send("""
                {"type":"create_index","table":"sales","column":"email","index":"sales_email","max_lock_duration_ms":500}""");
        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("index_created");
        assertThat(engine.catalog().index(SqlName.of("sales_email"))).contains(CatalogView.IndexState.VALID);
    }

    @Test
    void aPlainBuildOnTheParentMakesEveryPartitionsIndexAsPostgresNamesIt() throws Exception {
        open(15);
        // An index already on a partition, of the same columns and attached to none: PostgreSQL adopts it.
        assertThat(send("""
                {"type":"create_index","table":"sales_eu","column":"email","index":"eu_email"}""").get("type").asText())
                .isEqualTo("index_created");
        ObjectNode reply = send("""
                {"type":"create_index","table":"sales","column":"email","index":"sales_email","concurrently":false}""");
        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("index_created");
        for (String name : List.of("sales_email", "eu_email", "sales_us_email_idx", "sales_us_2024_email_idx")) {
            assertThat(engine.catalog().index(SqlName.of(name))).as(name).contains(CatalogView.IndexState.VALID);
        }
        assertThat(engine.catalog().index(SqlName.of("sales_eu_email_idx"))).isEmpty();
        assertThat(engine.catalog().attachedIndex(SqlName.of("sales_us_email_idx"), SqlName.of("sales_us_2024")))
                .contains(SqlName.of("sales_us_2024_email_idx"));
    }

    @Test
    void aPlainBuildOnTheParentWaitsForAHolderOnAPartition() throws Exception {
        open(15);
        send("""
                {"type":"open_transaction","session":"app","table":"sales_us_2024","mode":"ROW EXCLUSIVE","duration_seconds":5}""");
        ObjectNode reply = send("""
                {"type":"create_index","table":"sales","column":"email","concurrently":false,"max_lock_duration_ms":300}""");
        assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(14);
        assertThat(reply.get("table").asText()).isEqualTo("sales_us_2024");
    }

    @Test
    void theAttachThatCompletesASubPartitionedIndexWaitsForAnyHolderOfTheParentAndLosingUndoesTheBuilt() throws Exception {
        open(15);
        // LOCK TABLE sales IN ACCESS SHARE MODE: nothing the build takes on a partition conflicts, but the ATTACH
        // that makes sales_us's index valid validates the parent's under ACCESS EXCLUSIVE on sales.
        send("""
                {"type":"open_transaction","session":"app","table":"sales","mode":"ACCESS SHARE","duration_seconds":5}""");
        ObjectNode reply = send("""
                {"type":"create_index","table":"sales","column":"email","index":"sales_email","max_lock_duration_ms":300}""");
        assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(14);
        assertThat(reply.get("table").asText()).isEqualTo("sales");
        assertThat(reply.get("attempts").asInt()).isZero();
        // The undo's DROP INDEX of the partitioned index takes the partitions' built indexes along.
        for (String name : List.of("sales_email", "sales_eu_email_idx", "sales_us_email_idx", "sales_us_2024_email_idx")) {
            assertThat(engine.catalog().index(SqlName.of(name))).as(name).isEmpty();
        }
    }
}
