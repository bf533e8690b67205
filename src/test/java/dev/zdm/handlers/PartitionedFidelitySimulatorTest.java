package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.ServerVersion;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Request;
import dev.zdm.schema.Schema;
import dev.zdm.schema.SchemaFile;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Partitioned trees where the fuzzer found the simulator apart from PostgreSQL (the server is right). */
class PartitionedFidelitySimulatorTest {

    /** The fuzzer's partitioned_range shape with 999 rows, all in users_p1; the parent's rows as ANALYZE sets them from 14. */
    private static final String RANGE = """
            {"server_version": %1$d,
             "tables": {"users": {"rows": %2$d, "columns": {"id": {"type": "bigint", "nullable": false}, "email": {"type": "text"},
                                  "name": {"type": "text"}}, "primary_key": ["id"], "partition_by": ["id"]},
                        "users_p1": {"rows": 999, "columns": {"id": {"type": "bigint", "nullable": false}, "email": {"type": "text"},
                                  "name": {"type": "text"}}, "primary_key": ["id"], "partition_of": "users"},
                        "users_p2": {"rows": 0, "columns": {"id": {"type": "bigint", "nullable": false}, "email": {"type": "text"},
                                  "name": {"type": "text"}}, "primary_key": ["id"], "partition_of": "users"},
                        "users_p3": {"rows": 0, "columns": {"id": {"type": "bigint", "nullable": false}, "email": {"type": "text"},
                                  "name": {"type": "text"}}, "primary_key": ["id"], "partition_of": "users", "partition_by": ["id"]},
                        "users_p3a": {"rows": 0, "columns": {"id": {"type": "bigint", "nullable": false}, "email": {"type": "text"},
                                  "name": {"type": "text"}}, "primary_key": ["id"], "partition_of": "users_p3"},
                        "users_p3b": {"rows": 0, "columns": {"id": {"type": "bigint", "nullable": false}, "email": {"type": "text"},
                                  "name": {"type": "text"}}, "primary_key": ["id"], "partition_of": "users_p3"}}}""";

    private static ObjectNode send(SimulatorEngine engine, String json) throws Exception {
        Handlers handlers = Handlers.forEngine(engine, Duration.ofMillis(2000));
        return handlers.handle(new Request("admin", "migrations", (ObjectNode) Json.MAPPER.readTree(json)));
    }

    private static SimulatorEngine range(int version) throws Exception {
        ServerVersion v = new ServerVersion(version);
        Schema schema = SchemaFile.parse(Json.MAPPER.readTree(RANGE.formatted(version, version >= 14 ? 999 : 0)));
        return new SimulatorEngine(v, SimCatalog.of(schema, v), CostModel.DEFAULT, RetryPolicy.of(3));
    }

    @ParameterizedTest
    @ValueSource(ints = {11, 15, 18})
    void aSmallserialColumnIsAddedToAPartitionedParentWithRows(int version) throws Exception {
        ObjectNode reply = send(range(version), """
                {"type":"add_column","table":"users","column":"User","data_type":"smallserial","msg_id":1}""");
        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("column_added");
    }

    /**
     * Hostile finding 22: a plain CREATE INDEX on a partitioned parent builds on every partition under
     * SHARE, reading their rows (pg_stat_xact_user_tables on 11, 12, 18): the table was locked, though the
     * parent itself has no rows (its reltuples is 0 before 14, where ANALYZE sets it).
     */
    @ParameterizedTest
    @ValueSource(ints = {11, 13, 15, 18})
    void aPlainBuildOnAPartitionedParentLocksTheTableOnEveryVersion(int version) throws Exception {
        for (long parentRows : new long[] {0, 999}) {
            ServerVersion v = new ServerVersion(version);
            Schema schema = SchemaFile.parse(Json.MAPPER.readTree(RANGE.formatted(version, parentRows)));
            SimulatorEngine engine = new SimulatorEngine(v, SimCatalog.of(schema, v), CostModel.DEFAULT, RetryPolicy.of(3));
            ObjectNode reply = send(engine, """
                    {"type":"create_index","table":"users","column":"name","concurrently":false,"msg_id":1}""");
            assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("index_created");
            assertThat(reply.get("table_locked").asBoolean()).as(reply.toString()).isTrue();
        }
    }

