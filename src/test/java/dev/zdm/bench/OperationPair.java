package dev.zdm.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

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

    /** The zdm request body. */
    ObjectNode request(ZdmClient zdm);

    /** What the report notes of the zdm reply (the flag that matters for this operation). */
    String note(ObjectNode reply);

    /** Whether the naive statement's update count is rows changed (a data change) or nothing (DDL). */
    default boolean changesRows() {
        return false;
    }

    /** The zdm request body, as the report shows it. */
    default String zdmRequest(ZdmClient zdm) {
        return ZdmClient.show(request(zdm));
    }

    /** Runs the naive way; the outcome's rows are the rows it changed, where that is what it does. */
    default Outcome naive(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            long count = s.executeUpdate(naiveSql());
            return new Outcome(changesRows() ? count : -1, "");
        }
    }

    /** Runs the zdm way through the handlers; a failed request throws its ZdmException. */
    default Outcome zdm(ZdmClient zdm) {
        ObjectNode reply = zdm.send(request(zdm));
        return new Outcome(changesRows() ? reply.path("total_rows").asLong() : -1, note(reply));
    }

    /**
     * The least work by hand that reaches the same end state without a rewrite, to weigh zdm's way
     * against (null: none for this operation). Statements run in order, each in autocommit.
     */
    default java.util.List<String> referenceSql() {
        return null;
    }

    /** Runs the reference statements in order. */
    default Outcome reference(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String sql : referenceSql()) {
                s.execute(sql);
            }
        }
        return new Outcome(-1, "");
    }

    /** Takes the change back (drops what was created); data changes need nothing taken back. */
    void reset(Connection c) throws SQLException;

    /** What an operation reports: rows changed (-1 when not a data change) and a short note. */
    record Outcome(long rows, String detail) {
    }
}
