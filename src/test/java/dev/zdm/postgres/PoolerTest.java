package dev.zdm.postgres;

import static dev.zdm.postgres.SharedPostgres.number;
import static dev.zdm.postgres.SharedPostgres.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engines;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 12's pooler: through a real pgbouncer, transaction and statement pooling are refused at start
 * with what to use instead; session pooling works, and two nodes sending one job never both run it.
 */
class PoolerTest {

    @Test
    void transactionPoolingIsRefusedAtStart() throws Exception {
        try (PgBouncer bouncer = PgBouncer.start("transaction")) {
            assertThatThrownBy(() -> PostgresEngine.connect(bouncer.database(), 3))
                    .as(bouncer.log())
                    .isInstanceOf(Engines.StartFailed.class)
                    .hasMessageContaining("transaction pooling mode")
                    .hasMessageContaining("direct URL")
                    .hasMessageContaining("session");
        }
    }

    /**
     * With one backend in the pool, the probe's first client queues behind its second client's open
     * transaction: that wait, bounded, is transaction pooling too, refused in seconds (not after the
     * pooler's query_wait_timeout, as a connection closed under the engine).
     */
    @Test
    void transactionPoolingWithAPoolOfOneIsRefusedByTheProbesOwnBound() throws Exception {
        try (PgBouncer bouncer = PgBouncer.start("transaction", "default_pool_size = 1\nquery_wait_timeout = 20")) {
            assertThatThrownBy(() -> PostgresEngine.connect(bouncer.database(), 3))
                    .as(bouncer.log())
                    .isInstanceOf(Engines.StartFailed.class)
                    .hasMessageContaining("transaction pooling mode")
                    .hasMessageContaining("got no server backend")
                    .hasMessageContaining("direct URL");
        }
    }

    @Test
    void statementPoolingIsRefusedAtStart() throws Exception {
        try (PgBouncer bouncer = PgBouncer.start("statement")) {
            assertThatThrownBy(() -> PostgresEngine.connect(bouncer.database(), 3))
                    .as(bouncer.log())
                    .isInstanceOf(Engines.StartFailed.class)
                    .hasMessageContaining("statement pooling mode")
                    .hasMessageContaining("direct URL");
        }
    }

    /**
     * Behind a session pool whose backends outlive their clients without a reset (server_reset_query
     * empty), pgjdbc's named statements (S_1, ...) stay on a backend; the next node given that backend
     * would be refused its own S_1. zdm's connections use none.
     */
    @Test
    void aBackendReusedWithoutResetDoesNotMeetAnotherNodesPreparedStatements() throws Exception {
        table("pooled_prepared", 2_000);
        String job = "{\"type\":\"migrate_data\",\"table\":\"pooled_prepared\",\"batch_size\":50,"
                + "\"set\":{\"n\":\"n + %d\"}}";
        try (PgBouncer bouncer = PgBouncer.start("session", "server_reset_query =\nserver_round_robin = 0")) {
            for (int run = 1; run <= 3; run++) {
                try (PostgresEngine engine = PostgresEngine.connect(bouncer.database(), 3)) {
                    ObjectNode reply = new Node(engine, Duration.ofSeconds(5)).send(job.formatted(run));
                    assertThat(reply.get("type").asText()).as(reply + bouncer.log()).isEqualTo("data_migrated");
                }
            }
            assertThat(number("SELECT count(*) FROM pooled_prepared WHERE n = 6")).isEqualTo(2_000);
            // The hazard is real: with server-side statements after 5 uses, a reused backend refuses them.
            java.util.Properties prepared = new java.util.Properties();
            prepared.setProperty("prepareThreshold", "1");
            int refused = 0;
            for (int run = 0; run < 3; run++) {
                try (java.sql.Connection c = bouncer.database(prepared).connect("zdm-test");
                     java.sql.PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pooled_prepared WHERE n = ?")) {
                    for (int i = 0; i < 3; i++) {
                        ps.setInt(1, i);
                        ps.executeQuery().close();
                    }
                } catch (java.sql.SQLException e) {
                    assertThat(e.getMessage()).contains("already exists");
                    refused++;
                }
            }
            assertThat(refused).as("a client with named statements on a reused backend").isPositive();
        }
    }

