package dev.zdm.postgres.connect;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The field order (DMY, MDY, YMD) in which the database or role reads a date such as '02/03/2024',
 * given back to a connection zdm opens: the users' {@code default}, {@code set} and {@code where} are
 * evaluated there and must mean what they mean in psql on that database.
 *
 * <p>pgjdbc sends {@code DateStyle=ISO} in its startup packet, a client setting that outranks
 * {@code ALTER DATABASE/ROLE ... SET DateStyle}: the server drops those, and the order left is the
 * server's own (postgresql.conf). So the order is read from pg_db_role_setting, in the server's own
 * precedence (database and role, role, database, every role), and set with the style part, then the
 * style set back to ISO alone, which keeps the order (check_datestyle) and gives pgjdbc the ISO output it
 * needs. The server parses the stored value itself, so SQL, German or DEFAULT forms need no rules here.
 */
public final class UserDateOrder {

    private UserDateOrder() {
    }

    /** The stored DateStyle for this database and session user, or null where none is set. */
    static String stored(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT substr(x, strpos(x, '=') + 1)
                FROM pg_catalog.pg_db_role_setting s, unnest(s.setconfig) x
                WHERE lower(split_part(x, '=', 1)) = 'datestyle'
                  AND s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
                  AND s.setrole IN (0, (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = session_user))
                ORDER BY s.setrole <> 0 DESC, s.setdatabase <> 0 DESC LIMIT 1""");
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** Takes the stored order, if any, and leaves the output style ISO. */
    public static void apply(Connection c) throws SQLException {
        String stored = stored(c);
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT set_config('DateStyle', ?, false), set_config('DateStyle', 'ISO', false)")) {
            ps.setString(1, stored == null ? "ISO" : stored);
            ps.executeQuery().close();
        }
    }
}
