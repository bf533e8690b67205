package dev.zdm.postgres.connect;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Whether the server will take zdm's writes, asked once at start: a hot standby in recovery and a
 * default of read-only transactions (default_transaction_read_only for the server, the database or
 * the role) refuse every one, which is better said at start, by name, than by the first request.
 */
public final class Writable {

    private Writable() {
    }

    /** Throws, as a read-only error (25006) naming the cause, when the server refuses writes. */
    public static void require(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')")) {
            rs.next();
            if (rs.getBoolean(1)) {
                throw new SQLException("it is a standby in recovery (pg_is_in_recovery()); zdm needs the primary",
                        PgErrors.READ_ONLY);
            }
            if ("on".equals(rs.getString(2))) {
                throw new SQLException("its transactions are read-only by default (default_transaction_read_only ="
                        + " on, for the server, the database or the role); zdm needs to write", PgErrors.READ_ONLY);
            }
        }
    }
}
