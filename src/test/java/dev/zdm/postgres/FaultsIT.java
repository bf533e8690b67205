package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 7's failures that need a server or a node process of their own: the server restarted
 * mid-build and mid-backfill, node processes killed with SIGKILL at random points of a non-idempotent
 * job, and an embedded server whose node is killed.
 */
class FaultsIT extends OnRestartableServer {

    @Test
    void aServerRestartMidBuildLeavesNoInvalidIndexAfterTheNextRequest() throws Exception {
        server.table("restart_build", 20_000);
        String build = """
                {"type":"create_index","table":"restart_build","column":"email","index":"restart_build_email",
                 "max_lock_duration_ms":30000}""";
        try (PostgresEngine engine = engine()) {
            Node node = new Node(engine, Duration.ofSeconds(2));
            ObjectNode crashed;
            try (Connection writer = server.database().connect("zdm-test-writer"); Statement s = writer.createStatement()) {
                writer.setAutoCommit(false);
                s.execute("LOCK TABLE restart_build IN ROW EXCLUSIVE MODE");
                CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(build));
                // The build has made its (INVALID) index and waits for the writer: now the server goes down.
                while (server.number("SELECT count(*) FROM pg_index WHERE indrelid = 'restart_build'::regclass"
                        + " AND NOT indisvalid") < 1) {
                    Thread.sleep(5);
                }
                server.restart();
                crashed = first.get(30, TimeUnit.SECONDS);
            } catch (java.sql.SQLException writerGoneWithTheServer) {
                throw new AssertionError(writerGoneWithTheServer);
            }
            assertThat(server.number("SELECT count(*) FROM pg_index WHERE indrelid = 'restart_build'::regclass"
                    + " AND NOT indisvalid")).as("the INVALID index survives the restart").isEqualTo(1);

            ObjectNode resent = node.send(build);

            assertThat(crashed.get("code").asInt()).as(crashed.toString()).isEqualTo(13);
            assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("index_created");
        }
        assertThat(server.number("SELECT count(*) FROM pg_index WHERE indrelid = 'restart_build'::regclass"
                + " AND NOT indisvalid")).isZero();
        assertThat(server.number("SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('restart_build_email')"
                + " AND indisvalid")).isEqualTo(1);
    }

    @Test
    void aServerRestartMidBackfillLeavesNoHalfMadeColumnAfterTheNextRequest() throws Exception {
        server.table("restart_fill", 30_000);
        String add = """
                {"type":"add_column","table":"restart_fill","column":"token","data_type":"float8",
                 "default_sql":"random()","nullable":false,"sleep_ms":10}""";
        try (PostgresEngine engine = engine()) {
            Node node = new Node(engine, Duration.ofSeconds(2));
            CompletableFuture<ObjectNode> first = CompletableFuture.supplyAsync(() -> node.send(add));
            while (server.number("SELECT coalesce(max(rows_done), 0) FROM zdm.checkpoints c JOIN zdm.operations o"
                    + " ON o.id = c.operation_id WHERE o.table_name = 'restart_fill' AND o.state = 'running'") < 5_000) {
                Thread.sleep(5);
            }
            server.restart();
            ObjectNode crashed = first.get(30, TimeUnit.SECONDS);
            ObjectNode resent = node.send(add);

            assertThat(crashed.get("code").asInt()).as(crashed.toString()).isEqualTo(13);
            assertThat(resent.get("type").asText()).as(resent.toString()).isEqualTo("column_added");
        }
        assertThat(server.number("SELECT count(*) FROM restart_fill WHERE token IS NULL")).isZero();
        assertThat(server.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'restart_fill'::regclass"
                + " AND attname = 'token' AND attnotnull")).isEqualTo(1);
        assertThat(server.number("SELECT count(*) FROM pg_constraint WHERE conrelid = 'restart_fill'::regclass"
                + " AND contype = 'c'")).isZero();
    }

    @Test
    void nodesKilledAtRandomPointsOfANonIdempotentJobLeaveEveryRowExactlyPlusOneAfterResending() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        int trials = 10;
        int killedMidJob = 0;
        for (int trial = 1; trial <= trials; trial++) {
            String table = "killed_" + trial;
            server.table(table, 20_000);
            String job = """
                    {"type":"migrate_data","table":"%s","batch_size":500,"set":{"n":"n + 1"},"sleep_ms":15}"""
                    .formatted(table);
            // Odd trials: any instant from the send on, start-up included. Even trials: an instant of the
            // batches after the first has committed, so a loaded machine's slow start cannot make every
            // kill land before the job (the 40 batches sleep 15 ms each: 400 ms stays inside them).
            boolean afterFirstBatch = trial % 2 == 0;
            long killAfterMs = random.nextInt(afterFirstBatch ? 400 : 1_200);
            try (NodeProcess victim = readyNode()) {
                victim.send(job);
                if (afterFirstBatch) {
                    awaitFirstCheckpoint(table);
                }
                Thread.sleep(killAfterMs);
                victim.kill9();
            }
            long doneByVictim = server.number("SELECT count(*) FROM " + table + " WHERE n = 1");
            if (doneByVictim > 0 && doneByVictim < 20_000) {
                killedMidJob++;
            }
            ObjectNode reply;
            try (NodeProcess survivor = node()) {
                survivor.send(job);
                reply = survivor.reply();
            }
            String context = "trial " + trial + " (seed " + seed + ", killed after " + killAfterMs + " ms): " + reply;
            assertThat(reply.get("type").asText()).as(context).isEqualTo("data_migrated");
            assertThat(reply.get("total_rows").asLong()).as(context).isEqualTo(20_000);
            assertThat(server.number("SELECT count(*) FROM " + table + " WHERE n <> 1")).as(context).isZero();
        }
        System.err.println("FaultsIT: " + killedMidJob + " of " + trials + " nodes killed mid-job (seed " + seed + ")");
        // Not vacuous: some kills must have hit the job between its first and its last batch.
        assertThat(killedMidJob).as("trials killed mid-job (seed " + seed + ")").isGreaterThanOrEqualTo(2);
    }

    /**
     * The same kills on a job along a composite key (tenant int, code text): its checkpoint is a row of
     * text values, which the resent job reads back as the key's types; every row ends up updated once.
     */
    @Test
    void nodesKilledBetweenBatchesOfACompositeKeyJobLeaveEveryRowExactlyOnceAfterResending() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        int trials = 8;
        int rows = 20_000;
        int killedMidJob = 0;
        for (int trial = 1; trial <= trials; trial++) {
            String table = "killed_comp_" + trial;
            server.exec("DROP TABLE IF EXISTS " + table,
                    "CREATE TABLE " + table + " (tenant int, code text, n int NOT NULL DEFAULT 0, PRIMARY KEY (tenant, code))",
                    "INSERT INTO " + table + " (tenant, code) SELECT g % 13, md5(g::text) FROM generate_series(1, " + rows + ") g",
                    "ANALYZE " + table);
            String job = """
                    {"type":"migrate_data","table":"%s","batch_size":500,"set":{"n":"n + 1"},"sleep_ms":15}"""
                    .formatted(table);
            // After the first batch has committed, at a random instant of the batches that follow.
            long killAfterMs = random.nextInt(800);
            try (NodeProcess victim = readyNode()) {
                victim.send(job);
                awaitFirstCheckpoint(table);
                Thread.sleep(killAfterMs);
                victim.kill9();
            }
            long doneByVictim = server.number("SELECT count(*) FROM " + table + " WHERE n = 1");
            if (doneByVictim > 0 && doneByVictim < rows) {
                killedMidJob++;
            }
            ObjectNode reply;
            try (NodeProcess survivor = node()) {
                survivor.send(job);
                reply = survivor.reply();
            }
            String context = "trial " + trial + " (seed " + seed + ", killed after " + killAfterMs + " ms): " + reply;
            assertThat(reply.get("type").asText()).as(context).isEqualTo("data_migrated");
            assertThat(reply.get("total_rows").asLong()).as(context).isEqualTo(rows);
            assertThat(server.number("SELECT count(*) FROM " + table + " WHERE n <> 1")).as(context).isZero();
        }
        System.err.println("FaultsIT: " + killedMidJob + " of " + trials + " composite-key nodes killed mid-job (seed " + seed + ")");
        assertThat(killedMidJob).as("trials killed mid-job (seed " + seed + ")").isGreaterThanOrEqualTo(2);
    }

    /** Until the job on the table has committed its first batch (its checkpoint counts rows), at most 30 s. */
    private void awaitFirstCheckpoint(String table) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (server.number("SELECT coalesce(max(c.rows_done), 0) FROM zdm.checkpoints c JOIN zdm.operations o"
                + " ON o.id = c.operation_id WHERE o.table_name = '" + table + "'") == 0
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(2);
        }
    }

    @Test
    void anEmbeddedServerDoesNotOutliveItsKilledNode() throws Exception {
        long postmaster;
        try (NodeProcess node = new NodeProcess("--database", "embedded")) {
            String up = node.awaitLog("postmaster pid", 60_000);
            postmaster = Long.parseLong(up.replaceAll(".*postmaster pid (\\d+).*", "$1"));
            node.awaitLog("ready", 30_000);
            assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive)).contains(true);
            node.kill9();
        }
        long deadline = System.currentTimeMillis() + 10_000;
        Optional<ProcessHandle> left = ProcessHandle.of(postmaster);
        while (left.isPresent() && left.get().isAlive() && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
            left = ProcessHandle.of(postmaster);
        }
        assertThat(left.map(ProcessHandle::isAlive).orElse(false)).as("postmaster " + postmaster + " still running").isFalse();
    }

    /**
     * A client that sends a 10 MB line (here a default of 10 million characters) to a node on a real
     * server with a 64 MiB heap: the node answers 12, nothing reaches the server, and it goes on.
     */
    @Test
    void aTenMegabyteLineIsRefusedAndTheNodeGoesOn() throws Exception {
        server.table("huge_line", 100);
        try (NodeProcess node = new NodeProcess(List.of("-Xmx64m"), "--database", server.jdbcUrl())) {
            node.sendRaw("{\"src\":\"admin\",\"dest\":\"migrations\",\"body\":{\"type\":\"add_column\",\"msg_id\":1,"
                    + "\"table\":\"huge_line\",\"column\":\"blob\",\"default\":\"" + "x".repeat(10_000_000) + "\"}}");
            ObjectNode refused = node.reply();
            assertThat(refused.get("code").asInt()).isEqualTo(12);
            assertThat(refused.get("in_reply_to").asLong()).isEqualTo(1);
            assertThat(refused.get("text").asText().length()).as("the error echoes at most a capped text").isLessThan(2_000);
            node.send("""
                    {"type":"add_column","table":"huge_line","column":"note","default":"ok"}""");
            assertThat(node.reply().get("type").asText()).isEqualTo("column_added");
        }
        assertThat(server.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'huge_line'::regclass"
                + " AND attname = 'blob'")).as("the oversized request reached nothing").isZero();
    }
}