    @Test
    void sessionPoolingRunsAJobOnceWhateverTwoNodesSend() throws Exception {
        table("pooled_accounts", 3_000);
        String job = "{\"type\":\"migrate_data\",\"table\":\"pooled_accounts\",\"batch_size\":100,\"sleep_ms\":5,"
                + "\"set\":{\"n\":\"n + 1\"}}";
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (PgBouncer bouncer = PgBouncer.start("session");
             PostgresEngine first = PostgresEngine.connect(bouncer.database(), 3);
             PostgresEngine second = PostgresEngine.connect(bouncer.database(), 3)) {
            // Many statements on one connection: a server-side prepared statement would be made here.
            ObjectNode alone = new Node(first, Duration.ofSeconds(5)).send("{\"type\":\"migrate_data\","
                    + "\"table\":\"pooled_accounts\",\"batch_size\":500,\"set\":{\"name\":\"upper(name)\"}}");
            assertThat(alone.get("type").asText()).as(alone + bouncer.log()).isEqualTo("data_migrated");
            assertThat(alone.get("total_rows").asLong()).isEqualTo(3_000);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<ObjectNode>> replies = new ArrayList<>();
            for (PostgresEngine engine : List.of(first, second)) {
                Node node = new Node(engine, Duration.ofSeconds(30));
                replies.add(pool.submit(() -> {
                    go.await();
                    return node.send(job);
                }));
            }
            go.countDown();
            for (Future<ObjectNode> reply : replies) {
                ObjectNode body = reply.get(60, TimeUnit.SECONDS);
                assertThat(body.get("type").asText()).as(body.toString()).isEqualTo("data_migrated");
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(number("SELECT count(*) FROM pooled_accounts WHERE n = 1")).as("every row once").isEqualTo(3_000);
        assertThat(number("SELECT count(*) FROM pooled_accounts WHERE name = upper(name)")).isEqualTo(3_000);
    }

    /** Issue 13: a table a set's subquery reads is waited for under the budget and named, through session pooling too. */
    @Test
    void aTableASubqueryReadsIsWaitedForAndNamedThroughSessionPooling() throws Exception {
        SharedPostgres.exec("DROP SCHEMA IF EXISTS \"pool ed\" CASCADE", "CREATE SCHEMA \"pool ed\"",
                "CREATE TABLE \"pool ed\".plans (id int PRIMARY KEY, t text)",
                "CREATE TABLE \"pool ed\".members (id int PRIMARY KEY, plan_id int, tier text)",
                "INSERT INTO \"pool ed\".plans SELECT g, 't' || g FROM generate_series(1, 3) g",
                "INSERT INTO \"pool ed\".members SELECT g, 1 + g % 3, NULL FROM generate_series(1, 100) g");
        String job = """
                {"type":"migrate_data","schema":"pool ed","table":"members","batch_size":25,"max_lock_duration_ms":300,
                 "set":{"tier":"(SELECT p.t FROM \\"pool ed\\".plans p WHERE p.id = members.plan_id)"}}""";
        try (PgBouncer bouncer = PgBouncer.start("session");
             PostgresEngine engine = PostgresEngine.connect(bouncer.database(), 3)) {
            Node node = new Node(engine, Duration.ofMillis(300));
            assertThat(node.send("""
                    {"type":"open_transaction","session":"pooled_holder","schema":"pool ed","table":"plans","mode":"ACCESS EXCLUSIVE"}""")
                    .get("type").asText()).isEqualTo("transaction_opened");
            ObjectNode blocked;
            try {
                blocked = node.send(job);
            } finally {
                node.send("{\"type\":\"close_transaction\",\"session\":\"pooled_holder\"}");
            }
            assertThat(blocked.path("code").asInt()).as(blocked + bouncer.log()).isEqualTo(14);
            assertThat(blocked.get("table").asText()).isEqualTo("plans");
            assertThat(number("SELECT count(*) FROM \"pool ed\".members WHERE tier IS NOT NULL")).isZero();
            ObjectNode done = node.send(job);
            assertThat(done.path("type").asText()).as(done.toString()).isEqualTo("data_migrated");
        }
        assertThat(number("SELECT count(*) FROM \"pool ed\".members WHERE tier IS NULL")).isZero();
    }
}
