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

    /** The reply for an error that is neither a lost lock race nor a lost connection. */
    public static ZdmException toReply(SQLException e, String doing) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String text = doing + ": " + firstLine(e);
        if (connectionLost(e)) {
            return new ZdmException(ErrorCode.CRASH, "connection to PostgreSQL lost while " + text);
        }
        return switch (state) {
            case "42P01", "42703", "42704" -> new ZdmException(ErrorCode.KEY_DOES_NOT_EXIST, text);
            case "42P07", "42701", "42710" -> new ZdmException(ErrorCode.KEY_ALREADY_EXISTS, text);
            default -> state.startsWith("42")
                    // Syntax or type errors come from an expression the message supplied.
                    ? new ZdmException(ErrorCode.MALFORMED_REQUEST, text)
                    // Data the statement cannot accept (duplicates, NULLs, failed checks, casts) and the rest.
                    : new ZdmException(ErrorCode.PRECONDITION_FAILED, text);
        };
    }

    public static String firstLine(SQLException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
