package dev.zdm.postgres.throttle;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Strain as a replica feels it: a streaming standby (pg_stat_replication on the primary) replaying more
 * than {@code max} ms behind. The lag is the larger of two readings. PostgreSQL's {@code replay_lag} is
 * measured by the server, but it only moves when the standby reports replaying something new, so a
 * standby that stopped replaying keeps showing its last, small figure. So the signal also keeps its own
 * samples of the primary's WAL position ({@code pg_current_wal_lsn()}) with the time it read them: a
 * standby whose replay position is still behind a position the primary had {@code t} ms ago is at least
 * {@code t} ms behind, however stale its reports. Conversely a standby that has replayed all the primary
 * wrote is not behind, whatever replay_lag it still shows. A standby that has stopped reporting its replay position
 * (no superuser or pg_read_all_stats) is named as strain rather than ignored.
 */
final class ReplicaLag implements StrainSignal {

    private record Sample(long nanos, long lsn) {
    }

    private final long maxMs;
    private final LongSupplier clock;
    private final Deque<Sample> samples = new ArrayDeque<>();

    ReplicaLag(long maxMs) {
        this(maxMs, System::nanoTime);
    }

    ReplicaLag(long maxMs, LongSupplier clock) {
        this.maxMs = maxMs;
        this.clock = clock;
    }

    /** One row of pg_stat_replication: {@code replayLsn} null when the standby's position is not visible. */
    record Standby(String name, Long replayLsn, long reportedLagMs) {
    }

    @Override
    public String strain(Connection c) throws SQLException {
        long current;
        List<Standby> standbys = new ArrayList<>();
        try (Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")) {
                rs.next();
                current = rs.getLong(1);
            }
            try (ResultSet rs = s.executeQuery("SELECT application_name, replay_lsn - '0/0'::pg_lsn,"
                    + " coalesce(extract(epoch FROM replay_lag) * 1000, 0)::bigint FROM pg_stat_replication")) {
                while (rs.next()) {
                    long replay = rs.getLong(2);
                    standbys.add(new Standby(rs.getString(1), rs.wasNull() ? null : replay, rs.getLong(3)));
                }
            }
        }
        return judge(clock.getAsLong(), current, standbys);
    }

    /** The strain, if any, given the primary's WAL position now and what each standby reports. */
    String judge(long now, long current, List<Standby> standbys) {
        if (samples.isEmpty() || samples.peekLast().lsn() < current) {
            samples.addLast(new Sample(now, current));
        }
        Standby slowest = null;
        long reportedMs = 0;
        for (Standby standby : standbys) {
            if (standby.replayLsn() == null) {
                return "replica " + standby.name() + " reports no replay position (zdm needs pg_read_all_stats)";
            }
            if (slowest == null || standby.replayLsn() < slowest.replayLsn()) {
                slowest = standby;
            }
            if (standby.replayLsn() < current) {
                // A caught-up standby keeps showing its last measured replay_lag for a while: stale, not lag.
                reportedMs = Math.max(reportedMs, standby.reportedLagMs());
            }
        }
        if (slowest == null) {
            samples.clear();
            return null;
        }
        // Positions the slowest standby has replayed tell nothing more; the oldest one left is what it lacks.
        while (!samples.isEmpty() && samples.peekFirst().lsn() <= slowest.replayLsn()) {
            samples.removeFirst();
        }
        long behindMs = samples.isEmpty() ? 0 : (now - samples.peekFirst().nanos()) / 1_000_000;
        long lagMs = Math.max(reportedMs, behindMs);
        return lagMs > maxMs ? "replica " + slowest.name() + " " + lagMs + " ms behind > max_replica_lag_ms " + maxMs
                + " (" + (current - slowest.replayLsn()) + " bytes of WAL to replay)" : null;
    }
}
