package dev.zdm.bench;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * One schema or data change done two ways: naive, the plain SQL a person would type into psql (on a
 * plain connection: no lock_timeout, no batching), and zdm, the same change as a request to the real
 * handlers on the PostgreSQL engine. {@link #reset} takes the change back so the next run starts from
 * the same table.
 */
interface OperationPair {

    /** The zdm message type, which names the row of the report. */
    String name();

    /** The naive SQL, as the report shows it. */
    String naiveSql();

    /** The zdm request body, as the report shows it. */
    String zdmRequest(ZdmClient zdm);

    /** Runs the naive way; the outcome's rows are the rows it changed, where that is what it does. */
    Outcome naive(Connection c) throws SQLException;

    /**
     * Runs the zdm way through the handlers; a failed request throws its ZdmException. {@code c} is
     * there to read what the request needs to know about the table (migrate_data's last key).
     */
    Outcome zdm(ZdmClient zdm, Connection c) throws SQLException;

    /** Takes the change back (drops what was created); data changes need nothing taken back. */
    void reset(Connection c) throws SQLException;

    /** What an operation reports: rows changed (-1 when not a data change) and a short note. */
    record Outcome(long rows, String detail) {
    }
}
