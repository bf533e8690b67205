package dev.zdm.postgres.replica;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.handlers.Handlers;
import dev.zdm.postgres.Database;
import dev.zdm.postgres.PostgresEngine;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A backfill that watches a real streaming standby: while the standby's replay is paused, the job stops
 * taking batches (throttled, no new batch); when replay resumes, the job goes on and ends, and every
 * row is right on the standby. The primary is an embedded server of its own (its WAL and slot are the
 * test's), the standby a base backup of it started from the same binaries.
 */
class ReplicaThrottleTest {

    private static final int ROWS = 20_000;
    private static final long MAX_LAG_MS = 200;

    private static EmbeddedPostgres primary;
    private static StandbyServer standby;
    private static PostgresEngine engine;
    private static Handlers handlers;
    private static Connection admin;

    @BeforeAll
    static void start() throws Exception {
        primary = EmbeddedPostgres.builder().setCleanDataDirectory(true).setServerConfig("fsync", "off").start();
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        Database database = new Database("jdbc:postgresql://127.0.0.1:" + primary.getPort() + "/postgres", props,
                "replica test primary");
        admin = database.connect("zdm-test-admin");
        try (Statement s = admin.createStatement()) {
            s.execute("CREATE TABLE replicated (id bigserial PRIMARY KEY, name text, n int NOT NULL DEFAULT 0)");
            s.execute("INSERT INTO replicated (name) SELECT 'row ' || g FROM generate_series(1, " + ROWS + ") g");
        }
        standby = StandbyServer.of(admin, primary.getPort());
        engine = PostgresEngine.connect(database, 3);
        handlers = Handlers.forEngine(engine, Duration.ofSeconds(2));
    }

    @AfterAll
    static void stop() throws Exception {
        if (engine != null) {
            engine.close();
        }
        if (standby != null) {
            standby.close();
        }
        if (admin != null) {
            admin.close();
        }
        if (primary != null) {
            primary.close();
        }
    }

    @Test
    void aBackfillWaitsForAPausedStandbyAndGoesOnWhenItReplays() throws Exception {
        standby.awaitCaughtUp(admin, Duration.ofSeconds(30));
        standby.pauseReplay();
        CompletableFuture<ObjectNode> reply = CompletableFuture.supplyAsync(() -> send("""
                {"type":"migrate_data","table":"replicated","batch_size":1000,"set":{"n":"n + 1"},"sleep_ms":20,
                 "max_replica_lag_ms":%d,"explain":true}""".formatted(MAX_LAG_MS)));

        // The job runs until the standby is MAX_LAG_MS behind, then stops taking batches.
        long stalled = awaitStall(Duration.ofSeconds(20));
        assertThat(stalled).as("rows done before the throttle held the job").isPositive().isLessThan(ROWS);
        Thread.sleep(1000);
        assertThat(migrated()).as("no new batch while the standby's replay is paused").isEqualTo(stalled);
        assertThat(reply).isNotDone();

        standby.resumeReplay();
        ObjectNode done = reply.get(30, TimeUnit.SECONDS);
        assertThat(done.get("type").asText()).as(done.toString()).isEqualTo("data_migrated");
        assertThat(done.get("total_rows").asLong()).isEqualTo(ROWS);
        assertThat(done.at("/observed/throttled_ms").asLong()).as(done.toString()).isGreaterThanOrEqualTo(1000);

        standby.awaitCaughtUp(admin, Duration.ofSeconds(30));
        try (Connection c = standby.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FILTER (WHERE n = 1), count(*) FROM replicated")) {
            rs.next();
            assertThat(rs.getLong(1)).as("rows migrated, on the standby").isEqualTo(ROWS);
            assertThat(rs.getLong(2)).isEqualTo(ROWS);
        }
    }

    /**
     * Issue 12, item 10: a standby that went away keeps its physical slot, and the slot keeps WAL for
     * it; pg_stat_replication no longer lists it. The backfill pauses for it as for a lagging standby,
     * and max_throttle_ms ends the request with a resumable 14; once the slot is gone (the standby given
     * up for good) the same request finishes. The connected standby's own slot is active: not counted.
     */
    @Test
    void aStandbyThatIsNotConnectedButHoldsWalThrottlesTheBackfill() throws Exception {
        String slot = "zdm_test_gone_standby";
        String request = """
                {"type":"migrate_data","table":"left_behind","batch_size":1000,"set":{"n":"n + 1"},
                 "max_replica_lag_ms":%d,"max_throttle_ms":500}""".formatted(MAX_LAG_MS);
        try (Statement s = admin.createStatement()) {
            s.execute("DROP TABLE IF EXISTS left_behind");
            s.execute("CREATE TABLE left_behind (id bigserial PRIMARY KEY, n int NOT NULL DEFAULT 0)");
            // A temporary slot is a session's (pg_basebackup), not a standby: never waited for.
            s.execute("SELECT pg_create_physical_replication_slot('zdm_test_temporary', true, true)");
            s.execute("SELECT pg_create_physical_replication_slot('" + slot + "', true)");
            s.execute("INSERT INTO left_behind (n) SELECT 0 FROM generate_series(1, 5000)");
        }
        try {
            ObjectNode stopped = send(request);
            assertThat(stopped.get("code").asInt()).as(stopped.toString()).isEqualTo(14);
            assertThat(stopped.get("text").asText()).contains(slot).contains("not connected");
            assertThat(stopped.get("throttled_ms").asLong()).isGreaterThanOrEqualTo(500);
            assertThat(stopped.get("total_rows").asLong()).isZero();

            try (Statement s = admin.createStatement()) {
                s.execute("SELECT pg_drop_replication_slot('" + slot + "')");
            }
            // The connected standby may lag a moment behind the batches: it is waited for, not given up on.
            ObjectNode done = send(request.replace("\"max_throttle_ms\":500", "\"max_throttle_ms\":60000"));
            assertThat(done.get("type").asText()).as(done.toString()).isEqualTo("data_migrated");
            assertThat(done.get("total_rows").asLong()).isEqualTo(5000);
        } finally {
            try (Statement s = admin.createStatement()) {
                s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '"
                        + slot + "'");
            }
        }
        try (Statement s = admin.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM left_behind WHERE n = 1")) {
            rs.next();
            assertThat(rs.getLong(1)).as("every row exactly once").isEqualTo(5000);
        }
    }

    /** Waits until the count of migrated rows stops moving for half a second; answers it. */
    private static long awaitStall(Duration within) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        long last = -1;
        while (System.nanoTime() < deadline) {
            long now = migrated();
            if (now > 0 && now == last) {
                return now;
            }
            last = now;
            Thread.sleep(500);
        }
        throw new AssertionError("the job never stalled; " + last + " rows migrated");
    }

    private static long migrated() throws SQLException {
        try (Statement s = admin.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM replicated WHERE n = 1")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static ObjectNode send(String bodyJson) {
        Request request;
        try {
            ObjectNode body = (ObjectNode) Json.MAPPER.readTree(bodyJson);
            body.put("msg_id", 1);
            request = new Request("admin", "migrations", body);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(e);
        }
        try {
            return handlers.handle(request);
        } catch (ZdmException e) {
            return Reply.error(request.msgId(), e);
        }
    }
}
