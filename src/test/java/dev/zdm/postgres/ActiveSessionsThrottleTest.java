package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gh-ost's max-load on a real server: while more sessions than max_active_sessions run a statement, a
 * backfill waits between batches; when they end, it goes on. A load that outlasts max_throttle_ms ends
 * the request with error 14, the batches done kept, and the same request resumes after them.
 */
class ActiveSessionsThrottleTest extends OnEmbeddedPostgres {

    private static final int ROWS = 20_000;

    @BeforeAll
    static void load() {
        SharedPostgres.table("under_load", ROWS);
    }

    /** Sessions each running pg_sleep(seconds), started and running when this returns. */
    private static List<Thread> busySessions(int count, double seconds) throws InterruptedException {
        CountDownLatch running = new CountDownLatch(count);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Thread t = new Thread(() -> {
                try (Connection c = SharedPostgres.database().connect("busy"); Statement s = c.createStatement()) {
                    running.countDown();
                    s.execute("SELECT pg_sleep(" + seconds + ")");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            t.start();
            threads.add(t);
        }
        running.await();
        // The statements are sent; give the server a moment to show them active.
        while (SharedPostgres.number("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'busy'"
                + " AND state = 'active'") < count) {
            Thread.sleep(10);
        }
        return threads;
    }

    @Test
    void aBackfillWaitsWhileTheServerIsBusyAndGoesOnAfter() throws Exception {
        SharedPostgres.exec("UPDATE under_load SET n = 0");
        List<Thread> busy = busySessions(3, 1.0);
        long started = System.nanoTime();
        ObjectNode reply = node.send("""
                {"type":"migrate_data","table":"under_load","batch_size":1000,"set":{"n":"n + 1"},
                 "max_active_sessions":2,"explain":true}""");
        long ms = (System.nanoTime() - started) / 1_000_000;
        for (Thread t : busy) {
            t.join();
        }
        assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("data_migrated");
        assertThat(reply.get("total_rows").asLong()).isEqualTo(ROWS);
        long throttled = reply.at("/observed/throttled_ms").asLong();
        assertThat(throttled).as(reply.toString()).isGreaterThan(500).isLessThanOrEqualTo(ms);
        assertThat(SharedPostgres.number("SELECT count(*) FROM under_load WHERE n = 1")).isEqualTo(ROWS);
    }

    @Test
    void aLoadThatOutlastsTheBoundEndsTheRequestAndTheSameRequestResumes() throws Exception {
        SharedPostgres.exec("UPDATE under_load SET n = 0");
        String request = """
                {"type":"migrate_data","table":"under_load","batch_size":1000,"set":{"n":"n + 1"},"where":"id > 0",
                 "max_active_sessions":2,"max_throttle_ms":300}""";
        List<Thread> busy = busySessions(3, 1.5);
        ObjectNode stopped = node.send(request);
        for (Thread t : busy) {
            t.join();
        }
        assertThat(stopped.get("type").asText()).as(stopped.toString()).isEqualTo("error");
        assertThat(stopped.get("code").asInt()).isEqualTo(14);
        assertThat(stopped.get("text").asText()).contains("max_active_sessions").contains("resumes");
        assertThat(stopped.get("throttled_ms").asLong()).isGreaterThanOrEqualTo(300);
        long doneBefore = stopped.get("total_rows").asLong();
        assertThat(stopped.get("batches").asInt()).isEqualTo((int) (doneBefore / 1000));

        ObjectNode resumed = node.send(request);
        assertThat(resumed.get("type").asText()).as(resumed.toString()).isEqualTo("data_migrated");
        assertThat(resumed.get("total_rows").asLong()).isEqualTo(ROWS);
        assertThat(SharedPostgres.number("SELECT count(*) FROM under_load WHERE n = 1")).as("each row exactly once")
                .isEqualTo(ROWS);
    }
}
