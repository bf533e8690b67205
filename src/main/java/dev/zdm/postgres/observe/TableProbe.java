package dev.zdm.postgres.observe;

import dev.zdm.pg.LockMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * What a backend can see about its own work on one table from inside its open transaction: the
 * table locks it holds (pg_locks keeps them until commit, so even an instant's ACCESS EXCLUSIVE is
 * visible), the rows it read and wrote (pg_stat_xact_user_tables: this backend's counters not yet
 * flushed, read as a difference around one statement) and the heap file (relfilenode).
 *
 * <p>A table is its whole tree: a partitioned table's partitions (and an inheritance parent's children)
 * are where its rows and heap files are, and a statement on the parent locks them too, so every reading
 * covers the table and all its descendants.
 */
public final class TableProbe {

    /** Counters of this backend for the table; only differences between two readings mean anything. */
    public record Activity(long tuplesRead, long tuplesWritten, String heapFiles) {

        /** Rows read or written between {@code before} and this reading. */
        public long rowsSince(Activity before) {
            return (tuplesRead - before.tuplesRead) + (tuplesWritten - before.tuplesWritten);
        }

        public boolean rewrittenSince(Activity before) {
            return !heapFiles.equals(before.heapFiles);
        }
    }

    private TableProbe() {
    }

    /**
     * The OIDs of the table and every relation below it (partitions, inheritance children), with the
     * table's OID as the one parameter; pg_inherits from PostgreSQL 10 on (pg_partition_tree is 12+).
     */
    public static final String TREE = "(WITH RECURSIVE zdm_tree(oid) AS (SELECT ?::oid UNION SELECT i.inhrelid"
            + " FROM pg_inherits i JOIN zdm_tree t ON i.inhparent = t.oid) SELECT oid FROM zdm_tree)";

    public static Activity activity(Connection c, long tableOid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT coalesce(sum(coalesce(s.seq_tup_read, 0) + coalesce(s.idx_tup_fetch, 0)), 0),
                       coalesce(sum(coalesce(s.n_tup_ins, 0) + coalesce(s.n_tup_upd, 0) + coalesce(s.n_tup_del, 0)), 0),
                       coalesce(string_agg(t.oid || ':' || t.relfilenode, ',' ORDER BY t.oid), '')
                FROM pg_class t LEFT JOIN pg_stat_xact_user_tables s ON s.relid = t.oid
                WHERE t.oid IN """ + TREE)) {
            ps.setLong(1, tableOid);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new Activity(0, 0, "");
                }
                return new Activity(rs.getLong(1), rs.getLong(2), rs.getString(3));
            }
        }
    }

    /** The strongest lock this backend holds on the table or any relation below it, or null. */
    public static LockMode heldLock(Connection c, long tableOid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND granted AND relation IN """ + TREE)) {
            ps.setLong(1, tableOid);
            LockMode strongest = null;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    strongest = LockModes.stronger(strongest, LockModes.fromPgLocks(rs.getString(1)));
                }
            }
            return strongest;
        }
    }

    /** The heap files of the table and every relation below it: a rewrite of any of them changes it. */
    public static String heapFiles(Connection c, long tableOid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(string_agg(oid || ':' || relfilenode, ','"
                + " ORDER BY oid), '') FROM pg_class WHERE oid IN " + TREE)) {
            ps.setLong(1, tableOid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : "";
            }
        }
    }
}
