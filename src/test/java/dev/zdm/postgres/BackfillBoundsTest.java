package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A batched job covers the rows that existed when it started. With the application inserting all the
 * while, a job that walked on to whatever key came next would chase the inserts and never end.
 */
class BackfillBoundsTest extends OnEmbeddedPostgres {

    private static final int ROWS = 3_000;

    @BeforeAll
    static void start() {
        SharedPostgres.table("chase_me", ROWS);
    }

    @Test
    void aJobStopsAtTheLastKeyThatExistedWhenItStarted() throws Exception {
        AtomicBoolean inserting = new AtomicBoolean(true);
        AtomicLong inserted = new AtomicLong();
        Thread application = new Thread(() -> {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (inserting.get() && System.nanoTime() < deadline) {
                SharedPostgres.exec("INSERT INTO chase_me (email, name) VALUES ('new@example.com', 'New')");
                inserted.incrementAndGet();
            }
        });
        application.start();
        try {
            while (inserted.get() < 10) {
                Thread.sleep(5);
            }
            long before = SharedPostgres.number("SELECT count(*) FROM chase_me");
            ObjectNode reply = node.send("""
                    {"type":"migrate_data","table":"chase_me","batch_size":200,"set":{"n":"n + 1"},"sleep_ms":50}""");
            long after = SharedPostgres.number("SELECT count(*) FROM chase_me");

            assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("data_migrated");
            long updated = reply.get("total_rows").asLong();
            assertThat(updated).isGreaterThanOrEqualTo(before);
            assertThat(after - updated).as("rows the application inserted while the job ran, left alone").isPositive();
            // The job's rows are a prefix of the key, each updated exactly once.
            assertThat(SharedPostgres.number("SELECT count(*) FROM chase_me WHERE n = 1")).isEqualTo(updated);
            assertThat(SharedPostgres.number("SELECT count(*) FROM chase_me WHERE n <> 1 AND id <= "
                    + "(SELECT max(id) FROM chase_me WHERE n = 1)")).isZero();
        } finally {
            inserting.set(false);
            application.join();
        }
    }

    @Test
    void eachBatchReachesItsRowsByKeyRangeNotByAScanOfTheTable() {
        long scansBefore = SharedPostgres.number("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'chase_me'");
        ObjectNode reply = node.send("""
                {"type":"migrate_data","table":"chase_me","batch_size":100,"total_rows":1000,"set":{"name":"upper(name)"}}""");
        assertThat(reply.get("batches").asInt()).isEqualTo(10);
        SharedPostgres.exec("SELECT pg_stat_clear_snapshot()");
        // Table statistics reach pg_stat_user_tables when the backend reports them; allow for that.
        long scansAfter = SharedPostgres.number("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'chase_me'");
        assertThat(scansAfter - scansBefore).as("sequential scans of chase_me during 10 batches").isLessThanOrEqualTo(1);
    }
}
