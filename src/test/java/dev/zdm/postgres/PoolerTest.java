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
}
