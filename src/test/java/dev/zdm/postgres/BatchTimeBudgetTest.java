package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A batch_size far larger than what fits in the lock budget: before batches were sized by time, one
 * batch of a million rows held its row locks for 2.3 s against a 300 ms budget, and an application
 * UPDATE of one of those rows waited all of it. Now no application UPDATE waits longer than the budget.
 * A behaviour check, not a speed benchmark: the bound is the request's own budget, timed by the test.
 */
class BatchTimeBudgetTest extends OnEmbeddedPostgres {

    private static final int ROWS = 400_000;
    private static final long BUDGET_MS = 300;

    @BeforeAll
    static void load() {
        SharedPostgres.table("sized_by_time", ROWS);
    }

    @Test
    void anApplicationUpdateNeverWaitsLongerThanTheBudgetBehindABatch() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong longestNanos = new AtomicLong();
        AtomicLong updates = new AtomicLong();
        Thread application = new Thread(() -> {
            try (Connection c = SharedPostgres.database().connect("sized-app");
                 PreparedStatement ps = c.prepareStatement("UPDATE sized_by_time SET name = name WHERE id = ?")) {
                while (running.get()) {
                    ps.setLong(1, ThreadLocalRandom.current().nextLong(1, ROWS + 1));
                    long started = System.nanoTime();
                    ps.executeUpdate();
                    longestNanos.accumulateAndGet(System.nanoTime() - started, Math::max);
                    updates.incrementAndGet();
                    Thread.sleep(5);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        application.start();
        long started = System.nanoTime();
        ObjectNode reply;
        try {
            while (updates.get() < 5) {
                Thread.sleep(5);
            }
            reply = node.send("""
                    {"type":"migrate_data","table":"sized_by_time","batch_size":1000000,"max_lock_duration_ms":%d,
                     "set":{"n":"n + 1"},"explain":true}""".formatted(BUDGET_MS));
        } finally {
            running.set(false);
            application.join();
        }
        long jobMs = (System.nanoTime() - started) / 1_000_000;

        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("data_migrated");
        assertThat(reply.get("total_rows").asLong()).isEqualTo(ROWS);
        assertThat(SharedPostgres.number("SELECT count(*) FROM sized_by_time WHERE n = 1")).isEqualTo(ROWS);
        assertThat(reply.get("batches").asInt()).as("the job was split by time, not by batch_size").isGreaterThan(1);
        assertThat(updates.get()).as("application updates during the job").isGreaterThan(10);
        long longestMs = longestNanos.get() / 1_000_000;
        assertThat(longestMs).as("longest application UPDATE (ms) while a %d ms job ran: %s", jobMs, reply)
                .isLessThan(BUDGET_MS);
        double maxBatchMs = reply.at("/observed/steps/0/batch_ms/max").asDouble();
        assertThat(maxBatchMs).as("the longest batch, as the engine measured it").isPositive().isLessThan(BUDGET_MS);
    }
}
