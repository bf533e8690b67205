package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engines;
import dev.zdm.postgres.ledger.LedgerSchema;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 12's "the ledger can hang or fool the node", on a server of this class's own (its tests drop
 * and damage schema zdm): a locked ledger, a ledger dropped or its rows deleted under a running
 * non-idempotent job, an emptied or doctored schema_version.
 */
class LedgerFaultsIT extends OnRestartableServer {

    @Test
    void aFreshNodeBehindALockedLedgerAnswers14WithinItsBudgetAndNamesTheLedger() throws Exception {
        server.table("ledger_locked", 1_000);
        try (PostgresEngine first = engine()) {
            assertThat(new Node(first, Duration.ofSeconds(2)).send("""
                    {"type":"migrate_data","table":"ledger_locked","batch_size":500,"set":{"n":"n + 1"}}""")
                    .get("type").asText()).isEqualTo("data_migrated");
        }
        ObjectNode refused;
        long elapsedMs;
        try (Connection holder = server.database().connect("zdm-test-holder"); Statement s = holder.createStatement()) {
            holder.setAutoCommit(false);
            s.execute("LOCK zdm.operations");
            try (PostgresEngine fresh = engine()) {
                Node node = new Node(fresh, Duration.ofSeconds(2));
                long started = System.nanoTime();
                refused = CompletableFuture.supplyAsync(() -> node.send("""
                        {"type":"migrate_data","table":"ledger_locked","batch_size":500,"set":{"n":"n + 1"},
                         "max_lock_duration_ms":500}""")).get(20, TimeUnit.SECONDS);
                elapsedMs = (System.nanoTime() - started) / 1_000_000;
            }
            holder.rollback();
        }
        System.err.println("LedgerFaultsIT: a locked ledger answered in " + elapsedMs + " ms at budget 500: " + refused);
        assertThat(refused.get("code").asInt()).as(refused.toString()).isEqualTo(14);
        assertThat(refused.get("text").asText()).contains("zdm's ledger (schema zdm) is locked").contains("zdm-test-holder");
        assertThat(elapsedMs).as("answered within the budget and a second").isLessThan(1_500);
        assertThat(server.number("SELECT count(*) FROM ledger_locked WHERE n <> 1")).as("nothing ran").isZero();
    }

    @Test
    void statusBehindALockedLedgerAnswers14NamingTheHolderAndBehindADroppedOneAnEmptyLedger() throws Exception {
        server.table("ledger_status", 100);
        try (PostgresEngine engine = engine()) {
            Node node = new Node(engine, Duration.ofMillis(500));
            assertThat(node.send("""
                    {"type":"migrate_data","table":"ledger_status","batch_size":50,"set":{"n":"n + 1"}}""")
                    .get("type").asText()).isEqualTo("data_migrated");
            ObjectNode locked;
            try (Connection holder = server.database().connect("zdm-test-holder"); Statement s = holder.createStatement()) {
                holder.setAutoCommit(false);
                s.execute("LOCK zdm.operations");
                locked = CompletableFuture.supplyAsync(() -> node.send("{\"type\":\"status\"}")).get(20, TimeUnit.SECONDS);
                var out = new java.io.ByteArrayOutputStream();
                var command = new dev.zdm.protocol.Node(dev.zdm.handlers.Handlers.forEngine(engine, Duration.ofMillis(500)),
                        new java.io.PrintStream(out), m -> { });
                assertThat(dev.zdm.cli.StatusCommand.run(command, new java.io.PrintStream(out), new java.io.PrintStream(out)))
                        .as("the status command: run again").isEqualTo(dev.zdm.cli.ExitCode.INTERRUPTED);
                holder.rollback();
            }
            assertThat(locked.path("code").asInt()).as(locked.toString()).isEqualTo(14);
            assertThat(locked.get("text").asText()).contains("zdm's ledger (schema zdm) is locked").contains("zdm-test-holder");
            assertThat(locked.has("total_rows") || locked.has("batches")).as("no other request's progress: " + locked).isFalse();
            assertThat(node.send("{\"type\":\"status\"}").get("operations").toString()).contains("ledger_status");

            // Dropped while status waits for it: the read meets tables gone, and the ledger is made again.
            ObjectNode dropped;
            try (Connection dropper = server.database().connect("zdm-test-dropper"); Statement s = dropper.createStatement()) {
                dropper.setAutoCommit(false);
                s.execute("DROP SCHEMA zdm CASCADE");
                CompletableFuture<ObjectNode> status = CompletableFuture.supplyAsync(() -> node.send("{\"type\":\"status\"}"));
                Thread.sleep(200);
                dropper.commit();
                dropped = status.get(20, TimeUnit.SECONDS);
            }
            assertThat(dropped.path("type").asText()).as(dropped.toString()).isEqualTo("status_ok");
            assertThat(dropped.get("operations")).isEmpty();
            assertThat(dropped.get("migrations")).isEmpty();
        }
    }

