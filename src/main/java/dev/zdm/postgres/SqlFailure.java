package dev.zdm.postgres;

import dev.zdm.protocol.ZdmException;
import java.sql.SQLException;

/** How the engine answers an SQL error of its own statements: see {@link PostgresEngine}'s {@code failed}. */
@FunctionalInterface
interface SqlFailure {
    ZdmException failed(SQLException e, String doing);
}
