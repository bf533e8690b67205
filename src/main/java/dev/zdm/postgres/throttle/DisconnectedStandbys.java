package dev.zdm.postgres.throttle;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Strain from a standby that is not connected: pg_stat_replication shows only connected standbys, but
 * one that went away (a network cut, a restart, a crash) keeps its physical replication slot on the
 * primary, and the slot keeps every byte of WAL since {@code restart_lsn} for it. How far behind such a
 * standby will be is unknown, and everything a backfill writes meanwhile it will have to replay, so it
 * counts as over {@code max_replica_lag_ms} for as long as its slot is behind the primary's WAL position:
 * until it reconnects (then {@link ReplicaLag} measures it) or {@code max_throttle_ms} ends the request.
 *
 * <p>Which slots: physical, inactive, not temporary, with a {@code restart_lsn}. A logical slot feeds a
 * decoding client (a CDC tool, a subscriber), not a standby that serves reads or a failover, and its
 * consumer may lag by design; a temporary slot belongs to a session (pg_basebackup) and goes with it; a
 * slot without restart_lsn holds no WAL (never used, or invalidated by max_slot_wal_keep_size: that
 * standby cannot come back through it).
 */
final class DisconnectedStandbys implements StrainSignal {

    private final long maxMs;

    DisconnectedStandbys(long maxMs) {
        this.maxMs = maxMs;
    }

    @Override
    public String strain(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT slot_name,"
                + " (pg_current_wal_lsn() - restart_lsn)::bigint FROM pg_replication_slots"
                + " WHERE slot_type = 'physical' AND NOT active AND NOT temporary AND restart_lsn IS NOT NULL"
                + " AND restart_lsn < pg_current_wal_lsn() ORDER BY 2 DESC, 1 LIMIT 1")) {
            if (!rs.next()) {
                return null;
            }
            return "the standby of physical replication slot " + rs.getString(1) + " is not connected and "
                    + rs.getLong(2) + " bytes of WAL behind: lag unknown, taken as over max_replica_lag_ms " + maxMs
                    + " until it reconnects (drop the slot if that standby is gone for good)";
        }
    }
}