    private static final String INHERITANCE = """
            {"server_version": %d,
             "tables": {"users": {"rows": 0, "columns": {"id": {"type": "bigint", "nullable": false}, "name": {"type": "text"}},
                                  "primary_key": ["id"]},
                        "users_kid1": {"rows": 10, "columns": {"id": {"type": "bigint", "nullable": false}, "name": {"type": "text"}},
                                  "primary_key": ["id"], "inherits": ["users"]},
                        "users_kid2": {"rows": 0, "columns": {"id": {"type": "bigint", "nullable": false}, "name": {"type": "text"}},
                                  "inherits": ["users"]}}}""";

    /** A plain CREATE INDEX on an inheritance parent locks no child: a holder of one does not stop it. */
    @ParameterizedTest
    @ValueSource(ints = {10, 15, 18})
    void aPlainBuildOnAnInheritanceParentWaitsForNoChild(int version) throws Exception {
        ServerVersion v = new ServerVersion(version);
        Schema schema = SchemaFile.parse(Json.MAPPER.readTree(INHERITANCE.formatted(version)));
        SimulatorEngine engine = new SimulatorEngine(v, SimCatalog.of(schema, v), CostModel.DEFAULT, RetryPolicy.of(3));
        send(engine, """
                {"type":"open_transaction","session":"app","table":"users_kid1","mode":"ACCESS EXCLUSIVE","msg_id":1}""");
        ObjectNode plan = send(engine, """
                {"type":"create_index","table":"users","column":"name","concurrently":false,"plan":true,"msg_id":2}""");
        assertThat(plan.toString()).doesNotContain("also_locks");
        ObjectNode reply = send(engine, """
                {"type":"create_index","table":"users","column":"name","concurrently":false,"max_lock_duration_ms":300,
                 "msg_id":3}""");
        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("index_created");
        // An ALTER of the parent does recurse into the children: the holder stops it.
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> send(engine, """
                {"type":"add_column","table":"users","column":"flag","data_type":"boolean","max_lock_duration_ms":300,
                 "msg_id":4}""")).isInstanceOf(dev.zdm.engine.LockBudgetExceeded.class).hasMessageContaining("users_kid1");
    }

    private static final String KEY_SECOND = """
            {"server_version": %d,
             "tables": {"q1": {"rows": 0, "columns": {"id": {"type": "bigint", "nullable": false}, "p": {"type": "int", "nullable": false},
                                "v": {"type": "text"}}, "primary_key": ["id", "p"], "partition_by": ["p"]},
                        "q1_0": {"rows": 500, "columns": {"id": {"type": "bigint", "nullable": false}, "p": {"type": "int", "nullable": false},
                                "v": {"type": "text"}}, "primary_key": ["id", "p"], "partition_of": "q1"},
                        "q1_1": {"rows": 500, "columns": {"id": {"type": "bigint", "nullable": false}, "p": {"type": "int", "nullable": false},
                                "v": {"type": "text"}}, "primary_key": ["id", "p"], "partition_of": "q1"}}}""";

    /** Hostile finding 4: a composite key with the partition column second; the server fills every row. */
    @ParameterizedTest
    @ValueSource(ints = {11, 15, 18})
    void aVolatileNotNullColumnOnAListPartitionedTableKeyedWithThePartitionColumnSecond(int version) throws Exception {
        ServerVersion v = new ServerVersion(version);
        Schema schema = SchemaFile.parse(Json.MAPPER.readTree(KEY_SECOND.formatted(version)));
        SimulatorEngine engine = new SimulatorEngine(v, SimCatalog.of(schema, v), CostModel.DEFAULT, RetryPolicy.of(3));
        ObjectNode reply = send(engine, """
                {"type":"add_column","table":"q1","column":"u3","data_type":"uuid","default_sql":"md5(random()::text)::uuid",
                 "nullable":false,"msg_id":1}""");
        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("column_added");
    }
}
