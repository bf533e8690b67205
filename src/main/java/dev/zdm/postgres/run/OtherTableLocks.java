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
 * referencing table, a table a subquery of set or where reads) at the start of its transaction, under lock_timeout alone, as the batch's own table
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
                        statements.add("LOCK TABLE " + new SqlName(rs.getString(1), rs.getString(2)).quoted()
                                + " IN " + lock.mode().sqlName() + " MODE");
                        continue;
                    }
                }
            }
            if (lock.mode() == LockMode.ACCESS_SHARE) {
                read(c, lock.table()).ifPresent(statements::add);
            }
        }
        return statements;
    }

    /**
     * A table a subquery of the job reads, found by its name as the batch's UPDATE will resolve it (the
     * same backend, the same search_path). LOCK TABLE in ACCESS SHARE mode needs SELECT, as the read does.
     */
    private static java.util.Optional<String> read(Connection c, SqlName table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT n.nspname, r.relname FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace
                WHERE r.oid = to_regclass(?) AND r.relkind IN ('r', 'p') AND has_table_privilege(r.oid, 'SELECT')""")) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? java.util.Optional.of("LOCK TABLE " + new SqlName(rs.getString(1), rs.getString(2))
                        .quoted() + " IN ACCESS SHARE MODE") : java.util.Optional.empty();
            }
        }
    }
}
