package dev.zdm.postgres.run;

import dev.zdm.pg.LockMode;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The LOCK TABLE statements that take a batch's locks on other tables (a foreign key's referenced or
 * referencing table, their partitions, the tables further down a chain of cascades, a table a subquery
 * of set or where reads) at the start of its transaction, under lock_timeout alone, as the batch's own table
 * is: the UPDATE's trigger would otherwise wait for them under the batch's deadline, which cuts the batch
 * again and again instead of answering the wait as what it is. Each table is found by the foreign key
 * that links it to the job's table (by OID, whatever the search_path), and named with its schema.
 *
 * <p>LOCK TABLE needs a privilege the trigger does not (it runs as the referenced table's owner): below
 * PostgreSQL 16, UPDATE, DELETE or TRUNCATE for ROW SHARE, and INSERT too for ROW EXCLUSIVE. A table the
 * role may not lock so is left to the trigger.
 */
final class OtherTableLocks {

    private OtherTableLocks() {
    }

    static List<String> statements(Connection c, long tableOid, List<Statement.OtherLock> locks) throws SQLException {
        List<String> statements = new ArrayList<>();
        for (Statement.OtherLock lock : locks) {
            String privileges = lock.mode() == LockMode.ROW_EXCLUSIVE ? "INSERT, UPDATE, DELETE, TRUNCATE"
                    : "UPDATE, DELETE, TRUNCATE";
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT n.nspname, r.relname FROM pg_constraint k
                    JOIN pg_class r ON r.oid = CASE WHEN k.conrelid = ?::oid THEN k.confrelid ELSE k.conrelid END
                    JOIN pg_namespace n ON n.oid = r.relnamespace
                    WHERE k.contype = 'f' AND ?::oid IN (k.conrelid, k.confrelid) AND r.relname = ?
                      AND (?::text IS NULL OR n.nspname = ?::text) AND has_table_privilege(r.oid, ?::text)
                    LIMIT 1""")) {
                ps.setLong(1, tableOid);
                ps.setLong(2, tableOid);
                ps.setString(3, lock.table().value());
                ps.setString(4, lock.table().schema());
                ps.setString(5, lock.table().schema());
                ps.setString(6, privileges);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        statements.add(lockTable(rs, lock.mode()));
                        continue;
                    }
                }
            }
            byName(c, lock, lock.mode() == LockMode.ACCESS_SHARE ? "SELECT" : privileges).ifPresent(statements::add);
        }
        return statements;
    }

    /**
     * A table linked to the job's by no foreign key of its own: one a subquery of the job reads, a
     * partition of a linked table, a table further down a chain of cascades. Found by its name as the
     * planner's catalog named it on this backend (the same search_path the batch's UPDATE resolves names
     * with). LOCK TABLE in ACCESS SHARE mode needs SELECT, as the read does.
     */
    private static java.util.Optional<String> byName(Connection c, Statement.OtherLock lock, String privileges)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT n.nspname, r.relname FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace
                WHERE r.oid = to_regclass(?) AND r.relkind IN ('r', 'p') AND has_table_privilege(r.oid, ?::text)""")) {
            ps.setString(1, lock.table().quoted());
            ps.setString(2, privileges);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? java.util.Optional.of(lockTable(rs, lock.mode())) : java.util.Optional.empty();
            }
        }
    }

    /**
     * Always ONLY: the planner lists each partition or child the statement reaches as a lock of its own
     * (a foreign key's trigger names a plain table ONLY, a partitioned one whole; a read reaches the
     * children), each checked here for the role's right to LOCK it. A LOCK TABLE of a parent would
     * recurse, and before 14 fail on a partition the role has no right on (LockTableRecurse), where the
     * statement itself checks the parent's rights only.
     */
    private static String lockTable(ResultSet rs, LockMode mode) throws SQLException {
        return "LOCK TABLE ONLY " + new SqlName(rs.getString(1), rs.getString(2)).quoted() + " IN " + mode.sqlName() + " MODE";
    }
}
