package dev.zdm.bench;

import java.util.List;

/**
 * One operation done one way, and what the application felt: the baseline window just before it and
 * the window while it ran (the operation's start to its end), on the trial's clock.
 *
 * @param longestLockWaitMs the longest lock wait of an application query sampled during the operation
 * @param baselineLockWaitMs the same in the baseline window: the noise floor (app rows locked by app)
 * @param failure           null, or why the operation failed (a zdm error reply, an SQL error)
 */
record TrialResult(OperationPair pair, Way way, String statement, WindowStats baseline, WindowStats during,
                   double longestLockWaitMs, double baselineLockWaitMs, String waitEvents, double opSeconds,
                   long rows, String detail, String failure, List<LatencyRecorder.Sample> samples,
                   long opStartNanos, long opEndNanos) {

    /** Rows per second of a data change; NaN when the operation does not change rows. */
    double rowsPerSecond() {
        return rows < 0 || opSeconds <= 0 ? Double.NaN : rows / opSeconds;
    }

    boolean failed() {
        return failure != null;
    }
}
