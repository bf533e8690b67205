package dev.zdm.postgres.throttle;

import java.sql.Connection;
import java.sql.SQLException;

/** Something the server reports that says a backfill should pause before its next batch. */
interface StrainSignal {

    /** Null while the server is not under this strain; else what is wrong, with figures, for logs and errors. */
    String strain(Connection c) throws SQLException;
}
