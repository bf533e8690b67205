package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An application writer keeps inserting while an index is built. Timings are compared with the
 * build's own duration rather than with fixed thresholds, so a slow machine slows both sides.
 */
class WriterDuringIndexBuildTest extends OnEmbeddedPostgres {

    private static final long ROWS = 400_000;

    @BeforeAll
    static void start() {
        node = new Node(engine, Duration.ofSeconds(30));
        SharedPostgres.table("wr", ROWS);
    }

    /** Inserts one row per transaction until stopped, keeping the longest single insert. */
    private static final class Writer implements AutoCloseable {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicLong maxNanos = new AtomicLong();
        final AtomicLong inserts = new AtomicLong();
        final Thread thread = new Thread(this::run, "test-writer");

        Writer() {
            thread.start();
        }

        private void run() {
            try (Connection c = SharedPostgres.connect();
                 PreparedStatement ps = c.prepareStatement("INSERT INTO wr (email, name) VALUES ('w@example.com', 'w')")) {
                while (running.get()) {
                    long t = System.nanoTime();
                    ps.executeUpdate();
                    maxNanos.accumulateAndGet(System.nanoTime() - t, Math::max);
                    inserts.incrementAndGet();
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }

        long maxMs() {
            return maxNanos.get() / 1_000_000;
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }

    private static void warmUp(Writer writer) throws InterruptedException {
        while (writer.inserts.get() < 50) {
            Thread.sleep(5);
        }
        writer.maxNanos.set(0);
    }

    /** What a build did, and the writer's longest insert while it ran. */
    private record Build(ObjectNode reply, long buildMs, long writerMaxMs) {
    }

    private static Build buildWhileWriting(String request) throws Exception {
        ObjectNode reply;
        Writer writer = new Writer();
        try (writer) {
            warmUp(writer);
            reply = node.send(request);
        }
        Build build = new Build(reply, Math.round(reply.get("duration_seconds").asDouble() * 1000), writer.maxMs());
        System.err.println(request + ": build " + build.buildMs() + " ms, writer's longest insert "
                + build.writerMaxMs() + " ms, " + writer.inserts.get() + " inserts; observed " + reply.get("observed"));
        return build;
    }

    @Test
    void concurrentBuildNeverStallsTheWriter() throws Exception {
        Build build = buildWhileWriting("""
                {"type":"create_index","table":"wr","column":"email","index":"wr_email","concurrently":true,"explain":true}""");

        assertThat(build.reply().get("type").asText()).as(build.reply().toString()).isEqualTo("index_created");
        assertThat(build.reply().get("table_locked").asBoolean()).isFalse();
        assertThat(build.writerMaxMs()).isLessThan(build.buildMs() / 4);
    }

    @Test
    void plainBuildStallsTheWriterForTheWholeBuild() throws Exception {
        Build build = buildWhileWriting("""
                {"type":"create_index","table":"wr","column":"name","index":"wr_name","concurrently":false,"explain":true}""");

        assertThat(build.reply().get("type").asText()).as(build.reply().toString()).isEqualTo("index_created");
        assertThat(build.reply().get("table_locked").asBoolean()).isTrue();
        assertThat(build.reply().get("observed").get("strongest_lock").asText()).isEqualTo("SHARE");
        assertThat(build.writerMaxMs()).isGreaterThan(build.buildMs() / 2);
    }
}
