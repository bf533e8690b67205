package dev.zdm.postgres.throttle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The throttle on a fake clock with scripted signals: no server, no real sleeping. */
class ThrottleTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    private Throttle throttle(Duration max, StrainSignal... signals) {
        return new Throttle(List.of(signals), max, now::get, d -> now.addAndGet(d.toNanos()));
    }

    /** Says strain for the first {@code strained} readings, then clear; counts readings. */
    private static StrainSignal scripted(int strained, AtomicInteger readings) {
        return c -> readings.incrementAndGet() <= strained ? "lag" : null;
    }

    @Test
    void nothingWatchedNeverPausesNorReads() throws Exception {
        Throttle t = throttle(Duration.ofSeconds(1));
        t.awaitClear(null, "job");
        assertThat(t.throttledMs()).isZero();
    }

    @Test
    void waitsWhileStrainedAndCountsTheTimePaused() throws Exception {
        AtomicInteger readings = new AtomicInteger();
        Throttle t = throttle(Duration.ofSeconds(10), scripted(5, readings));
        t.awaitClear(null, "job");
        assertThat(readings.get()).isEqualTo(6);
        assertThat(t.throttledMs()).isEqualTo(5 * Throttle.CHECK_EVERY.toMillis());
    }

    @Test
    void readsAtMostEveryCheckIntervalWhileBatchesRun() throws Exception {
        AtomicInteger readings = new AtomicInteger();
        Throttle t = throttle(Duration.ofSeconds(10), scripted(0, readings));
        for (int batch = 0; batch < 10; batch++) {
            t.awaitClear(null, "job");
            now.addAndGet(Duration.ofMillis(30).toNanos());
        }
        // 300 ms of batches: a reading at 0, then one per 100 ms.
        assertThat(readings.get()).isBetween(3, 4);
    }

    @Test
    void aStrainThatNeverClearsEndsAfterTheBound() {
        Throttle t = throttle(Duration.ofMillis(1000), c -> "replica 5000 ms behind");
        assertThatThrownBy(() -> t.awaitClear(null, "job"))
                .isInstanceOf(Throttle.TooLong.class)
                .hasMessageContaining("5000 ms behind")
                .satisfies(e -> assertThat(((Throttle.TooLong) e).throttledMs()).isBetween(1000L, 1100L));
    }

    @Test
    void replicaLagGrowsWhileReplayStandsStill() {
        // The primary's WAL moves on, the standby's replay position does not: the lag is the age of the
        // oldest position the standby lacks, though the server's replay_lag (reported 3 ms) stays small.
        ReplicaLag lag = new ReplicaLag(500);
        List<ReplicaLag.Standby> stuck = List.of(new ReplicaLag.Standby("standby", 99L, 3));
        assertThat(lag.judge(ms(0), 100, stuck)).isNull();
        assertThat(lag.judge(ms(400), 200, stuck)).isNull();
        assertThat(lag.judge(ms(700), 300, stuck)).contains("replica standby 700 ms behind").contains("201 bytes");
        // Replay catches up to the primary: clear at once.
        assertThat(lag.judge(ms(800), 300, List.of(new ReplicaLag.Standby("standby", 300L, 0)))).isNull();
    }

    @Test
    void replicaLagTrustsTheServersFigureWhenItIsLarger() {
        ReplicaLag lag = new ReplicaLag(500);
        assertThat(lag.judge(ms(0), 100, List.of(new ReplicaLag.Standby("a", 100L, 0),
                new ReplicaLag.Standby("b", 90L, 900)))).contains("900 ms behind");
        assertThat(lag.judge(ms(5), 100, List.of(new ReplicaLag.Standby("b", 100L, 900))))
                .as("caught up: the replay_lag shown is the last one measured, stale").isNull();
        assertThat(lag.judge(ms(10), 100, List.of())).as("no standby, no lag").isNull();
        assertThat(lag.judge(ms(20), 100, List.of(new ReplicaLag.Standby("hidden", null, 0))))
                .contains("pg_read_all_stats");
    }

    private static long ms(long ms) {
        return ms * 1_000_000;
    }
}
