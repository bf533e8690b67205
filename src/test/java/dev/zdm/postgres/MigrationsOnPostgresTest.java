package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.schema.CatalogReader;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import org.junit.jupiter.api.Test;

/**
 * The migration message and status on a real server: the record in zdm.migrations, resuming from it
 * (also after a run that ended between an operation's end and its record), one runner at a time, and
 * status naming the backend that runs an operation and the ones blocking it.
 */
class MigrationsOnPostgresTest extends OnEmbeddedPostgres {

    private static String migration(String name, String table, String... columns) {
        StringBuilder ops = new StringBuilder();
        for (String column : columns) {
            ops.append(ops.isEmpty() ? "" : ",").append("{\"type\":\"add_column\",\"table\":\"").append(table)
                    .append("\",\"column\":\"").append(column).append("\",\"data_type\":\"int\"}");
        }
        return "{\"type\":\"migration\",\"name\":\"" + name + "\",\"operations\":[" + ops + "]}";
    }

    private static long columns(String table, String column) {
        return SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = '" + table
                + "'::regclass AND attname = '" + column + "' AND NOT attisdropped");
    }

    /**
     * A drop_index of an index an earlier operation of the same migration makes is not refused before
     * anything runs (the catalog then has no such index), on either engine; a misspelt one still is.
     */
    @Test
    void aMigrationDropsAnIndexItsEarlierOperationMade() throws Exception {
        SharedPostgres.exec("DROP TABLE IF EXISTS mp_ev", "DROP TABLE IF EXISTS mp_ev_sim");
        String ops = "{\"type\":\"create_table\",\"table\":\"%1$s\",\"columns\":{\"id\":{\"type\":\"bigint\"},"
                + "\"k\":{\"type\":\"int\"}},\"primary_key\":[\"id\"]},"
                + "{\"type\":\"create_index\",\"table\":\"%1$s\",\"column\":\"k\",\"index\":\"%1$s_k_ix\"},"
                + "{\"type\":\"drop_index\",\"index\":\"%1$s_k_ix\"}";
        SimulatorEngine simulator;
        try (Connection c = SharedPostgres.connect()) {
            simulator = new SimulatorEngine(engine.version(), SimCatalog.of(CatalogReader.read(c, line -> { }),
                    engine.version()), CostModel.DEFAULT, RetryPolicy.of(3));
        }
        ObjectNode predicted = new Node(simulator, BUDGET).send("{\"type\":\"migration\",\"name\":\"mp-ix\","
                + "\"operations\":[" + String.format(ops, "mp_ev_sim") + "]}");
        assertThat(predicted.get("type").asText()).as(predicted.toString()).isEqualTo("migration_applied");
        assertThat(predicted.get("applied").asInt()).isEqualTo(3);

        ObjectNode applied = node.send("{\"type\":\"migration\",\"name\":\"mp-ix\",\"operations\":["
                + String.format(ops, "mp_ev") + "]}");
        assertThat(applied.get("type").asText()).as(applied.toString()).isEqualTo("migration_applied");
        assertThat(applied.get("applied").asInt()).isEqualTo(3);
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_class WHERE relname = 'mp_ev_k_ix'")).isZero();

        ObjectNode misspelt = node.send("{\"type\":\"migration\",\"name\":\"mp-ix-2\",\"operations\":["
                + "{\"type\":\"create_index\",\"table\":\"mp_ev\",\"column\":\"k\",\"index\":\"mp_ev_k2\"},"
                + "{\"type\":\"drop_index\",\"index\":\"mp_ev_k3\"}]}");
        assertThat(misspelt.get("code").asInt()).as(misspelt.toString()).isEqualTo(20);
        assertThat(misspelt.get("text").asText()).contains("nothing run");
    }

    @Test
    void theRecordSaysHowFarItGotAndTheResendResumesThere() {
        SharedPostgres.table("mp_accounts", 500);
        SharedPostgres.exec("ALTER TABLE mp_accounts ADD COLUMN c int");
        ObjectNode failed = node.send(migration("mp-1", "mp_accounts", "a", "b", "c", "d"));
        assertThat(failed.get("code").asInt()).as(failed.toString()).isEqualTo(21);
        assertThat(failed.get("failed_operation").asInt()).isEqualTo(3);
        assertThat(SharedPostgres.text("SELECT state || ' ' || operations_done FROM zdm.migrations WHERE name = 'mp-1'"))
                .isEqualTo("failed 2");
        assertThat(columns("mp_accounts", "d")).isZero();

        SharedPostgres.exec("ALTER TABLE mp_accounts DROP COLUMN c");
        long operationsBefore = SharedPostgres.number("SELECT count(*) FROM zdm.operations");
        ObjectNode resumed = node.send(migration("mp-1", "mp_accounts", "a", "b", "c", "d"));
        assertThat(resumed.get("type").asText()).as(resumed.toString()).isEqualTo("migration_applied");
        assertThat(resumed.get("applied").asInt()).isEqualTo(2);
        assertThat(resumed.get("applied_before").asInt()).isEqualTo(2);
        assertThat(SharedPostgres.number("SELECT count(*) FROM zdm.operations")).isEqualTo(operationsBefore + 2);
        assertThat(SharedPostgres.text("SELECT state || ' ' || operations_done || ' ' || json_array_length(outcomes)"
                + " FROM zdm.migrations WHERE name = 'mp-1'")).isEqualTo("done 4 4");
        for (String column : new String[] {"a", "b", "c", "d"}) {
            assertThat(columns("mp_accounts", column)).as(column).isEqualTo(1);
        }

        // A finished migration answers its record: the replies as they were first written, keys in order.
        ObjectNode again = node.send(migration("mp-1", "mp_accounts", "a", "b", "c", "d"));
        assertThat(again.get("applied").asInt()).isZero();
        assertThat(again.get("operations").get(3).get("reply").toString())
                .isEqualTo(resumed.get("operations").get(3).get("reply").toString());
        assertThat(SharedPostgres.number("SELECT count(*) FROM zdm.operations")).isEqualTo(operationsBefore + 2);
    }

    @Test
    void anOperationIsItsMigrationsOwnAtItsPlaceThere() {
        SharedPostgres.exec("DROP TABLE IF EXISTS mp_twice",
                "CREATE TABLE mp_twice (id int PRIMARY KEY, n int NOT NULL)",
                "INSERT INTO mp_twice SELECT g, 1 FROM generate_series(1, 300) g");
        String m = "{\"type\":\"migrate_data\",\"table\":\"mp_twice\",\"batch_size\":70,\"set\":{\"n\":\"n * 2\"}}";
        ObjectNode twice = node.send("{\"type\":\"migration\",\"name\":\"mp-twice\",\"operations\":[" + m + "," + m + "]}");
        assertThat(twice.get("applied").asInt()).as(twice.toString()).isEqualTo(2);
        assertThat(SharedPostgres.number("SELECT count(*) FROM mp_twice WHERE n = 4")).as("[M, M] doubles twice").isEqualTo(300);
        ObjectNode other = node.send("{\"type\":\"migration\",\"name\":\"mp-twice-2\",\"operations\":[" + m + "]}");
        assertThat(other.get("applied").asInt()).as(other.toString()).isEqualTo(1);
        assertThat(SharedPostgres.number("SELECT count(*) FROM mp_twice WHERE n = 8")).as("M in another migration runs")
                .isEqualTo(300);
        ObjectNode resent = node.send("{\"type\":\"migration\",\"name\":\"mp-twice\",\"operations\":[" + m + "," + m + "]}");
        assertThat(resent.get("applied").asInt()).as(resent.toString()).isZero();
        assertThat(SharedPostgres.number("SELECT count(*) FROM mp_twice WHERE n = 8")).as("the resend runs nothing")
                .isEqualTo(300);
    }

    @Test
    void anOperationFinishedByARunThatEndedBeforeRecordingItIsNotRunAgain() {
        SharedPostgres.table("mp_gap", 100);
        node.send(migration("mp-gap", "mp_gap", "x", "y"));
        // As a node killed right after y was added leaves it: y done in zdm.operations, not yet in the record.
        SharedPostgres.exec("UPDATE zdm.migrations SET state = 'running', operations_done = 1,"
                + " outcomes = json_build_array(outcomes->0), progressed_at = progressed_at - interval '1 minute'"
                + " WHERE name = 'mp-gap'");
        ObjectNode resumed = node.send(migration("mp-gap", "mp_gap", "x", "y"));
        assertThat(resumed.get("type").asText()).as(resumed.toString()).isEqualTo("migration_applied");
        JsonNode y = resumed.get("operations").get(1);
        assertThat(y.get("status").asText()).isEqualTo("applied_before");
        assertThat(y.get("reply").get("type").asText()).isEqualTo("finished_unrecorded");
        assertThat(SharedPostgres.text("SELECT state FROM zdm.migrations WHERE name = 'mp-gap'")).isEqualTo("done");
    }

    @Test
    void anOperationWhoseReplyWasLostWithTheConnectionIsNotRunAgain() {
        SharedPostgres.table("mp_lost", 100);
        node.send(migration("mp-lost", "mp_lost", "x", "y"));
        // As a 13 after y finished leaves it: the failure recorded, the migration's last move before y.
        SharedPostgres.exec("UPDATE zdm.migrations SET state = 'failed', operations_done = 1,"
                + " outcomes = json_build_array(outcomes->0), progressed_at = progressed_at - interval '1 minute',"
                + " failure = '{\"type\":\"error\",\"code\":13,\"text\":\"connection lost\"}'"
                + " WHERE name = 'mp-lost'");
        ObjectNode resumed = node.send(migration("mp-lost", "mp_lost", "x", "y"));
        assertThat(resumed.get("type").asText()).as(resumed.toString()).isEqualTo("migration_applied");
        assertThat(resumed.get("operations").get(1).get("reply").get("type").asText()).isEqualTo("finished_unrecorded");
        // A failure that is the operation's own is run again: y dropped by hand is added again.
        SharedPostgres.exec("ALTER TABLE mp_lost DROP COLUMN y");
        SharedPostgres.exec("UPDATE zdm.migrations SET state = 'failed', operations_done = 1,"
                + " outcomes = json_build_array(outcomes->0) WHERE name = 'mp-lost'");
        ObjectNode rerun = node.send(migration("mp-lost", "mp_lost", "x", "y"));
        assertThat(rerun.get("operations").get(1).get("status").asText()).as(rerun.toString()).isEqualTo("applied");
        assertThat(columns("mp_lost", "y")).isEqualTo(1);
    }

    @Test
    void aMigrationAnotherNodeRunsIsRefusedWithThatNodesBackend() throws Exception {
        try (PostgresEngine other = SharedPostgres.engine()) {
            other.migrations().claim("mp-busy");
            ObjectNode reply = node.send(migration("mp-busy", "mp_accounts", "z"));
            assertThat(reply.get("code").asInt()).as(reply.toString()).isEqualTo(14);
            assertThat(reply.get("blocked_by").get(0).get("application_name").asText()).isEqualTo("zdm-migration");
            assertThat(SharedPostgres.number("SELECT count(*) FROM zdm.migrations WHERE name = 'mp-busy'")).isZero();
            other.migrations().release("mp-busy");
        }
    }

    @Test
    void statusNamesTheOwnerOfARunningOperationAndWhatBlocksIt() throws Exception {
        SharedPostgres.table("mp_blocked", 100);
        try (PostgresEngine other = SharedPostgres.engine();
             Connection reader = SharedPostgres.connect();
             Statement s = reader.createStatement()) {
            reader.setAutoCommit(false);
            s.execute("LOCK TABLE mp_blocked IN ACCESS SHARE MODE");
            int readerPid = pid(s);
            Node otherNode = new Node(other, BUDGET);
            CompletableFuture<ObjectNode> adding = CompletableFuture.supplyAsync(() -> otherNode.send("""
                    {"type":"add_column","table":"mp_blocked","column":"late","max_lock_duration_ms":20000}"""));
            JsonNode running = null;
            long deadline = System.currentTimeMillis() + 15_000;
            while (running == null && System.currentTimeMillis() < deadline) {
                for (JsonNode op : node.send("{\"type\":\"status\"}").get("operations")) {
                    if (op.get("table").asText().equals("mp_blocked") && op.get("state").asText().equals("running")
                            && !op.get("blocked_by").isEmpty()) {
                        running = op;
                    }
                }
                Thread.sleep(50);
            }
            assertThat(running).as("a running operation blocked by the reader").isNotNull();
            assertThat(running.get("owner").get("application_name").asText()).isEqualTo("zdm-migration");
            assertThat(running.get("blocked_by").get(0).get("pid").asInt()).isEqualTo(readerPid);
            assertThat(running.get("steps_done").asInt()).isLessThan(running.get("steps").asInt());
            reader.rollback();
            assertThat(adding.get(30, TimeUnit.SECONDS).get("type").asText()).isEqualTo("column_added");
        }
    }

    private static int pid(Statement s) throws java.sql.SQLException {
        try (var rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
