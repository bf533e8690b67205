package dev.zdm.postgres.throttle;

import dev.zdm.Log;
import dev.zdm.engine.Throttling;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Between a backfill's batches, waits while any of its signals says the server is under strain, and
 * lets the next batch go when all are clear. Signals are read at most every {@link #CHECK_EVERY} while
 * batches run (each reading is a round trip the batches would otherwise not pay) and that often while
 * paused. A pause longer than the bound ends the job with {@link TooLong}: what committed stays.
 */
public final class Throttle {

    /** How often the signals are read: the most a strain can go unnoticed while batches run. */
    static final Duration CHECK_EVERY = Duration.ofMillis(100);
    /** A line on stderr at most this often while paused, as often as a running backfill reports. */
    static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);

    /** Waits between readings; a test's fake advances its clock instead. */
    interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    /** The strain did not clear within the bound. */
    public static final class TooLong extends Exception {
        private final long throttledMs;

        TooLong(String strain, long throttledMs) {
            super(strain);
            this.throttledMs = throttledMs;
        }

        public long throttledMs() {
            return throttledMs;
        }
    }

    private final List<StrainSignal> signals;
    private final long maxNanos;
    private final LongSupplier clock;
    private final Sleeper sleeper;
    private long lastCheck = Long.MIN_VALUE;
    private long throttledNanos;

    Throttle(List<StrainSignal> signals, Duration max, LongSupplier clock, Sleeper sleeper) {
        this.signals = List.copyOf(signals);
        this.maxNanos = max.toNanos();
        this.clock = clock;
        this.sleeper = sleeper;
    }

    /** The signals {@code settings} ask for, on the real clock. */
    public static Throttle of(Throttling settings) {
        List<StrainSignal> signals = new ArrayList<>();
        if (settings.maxReplicaLag() != null) {
            signals.add(new ReplicaLag(settings.maxReplicaLag().toMillis()));
            signals.add(new DisconnectedStandbys(settings.maxReplicaLag().toMillis()));
        }
        if (settings.maxActiveSessions() != null) {
            signals.add(new ActiveSessions(settings.maxActiveSessions()));
        }
        Duration max = settings.maxThrottle() != null ? settings.maxThrottle() : Throttling.DEFAULT_MAX_THROTTLE;
        return new Throttle(signals, max, System::nanoTime, d -> Thread.sleep(d.toMillis()));
    }

    /** Before a batch: returns at once when nothing is watched, it is not yet time to look, or all is clear. */
    public void awaitClear(Connection c, String job) throws SQLException, InterruptedException, TooLong {
        if (signals.isEmpty() || clock.getAsLong() - lastCheck < CHECK_EVERY.toNanos() && lastCheck != Long.MIN_VALUE) {
            return;
        }
        String strain = strain(c);
        if (strain == null) {
            return;
        }
        long started = clock.getAsLong();
        long lastLine = started;
        Log.info(job + ": paused, " + strain);
        try {
            while (strain != null) {
                long paused = clock.getAsLong() - started;
                if (paused >= maxNanos) {
                    throw new TooLong(strain, (throttledNanos + paused) / 1_000_000);
                }
                if (clock.getAsLong() - lastLine >= PROGRESS_EVERY.toNanos()) {
                    lastLine = clock.getAsLong();
                    Log.info(job + ": paused " + paused / 1_000_000 + " ms so far (throttled_ms " + (throttledNanos + paused) / 1_000_000
                            + "), " + strain);
                }
                sleeper.sleep(CHECK_EVERY);
                strain = strain(c);
            }
        } finally {
            throttledNanos += clock.getAsLong() - started;
        }
        Log.info(job + ": resumed after " + (clock.getAsLong() - started) / 1_000_000 + " ms paused");
    }

    /** Time spent paused so far. */
    public long throttledMs() {
        return throttledNanos / 1_000_000;
    }

    private String strain(Connection c) throws SQLException {
        lastCheck = clock.getAsLong();
        List<String> found = new ArrayList<>();
        for (StrainSignal signal : signals) {
            String s = signal.strain(c);
            if (s != null) {
                found.add(s);
            }
        }
        return found.isEmpty() ? null : String.join("; ", found);
    }
}
