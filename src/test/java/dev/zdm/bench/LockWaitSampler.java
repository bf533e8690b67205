package dev.zdm.bench;

import dev.zdm.postgres.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * How long application queries waited on locks, seen from the server: every {@link #INTERVAL_MS} ms
 * it reads pg_stat_activity for the application's backends ({@code bench-app-*}) that are waiting on a
 * heavyweight lock (wait_event_type = 'Lock': a table lock, or a row lock, which is a wait on the
 * holder's transactionid). For each it records how long that query has been running, which, for a
 * point query that takes well under a millisecond unblocked, is how long it has waited so far.
 *
 * <p>A query's latency is only an upper bound on its lock wait (it may have queued for CPU); this is
 * the measure of the wait itself. A wait shorter than one interval may be missed, which is fine: the
 * report wants the longest wait, and the longest is seen at its last sample, at most one interval short.
 */
final class LockWaitSampler implements AutoCloseable {

    static final long INTERVAL_MS = 10;

    /** One waiting backend at one sample: when (the trial's clock), and how long it had waited. */
    record Wait(long atNanos, int pid, double waitedMs, String waitEvent) {
    }

    private final LatencyRecorder clock;
    private final Connection connection;
    private final List<Wait> waits = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private int samples;

    LockWaitSampler(Database database, LatencyRecorder clock) throws SQLException {
        this.clock = clock;
        this.connection = database.connect("bench-lock-sampler");
        try (Statement s = connection.createStatement()) {
            s.execute("SET statement_timeout = 2000");
        }
        this.thread = new Thread(this::loop, "bench-lock-sampler");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void loop() {
        String sql = "SELECT pid, wait_event, extract(epoch FROM clock_timestamp() - query_start) * 1000"
                + " FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name LIKE 'bench-app-%'";
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            long next = clock.now();
            while (running) {
                long wait = next - clock.now();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                next = Math.max(next + INTERVAL_MS * 1_000_000L, clock.now());
                try (ResultSet rs = ps.executeQuery()) {
                    long at = clock.now();
                    List<Wait> seen = new ArrayList<>();
                    while (rs.next()) {
                        seen.add(new Wait(at, rs.getInt(1), rs.getDouble(3), rs.getString(2)));
                    }
                    synchronized (this) {
                        waits.addAll(seen);
                        samples++;
                    }
                }
            }
        } catch (SQLException e) {
            if (running) {
                System.err.println("bench: lock sampler stopped: " + e.getMessage());
            }
        }
    }

    /** The longest wait seen by a sample taken in [from, to); 0 if no application query waited. */
    synchronized double longestWaitMs(long fromNanos, long toNanos) {
        double longest = 0;
        for (Wait w : waits) {
            if (w.atNanos() >= fromNanos && w.atNanos() < toNanos) {
                longest = Math.max(longest, w.waitedMs());
            }
        }
        return longest;
    }

    /** What the application waited for in [from, to), e.g. "relation, transactionid". */
    synchronized String waitEvents(long fromNanos, long toNanos) {
        return waits.stream().filter(w -> w.atNanos() >= fromNanos && w.atNanos() < toNanos)
                .map(Wait::waitEvent).distinct().sorted().reduce((a, b) -> a + ", " + b).orElse("");
    }

    synchronized int samples() {
        return samples;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(5_000);
        try {
            connection.close();
        } catch (SQLException ignored) {
            // End of the trial.
        }
    }
}
