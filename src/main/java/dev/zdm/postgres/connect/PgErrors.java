package dev.zdm.postgres.connect;

import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.sql.SQLException;

/** What a server error means for a request, by SQLSTATE (PostgreSQL manual, appendix A). */
public final class PgErrors {

    public static final String LOCK_NOT_AVAILABLE = "55P03";
    public static final String DEADLOCK_DETECTED = "40P01";
    public static final String UNIQUE_VIOLATION = "23505";
    public static final String SERIALIZATION_FAILURE = "40001";
    public static final String QUERY_CANCELED = "57014";

    private PgErrors() {
    }

    /** lock_timeout fired, or the deadlock detector chose us: the lock race was lost, nothing applied. */
    public static boolean lostLockRace(SQLException e) {
        return LOCK_NOT_AVAILABLE.equals(e.getSQLState()) || DEADLOCK_DETECTED.equals(e.getSQLState());
    }

    /**
     * The deadlock detector chose this transaction, or serializable isolation refused it: it lost to
     * another transaction, and run again after that one it succeeds (the manual's advice for both).
     */
    public static boolean transactionConflict(SQLException e) {
        return DEADLOCK_DETECTED.equals(e.getSQLState()) || SERIALIZATION_FAILURE.equals(e.getSQLState());
    }

    /** The statement was cancelled: by statement_timeout, or by someone's pg_cancel_backend. */
    public static boolean cancelled(SQLException e) {
        return QUERY_CANCELED.equals(e.getSQLState());
    }

    /**
     * Class 08 is the connection itself; 57P01..57P03 are the server going away (terminated backend,
     * shutdown, restart). pgjdbc reports an I/O failure as 08006.
     */
    public static boolean connectionLost(SQLException e) {
        String state = e.getSQLState();
        return state == null || state.startsWith("08") || state.startsWith("57P");
    }

    /**
     * The server ended the session itself: the connection is gone (see {@link #connectionLost}), or it
     * said why as it went: idle_in_transaction_session_timeout (25P03), transaction_timeout (25P04, 17+).
     */
    public static boolean sessionEnded(SQLException e) {
        return connectionLost(e) || "25P03".equals(e.getSQLState()) || "25P04".equals(e.getSQLState());
    }

