package dev.zdm.postgres.connect;

import dev.zdm.Log;
import dev.zdm.Stopping;
import java.sql.SQLException;

/**
 * A SIGTERM does not wait for a statement that may run for hours (a VALIDATE, a concurrent index
 * build) while a service manager's grace period runs out and SIGKILL follows: the running statement
 * of the engine's connection is cancelled (a cancel request on a connection of its own, as psql's
 * Ctrl-C), and its error, raised while the node is stopping, is the interruption, not a failure: what
 * the operation made is kept and the same request resumes it.
 */
public final class StopCancel {

    private StopCancel() {
    }

    /** Cancels what {@code backend} runs now, if a request is being answered; logs it. */
    public static void cancel(Backend backend) {
        if (!Stopping.answering()) {
            return;
        }
        try {
            int pid = backend.runningPid();
            if (pid == 0) {
                return;
            }
            Log.info("SIGTERM: cancelling the statement backend " + pid + " runs; the operation is recorded as"
                    + " interrupted and the same request resumes it");
            backend.cancelRunning();
        } catch (SQLException e) {
            Log.info("SIGTERM: the running statement could not be cancelled (" + PgErrors.firstLine(e)
                    + "); it stops at its next safe point");
        }
    }

    /** Whether {@code failure} is a statement cancelled because the node is stopping. */
    public static boolean causedBy(Throwable failure) {
        if (!Stopping.requested()) {
            return false;
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException e && PgErrors.cancelled(e)) {
                return true;
            }
        }
        return false;
    }
}