    @Test
    void aLedgerDroppedMidJobStopsItSaysWhyAndTheResendToTheSameNodeAppliesEveryRowOnce() throws Exception {
        server.table("ledger_dropped", 20_000);
        String job = """
                {"type":"migrate_data","table":"ledger_dropped","batch_size":500,"set":{"n":"n + 1"},"sleep_ms":15}""";
        try (PostgresEngine engine = engine()) {
            Node node = new Node(engine, Duration.ofSeconds(2));
            CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(job));
            awaitRows("ledger_dropped", 3_000);
            server.exec("DROP SCHEMA zdm CASCADE");
            ObjectNode stopped = first.get(30, TimeUnit.SECONDS);
            long doneAtStop = server.number("SELECT count(*) FROM ledger_dropped WHERE n = 1");

            ObjectNode resent = node.send(job);

            assertThat(stopped.path("code").asInt()).as(stopped.toString()).isEqualTo(13);
            assertThat(stopped.get("text").asText()).contains("schema zdm was dropped").contains("resumes after them");
            assertThat(stopped.get("total_rows").asLong()).isEqualTo(doneAtStop);
            assertThat(doneAtStop).isBetween(3_000L, 19_999L);
            assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("data_migrated");
        }
        assertThat(server.number("SELECT count(*) FROM ledger_dropped WHERE n <> 1")).isZero();
        assertThat(server.text("SELECT state FROM zdm.operations WHERE table_name = 'ledger_dropped'")).isEqualTo("done");
    }

    @Test
    void aLedgerDroppedInAddColumnsBackfillIsResumedByTheSameNodeWithTheColumnKept() throws Exception {
        server.table("ledger_column", 20_000);
        String add = """
                {"type":"add_column","table":"ledger_column","column":"tok","data_type":"uuid",
                 "default_sql":"gen_random_uuid()","nullable":false,"sleep_ms":15}""";
        try (PostgresEngine engine = engine()) {
            Node node = new Node(engine, Duration.ofSeconds(2));
            CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(add));
            awaitRows("ledger_column", 3_000);
            server.exec("DROP SCHEMA zdm CASCADE");
            ObjectNode stopped = first.get(30, TimeUnit.SECONDS);
            long attnum = server.number("SELECT attnum FROM pg_attribute WHERE attrelid = 'ledger_column'::regclass"
                    + " AND attname = 'tok'");
            server.exec("CREATE TABLE ledger_column_seen AS SELECT id, tok FROM ledger_column WHERE tok IS NOT NULL");
            long seen = server.number("SELECT count(*) FROM ledger_column_seen");

            ObjectNode resent = node.send(add);

            assertThat(stopped.path("code").asInt()).as(stopped.toString()).isEqualTo(13);
            assertThat(stopped.get("text").asText()).contains("schema zdm was dropped");
            assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("column_added");
            assertThat(seen).isBetween(3_000L, 19_999L);
            assertThat(server.number("SELECT count(*) FROM ledger_column c JOIN ledger_column_seen s USING (id)"
                    + " WHERE c.tok = s.tok")).isEqualTo(seen);
            assertThat(server.number("SELECT attnum FROM pg_attribute WHERE attrelid = 'ledger_column'::regclass"
                    + " AND attname = 'tok' AND attnotnull")).isEqualTo(attnum);
        }
        assertThat(server.number("SELECT count(*) FROM ledger_column WHERE tok IS NULL")).isZero();
    }

    @Test
    void ledgerRowsDeletedMidJobAreNoticedAndTheResendAppliesEveryRowOnce() throws Exception {
        server.table("ledger_deleted", 20_000);
        String job = """
                {"type":"migrate_data","table":"ledger_deleted","batch_size":500,"set":{"n":"n + 1"},"sleep_ms":15}""";
        try (PostgresEngine engine = engine()) {
            Node node = new Node(engine, Duration.ofSeconds(2));
            CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(job));
            awaitRows("ledger_deleted", 3_000);
            server.exec("DELETE FROM zdm.operations WHERE table_name = 'ledger_deleted'");
            ObjectNode stopped = first.get(30, TimeUnit.SECONDS);
            long doneAtStop = server.number("SELECT count(*) FROM ledger_deleted WHERE n = 1");

            ObjectNode resent = node.send(job);

            assertThat(stopped.path("code").asInt()).as(stopped.toString()).isEqualTo(13);
            assertThat(stopped.get("text").asText()).contains("was deleted while it ran");
            assertThat(doneAtStop).isBetween(3_000L, 19_999L);
            assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("data_migrated");
        }
        assertThat(server.number("SELECT count(*) FROM ledger_deleted WHERE n <> 1")).isZero();
    }

    @Test
    void anEmptiedSchemaVersionIsRepairedAtStartAndADoctoredOneIsRefusedSayingWhy() throws Exception {
        server.table("ledger_version", 100);
        engine().close();
        server.exec("DELETE FROM zdm.schema_version");

        try (PostgresEngine repaired = engine()) {
            assertThat(new Node(repaired, Duration.ofSeconds(2)).send("""
                    {"type":"migrate_data","table":"ledger_version","batch_size":50,"set":{"n":"n + 1"}}""")
                    .get("type").asText()).isEqualTo("data_migrated");
        }
        assertThat(server.number("SELECT count(*) FROM zdm.schema_version")).isEqualTo(1);
        assertThat(server.number("SELECT version FROM zdm.schema_version")).isEqualTo(LedgerSchema.latestVersion());

        server.exec("INSERT INTO zdm.schema_version VALUES (1)");
        try {
            assertThatThrownBy(LedgerFaultsIT::engine).isInstanceOf(Engines.StartFailed.class)
                    .hasMessageContaining("zdm.schema_version has 2 rows");
        } finally {
            server.exec("DELETE FROM zdm.schema_version WHERE version = 1");
        }
    }
}
