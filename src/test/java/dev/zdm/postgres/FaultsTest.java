package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Issue 7's failures, each as a user could hit it, on the shared embedded server: a lost backfill
 * resent (with and without dropping the half-made column), a fresh node behind an ACCESS EXCLUSIVE
 * holder for each operation, two nodes on one job, the janitor race, the smallest key, NUL.
 */
class FaultsTest extends OnEmbeddedPostgres {

    private static final String VOLATILE_COLUMN = """
            {"type":"add_column","table":"%s","column":"token","data_type":"float8","default_sql":"random()",
             "nullable":false,"sleep_ms":10}""";

    /** Waits until the add_column's backfill on {@code table} has committed {@code rows}, then kills its backend. */
    private static ObjectNode killBackfillAfter(String table, long rows) throws Exception {
        CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(VOLATILE_COLUMN.formatted(table)));
        while (SharedPostgres.number("SELECT coalesce(max(c.rows_done), 0) FROM zdm.checkpoints c JOIN zdm.operations o"
                + " ON o.id = c.operation_id WHERE o.table_name = '" + table + "' AND o.state = 'running'") < rows) {
            Thread.sleep(5);
        }
        SharedPostgres.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'zdm-migration'");
        return first.get();
    }

    @Test
    void droppedColumnResentAfterALostBackfillIsFilledFromItsFirstRow() throws Exception {
        SharedPostgres.table("lost_drop", 30_000);

        ObjectNode crashed = killBackfillAfter("lost_drop", 5_000);
        SharedPostgres.exec("ALTER TABLE lost_drop DROP COLUMN token");
        ObjectNode resent = node.send(VOLATILE_COLUMN.formatted("lost_drop"));

        assertThat(crashed.get("code").asInt()).as(crashed.toString()).isEqualTo(13);
        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("column_added");
        assertThat(SharedPostgres.number("SELECT count(*) FROM lost_drop WHERE token IS NULL")).isZero();
        assertThat(SharedPostgres.text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'lost_drop'::regclass"
                + " AND attname = 'token'")).isEqualTo("true");
    }

    @Test
    void lostBackfillResentAsItIsFinishesWithoutError21() throws Exception {
        SharedPostgres.table("lost_resend", 30_000);

        ObjectNode crashed = killBackfillAfter("lost_resend", 5_000);
        ObjectNode resent = node.send(VOLATILE_COLUMN.formatted("lost_resend"));

        assertThat(crashed.get("code").asInt()).as(crashed.toString()).isEqualTo(13);
        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("column_added");
        assertThat(SharedPostgres.number("SELECT count(*) FROM lost_resend WHERE token IS NULL")).isZero();
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'lost_resend'::regclass"
                + " AND attnum > 0 AND NOT attisdropped")).isEqualTo(5);
    }

    @Test
    void aFreshNodeBehindAnAccessExclusiveHolderAnswers14WithinItsBudgetForEachOperation() throws Exception {
        SharedPostgres.table("held", 5_000);
        long budget = 500;
        List<String> requests = List.of(
                """
                {"type":"create_index","table":"held","column":"email","index":"held_email","max_lock_duration_ms":%d}""",
                """
                {"type":"add_column","table":"held","column":"flag","data_type":"int","nullable":false,"max_lock_duration_ms":%d}""",
                """
                {"type":"add_column","table":"held","column":"note","default":"x","max_lock_duration_ms":%d}""",
                """
                {"type":"add_column","table":"held","column":"r","data_type":"float8","default_sql":"random()","max_lock_duration_ms":%d}""",
                """
                {"type":"migrate_data","table":"held","batch_size":1000,"set":{"n":"n + 1"},"max_lock_duration_ms":%d}""");
        try (Connection holder = SharedPostgres.connect(); Statement s = holder.createStatement()) {
            holder.setAutoCommit(false);
            s.execute("LOCK TABLE held IN ACCESS EXCLUSIVE MODE");
            int holderPid = (int) SharedPostgres.number("SELECT pid FROM pg_locks WHERE relation = 'held'::regclass"
                    + " AND mode = 'AccessExclusiveLock' AND granted");
            for (String request : requests) {
                try (PostgresEngine fresh = SharedPostgres.engine()) {
                    Node freshNode = new Node(fresh, BUDGET);
                    long started = System.nanoTime();
                    ObjectNode reply = freshNode.send(request.formatted(budget));
                    long ms = (System.nanoTime() - started) / 1_000_000;

                    assertThat(reply.get("code").asInt()).as(request + " → " + reply).isEqualTo(14);
                    assertThat(ms).as(request).isLessThan(budget + 1_000);
                    assertThat(reply.get("waited_ms").asLong()).as(reply.toString()).isGreaterThanOrEqualTo(budget - 50);
                    assertThat(reply.get("blocked_by").get(0).get("pid").asInt()).as(reply.toString()).isEqualTo(holderPid);
                    List<String> keys = fieldNames(reply);
                    assertThat(keys.subList(0, 8)).containsExactly("type", "in_reply_to", "code", "text", "table",
                            "waited_ms", "blocked_by", "rolled_back");
                    String type = request.contains("create_index") ? "create_index"
                            : request.contains("migrate_data") ? "migrate_data" : "add_column";
                    assertThat(keys.subList(8, keys.size())).as(reply.toString()).containsExactlyElementsOf(switch (type) {
                        case "create_index" -> List.of("attempts");
                        case "migrate_data" -> List.of("total_rows", "batches");
                        default -> List.of();
                    });
                }
            }
            holder.rollback();
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM held WHERE n <> 0")).isZero();
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_index WHERE indrelid = 'held'::regclass")).isEqualTo(1);
    }

    @Test
    void aSecondNodeSendingTheSameJobIsRefusedAndEveryRowGetsExactlyOnePlusOne() throws Exception {
        SharedPostgres.table("two_nodes", 20_000);
        String job = """
                {"type":"migrate_data","table":"two_nodes","batch_size":500,"set":{"n":"n + 1"},"sleep_ms":40,
                 "max_lock_duration_ms":300}""";
        try (PostgresEngine second = SharedPostgres.engine()) {
            Node secondNode = new Node(second, Duration.ofMillis(300));
            CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(job));
            while (SharedPostgres.number("SELECT coalesce(max(c.batches_done), 0) FROM zdm.checkpoints c JOIN"
                    + " zdm.operations o ON o.id = c.operation_id WHERE o.table_name = 'two_nodes'") < 2) {
                Thread.sleep(5);
            }
            // docs/engines.md's query for "which node runs what" finds the owner.
            String owner = SharedPostgres.text("""
                    SELECT a.application_name || ' ' || o.kind || ' ' || o.table_name
                    FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                    JOIN zdm.operations o ON l.classid::bigint = ('x' || substr(o.fingerprint, 1, 8))::bit(32)::bigint
                                         AND l.objid::bigint = ('x' || substr(o.fingerprint, 9, 8))::bit(32)::bigint
                    WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND o.table_name = 'two_nodes'""");
            ObjectNode refused = secondNode.send(job);
            ObjectNode done = first.get();
            ObjectNode again = secondNode.send(job);

            assertThat(owner).isEqualTo("zdm-migration migrate_data two_nodes");
            assertThat(refused.get("code").asInt()).as(refused.toString()).isEqualTo(14);
            assertThat(refused.get("text").asText()).contains("already running");
            assertThat(refused.get("blocked_by").get(0).get("application_name").asText()).isEqualTo("zdm-migration");
            assertThat(refused.get("batches").asInt()).isGreaterThanOrEqualTo(2);
            assertThat(done.get("type").asText()).as(done.toString()).isEqualTo("data_migrated");
            assertThat(done.get("total_rows").asLong()).isEqualTo(20_000);
            assertThat(again.get("total_rows").asLong()).as(again.toString()).isEqualTo(20_000);
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM two_nodes WHERE n <> 1")).isZero();
    }

    @Test
    void theJanitorNeverDropsAValidIndexThatTookTheNameOfTheInvalidOneItWasToDrop() throws Exception {
        SharedPostgres.table("race", 2_000);
        String build = """
                {"type":"create_index","table":"race","column":"email","index":"race_email","max_lock_duration_ms":200}""";
        long invalidOid;
        try (PostgresEngine doomed = SharedPostgres.engine();
             Connection writer = SharedPostgres.connect(); Statement s = writer.createStatement()) {
            writer.setAutoCommit(false);
            s.execute("LOCK TABLE race IN ROW EXCLUSIVE MODE");
            ObjectNode failed = new Node(doomed, BUDGET).send(build);
            assertThat(failed.get("code").asInt()).as(failed.toString()).isEqualTo(14);
            invalidOid = SharedPostgres.number("SELECT indexrelid FROM pg_index WHERE indexrelid = to_regclass('race_email')"
                    + " AND NOT indisvalid");
            assertThat(SharedPostgres.text("SELECT state FROM zdm.operations WHERE table_name = 'race'")).isEqualTo("undo_pending");
            // The node dies with its janitor's drop still waiting for the writer; the server ends that backend.
            doomed.close();
            SharedPostgres.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'zdm-janitor'");
            writer.rollback();
        }
        // Meanwhile someone drops the INVALID index and builds a valid one of the same name.
        SharedPostgres.exec("DROP INDEX race_email", "CREATE INDEX race_email ON race (name)");
        long validOid = SharedPostgres.number("SELECT 'race_email'::regclass::oid");

        // A node starting on this database finishes the pending undo from the ledger.
        try (PostgresEngine next = SharedPostgres.engine()) {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!"failed".equals(SharedPostgres.text("SELECT state FROM zdm.operations WHERE table_name = 'race'"))
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        }

        assertThat(validOid).isNotEqualTo(invalidOid);
        assertThat(SharedPostgres.text("SELECT state FROM zdm.operations WHERE table_name = 'race'")).isEqualTo("failed");
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_index WHERE indexrelid = " + validOid + " AND indisvalid"))
                .isEqualTo(1);
    }

    @Test
    void anUndoBlockedByTheSameHolderIsPendingSaysWhatIsLeftAndTheSameRequestFinishesIt() throws Exception {
        SharedPostgres.table("undo_blocked", 20_000);
        String add = """
                {"type":"add_column","table":"undo_blocked","column":"token","data_type":"float8","default_sql":"random()",
                 "nullable":false,"sleep_ms":20,"max_lock_duration_ms":300}""";
        CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(add));
        ObjectNode stopped;
        try (Connection holder = SharedPostgres.connect(); Statement s = holder.createStatement()) {
            while (SharedPostgres.number("SELECT coalesce(max(c.rows_done), 0) FROM zdm.checkpoints c JOIN zdm.operations o"
                    + " ON o.id = c.operation_id WHERE o.table_name = 'undo_blocked' AND o.state = 'running'") < 2_000) {
                Thread.sleep(5);
            }
            // SHARE stops the backfill's UPDATE and the undo's DROP COLUMN alike.
            holder.setAutoCommit(false);
            s.execute("LOCK TABLE undo_blocked IN SHARE MODE");
            stopped = first.get();
            assertThat(SharedPostgres.text("SELECT state FROM zdm.operations WHERE table_name = 'undo_blocked'"))
                    .isEqualTo("undo_pending");
            holder.rollback();
        }
        ObjectNode resent = node.send(add);

        assertThat(stopped.get("code").asInt()).as(stopped.toString()).isEqualTo(14);
        assertThat(stopped.get("rolled_back").asBoolean()).isFalse();
        assertThat(stopped.get("text").asText()).contains("column token (attnum").contains("same request");
        assertThat(stopped.has("total_rows")).isFalse();
        assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("column_added");
        assertThat(SharedPostgres.number("SELECT count(*) FROM undo_blocked WHERE token IS NULL")).isZero();
    }

    @Test
    void aConnectionLostWhileIdleCostsNoError() throws Exception {
        SharedPostgres.table("idle_loss", 100);
        assertThat(node.send("""
                {"type":"create_index","table":"idle_loss","column":"email","index":"idle_loss_email"}""")
                .get("type").asText()).isEqualTo("index_created");
        SharedPostgres.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                + " WHERE application_name IN ('zdm-migration', 'zdm-observer')");
        Thread.sleep(1_100);

        ObjectNode next = node.send("""
                {"type":"create_index","table":"idle_loss","column":"name","index":"idle_loss_name"}""");

        assertThat(next.get("type").asText()).as(next.toString()).isEqualTo("index_created");
    }

    @Test
    void aStoppedJobResentLaterAlsoCoversTheRowsInsertedWhileItWasStopped() throws Exception {
        SharedPostgres.table("stopped_job", 10_000);
        String job = """
                {"type":"migrate_data","table":"stopped_job","batch_size":500,"set":{"n":"n + 1"},"sleep_ms":20,
                 "max_lock_duration_ms":300}""";
        CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(job));
        ObjectNode stopped;
        try (Connection holder = SharedPostgres.connect(); Statement s = holder.createStatement()) {
            while (SharedPostgres.number("SELECT coalesce(max(c.batches_done), 0) FROM zdm.checkpoints c JOIN"
                    + " zdm.operations o ON o.id = c.operation_id WHERE o.table_name = 'stopped_job'") < 3) {
                Thread.sleep(5);
            }
            holder.setAutoCommit(false);
            s.execute("LOCK TABLE stopped_job IN SHARE MODE");
            stopped = first.get();
            holder.rollback();
        }
        SharedPostgres.exec("INSERT INTO stopped_job (email) SELECT 'late' || g FROM generate_series(1, 700) g");

        ObjectNode resent = node.send(job);

        assertThat(stopped.get("code").asInt()).as(stopped.toString()).isEqualTo(14);
        assertThat(stopped.get("batches").asInt()).isGreaterThanOrEqualTo(3);
        assertThat(resent.get("total_rows").asLong()).as(resent.toString()).isEqualTo(10_700);
        assertThat(SharedPostgres.number("SELECT count(*) FROM stopped_job WHERE n <> 1")).isZero();
    }

    @Test
    void theRowWithTheSmallestBigintKeyIsMigrated() {
        SharedPostgres.exec("DROP TABLE IF EXISTS smallest",
                "CREATE TABLE smallest (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                "INSERT INTO smallest (id) VALUES (-9223372036854775808), (-1), (0), (9223372036854775807)");

        ObjectNode reply = node.send("""
                {"type":"migrate_data","table":"smallest","batch_size":2,"set":{"n":"n + 1"}}""");

        assertThat(reply.get("total_rows").asLong()).as(reply.toString()).isEqualTo(4);
        assertThat(SharedPostgres.number("SELECT count(*) FROM smallest WHERE n <> 1")).isZero();
    }

    @Test
    void aNulInADefaultOrAnExpressionIsError12AndTheConnectionStays() {
        SharedPostgres.table("nul", 10);

        ObjectNode inDefault = node.send("""
                {"type":"add_column","table":"nul","column":"c","default":"a\\u0000b"}""");
        ObjectNode inSet = node.send("""
                {"type":"migrate_data","table":"nul","batch_size":10,"set":{"name":"'a\\u0000b'"}}""");
        ObjectNode after = node.send("""
                {"type":"add_column","table":"nul","column":"c","default":"ab"}""");

        assertThat(inDefault.get("code").asInt()).as(inDefault.toString()).isEqualTo(12);
        assertThat(inSet.get("code").asInt()).as(inSet.toString()).isEqualTo(12);
        assertThat(after.get("type").asText()).as(after.toString()).isEqualTo("column_added");
    }

    private static List<String> fieldNames(ObjectNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
