package dev.zdm.schema;

import dev.zdm.pg.DataType;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Optional;

/**
 * Asks a server whether a constant is a value of a type, where only the type's input function can
 * tell (inet, uuid, an enum's labels, a domain's CHECK, json): the text bound as a parameter, cast
 * through text to the type (a validated type name) in a read-only statement that changes nothing. A
 * refusal of class 22 or 23 is the constant's; any other error (the type does not exist, a lost
 * connection) is left to the statement itself to meet when it runs.
 */
public final class InputFunctionProbe {

    private InputFunctionProbe() {
    }

    /** The refusal the server gives the constant, as the PostgreSQL engine would answer it (22). */
    public static Optional<ZdmException> refusal(Connection c, DataType type, String text) throws SQLException {
        return refusedBy(c, "the server's input function for " + type + " refuses this default, as the statement"
                + " would before any row", () -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT CAST(CAST(? AS text) AS " + type.sql() + ")")) {
                ps.setString(1, text);
                ps.executeQuery().close();
            }
            if (!type.modifiers().isEmpty() || isDomain(c, type)) {
                // A cast to varchar(3)[], bit(3) or a domain over varchar(3) cuts the text to fit, as any explicit cast
                // does; a DEFAULT is assigned, which refuses it (22001, 22026). jsonb_to_record reads the text with the
                // type's input function and typmod (a domain's base type's, then its CHECK), as the assignment does:
                // still read-only.
                try (PreparedStatement assigned = c.prepareStatement("SELECT * FROM jsonb_to_record(jsonb_build_object('v',"
                        + " CAST(? AS text))) AS x(v " + type.sql() + ")")) {
                    assigned.setString(1, text);
                    assigned.executeQuery().close();
                }
            }
        });
    }

    /** A read-only question put to the server; its refusal of class 22 or 23 is the value's. */
    private interface Question {
        void ask() throws SQLException;
    }

    /**
     * 22 with the server's message and {@code why} if {@code question} is refused with class 22 or 23; a lost
     * connection or a shutdown (08, 57) is thrown; any other error is not the value's fault (a type or function
     * the server lacks, a sequence it may not read): the statement meets it when it runs.
     */
    private static Optional<ZdmException> refusedBy(Connection c, String why, Question question) throws SQLException {
        // Inside a transaction, a savepoint keeps the refusal from aborting it.
        java.sql.Savepoint savepoint = c.getAutoCommit() ? null : c.setSavepoint();
        try {
            question.ask();
            return Optional.empty();
        } catch (SQLException e) {
            if (savepoint != null) {
                c.rollback(savepoint);
            }
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.startsWith("22") || state.startsWith("23")) {
                String message = e.getMessage() == null ? state : e.getMessage().lines().findFirst().orElse(state);
                return Optional.of(new ZdmException(ErrorCode.PRECONDITION_FAILED, message.replaceFirst("^ERROR: ", "")
                        + " (SQLSTATE " + state + ": " + why + ")"));
            }
            if (state.startsWith("08") || state.startsWith("57")) {
                throw e;
            }
            return Optional.empty();
        } finally {
            if (savepoint != null) {
                c.releaseSavepoint(savepoint);
            }
        }
    }

    private static boolean isDomain(Connection c, DataType type) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT typtype = 'd' FROM pg_type WHERE oid = to_regtype(?)")) {
            ps.setString(1, type.sql());
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /** The same, on a connection of its own to the server {@code --schema-from} names, closed after. */
    public static Optional<ZdmException> refusal(String url, DataType type, String text) {
        try (Connection c = SchemaSource.parse(url).connect()) {
            c.setReadOnly(true);
            c.setAutoCommit(true);
            return refusal(c, type, text);
        } catch (SQLException e) {
            // The server is out of reach: the constant stays an assumption, as in the open world.
            return Optional.empty();
        }
    }

    /**
     * The refusal the server gives a default expression that calls nothing volatile when it evaluates it:
     * ADD COLUMN folds such a default once, before any row, on every version (1/0: 22012; 2147483647 + 1:
     * 22003; 'abc'::int: 22P02, seen on 10, 12 and 18). Evaluated alone in a read-only statement: an
     * expression that reads the row is refused before this, and one of class 22 or 23 is the default's.
     */
    public static Optional<ZdmException> evaluationRefusal(Connection c, dev.zdm.pg.SqlExpression expression)
            throws SQLException {
        return refusedBy(c, "the server evaluates the default " + expression.text() + " once as ADD COLUMN adds the"
                + " column, before any row, and refuses it", () -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + expression.sql())) {
                ps.executeQuery().close();
            }
        });
    }

    /** The same, on a connection of its own to the server {@code --schema-from} names, closed after. */
    public static Optional<ZdmException> evaluationRefusal(String url, dev.zdm.pg.SqlExpression expression) {
        try (Connection c = SchemaSource.parse(url).connect()) {
            c.setReadOnly(true);
            c.setAutoCommit(true);
            return evaluationRefusal(c, expression);
        } catch (SQLException e) {
            // The server is out of reach: the default stays unjudged, as in the open world.
            return Optional.empty();
        }
    }
}