    /**
     * The reply for an error that is neither a lost lock race nor a lost connection, by SQLSTATE class:
     * a missing privilege or a read-only server is a precondition of the deployment (22), never the
     * request's fault; a name the catalog lacks or holds already is 20 or 21; the rest of class 42
     * (syntax, types) comes from an expression the message supplied (12); a statement cancelled says so.
     */
    public static ZdmException toReply(SQLException e, String doing) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String text = brief(doing) + ": " + firstLine(e) + (state.isEmpty() ? "" : " (SQLSTATE " + state + ")");
        if (sessionEnded(e)) {
            return new ZdmException(ErrorCode.CRASH, "connection to PostgreSQL lost while " + text);
        }
        if (INSUFFICIENT_PRIVILEGE.equals(state) || state.startsWith("0L") || state.startsWith("0P")) {
            return new ZdmException(ErrorCode.PRECONDITION_FAILED, "the role zdm connects as lacks a privilege: "
                    + text + privilegeHint(doing));
        }
        if (READ_ONLY.equals(state)) {
            return new ZdmException(ErrorCode.PRECONDITION_FAILED, "the server refuses writes (a hot standby, or"
                    + " default_transaction_read_only on): " + text);
        }
        if (QUERY_CANCELED.equals(state)) {
            return new ZdmException(ErrorCode.PRECONDITION_FAILED, "cut short: the server cancelled the statement"
                    + " before it finished (pg_cancel_backend, or a statement timeout): " + text);
        }
        return switch (state) {
            case "42P01", "42703", "42704", "3F000" -> new ZdmException(ErrorCode.KEY_DOES_NOT_EXIST, text);
            case "42P07", "42701", "42710", "42P06", "42723" -> new ZdmException(ErrorCode.KEY_ALREADY_EXISTS, text);
            // A well-formed request the catalog refuses (what the table is, what depends on it: an inherited
            // column or constraint, a partition key's column): not malformed.
            case "0A000", "2BP01", "42P16", "42P17", "42809", "42611", "428C9", "42939", "55000", "42830"
                    -> new ZdmException(ErrorCode.PRECONDITION_FAILED, text);
            default -> state.startsWith("42")
                    // Syntax or type errors come from an expression the message supplied.
                    ? new ZdmException(ErrorCode.MALFORMED_REQUEST, text)
                    // Data the statement cannot accept (duplicates, NULLs, failed checks, casts) and the rest.
                    : new ZdmException(ErrorCode.PRECONDITION_FAILED, text);
        };
    }

    /** Past this length a statement is named by its beginning: the reply says what failed, not the whole CTE. */
    static final int STATEMENT_SHOWN = 120;

    /** The statement as a reply names it: its first {@link #STATEMENT_SHOWN} characters where it is longer. */
    static String brief(String doing) {
        return doing.length() <= STATEMENT_SHOWN + 20 ? doing : doing.substring(0, STATEMENT_SHOWN).stripTrailing() + " ...";
    }

    public static final String INSUFFICIENT_PRIVILEGE = "42501";
    public static final String READ_ONLY = "25006";

    /**
     * Which privilege the statement needed, from what it is (the server names the object, not the
     * privilege): ALTER TABLE and CREATE INDEX need the table's owner, an UPDATE needs UPDATE and SELECT.
     */
    static String privilegeHint(String doing) {
        String sql = doing.stripLeading().toUpperCase(java.util.Locale.ROOT);
        if (sql.startsWith("ALTER TABLE") || sql.startsWith("CREATE INDEX") || sql.startsWith("CREATE UNIQUE INDEX")
                || sql.startsWith("DROP INDEX") || sql.startsWith("CREATE SEQUENCE")) {
            return " (this statement needs the role to own the table, or be a member of its owner)";
        }
        if (sql.contains("UPDATE ")) {
            return " (this statement needs UPDATE and SELECT on the table)";
        }
        if (sql.startsWith("LOCK TABLE")) {
            return " (LOCK TABLE needs a privilege on the table that goes with the mode: SELECT for ACCESS SHARE,"
                    + " UPDATE, DELETE or TRUNCATE for the stronger modes)";
        }
        if (sql.startsWith("CREATE SCHEMA")) {
            return " (the ledger needs CREATE on the database, or a schema zdm the role owns)";
        }
        return "";
    }

    /**
     * Why the engine could not start, naming the cause: an unreachable server, a failed login, a
     * missing database, a read-only server or standby, a missing privilege, no free connection slot.
     */
    public static String atStart(SQLException e, String where) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String line = firstLine(e);
        if (state.startsWith("28")) {
            return "authentication failed at " + where + " (check the user and password in the URL, and"
                    + " pg_hba.conf): " + line;
        }
        if ("3D000".equals(state)) {
            return "the database at " + where + " does not exist: " + line;
        }
        if (READ_ONLY.equals(state)) {
            return "PostgreSQL at " + where + " is read-only: " + line;
        }
        if ("53300".equals(state)) {
            return "PostgreSQL at " + where + " has no free connection slot: " + line;
        }
        if ("57P03".equals(state)) {
            return "PostgreSQL at " + where + " is not accepting connections now (starting up, shutting down,"
                    + " or a standby that does not allow them): " + line;
        }
        if (INSUFFICIENT_PRIVILEGE.equals(state)) {
            return "the role zdm connects as lacks a privilege at " + where + ": " + line + privilegeHint(line);
        }
        if (state.isEmpty() || state.startsWith("08")) {
            return "cannot reach PostgreSQL at " + where + ": " + line;
        }
        return "PostgreSQL at " + where + " refused to start zdm: " + line;
    }

    public static String firstLine(SQLException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
