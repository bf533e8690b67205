package dev.zdm.postgres.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The owner of an operation: the backend holding the session-level advisory lock on its fingerprint's
 * key. A node runs an operation only while it holds it; the server releases it when that backend ends
 * (a crash, a kill, a lost connection), so the same request sent again can take over and resume.
 */
public final class OperationLock {

    private OperationLock() {
    }

    /** Takes the lock if nobody holds it; never waits. */
    public static boolean tryTake(Connection c, long key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            ps.setLong(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    public static void release(Connection c, long key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            ps.setLong(1, key);
            ps.executeQuery().close();
        }
    }

    /**
     * The backend holding it. pg_locks shows a bigint advisory key as classid (high 32 bits) and objid
     * (low 32 bits) with objsubid 1.
     */
    public static Optional<Integer> holder(Connection c, long key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
                  AND classid::bigint = ? AND objid::bigint = ?
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""")) {
            ps.setLong(1, key >>> 32);
            ps.setLong(2, key & 0xffffffffL);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getInt(1)) : Optional.empty();
            }
        }
    }
}
