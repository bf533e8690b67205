package dev.zdm.postgres.run;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A step lost its lock race (lock_timeout fired, or the deadlock detector cancelled it) and was rolled
 * back. The engine turns it into a LockBudgetExceeded once the earlier steps are undone.
 */
public final class LockWaitTimedOut extends Exception {

    private final long waitedMs;
    private final Set<Integer> blockers;
    private final Map<String, Object> progress;
    private final String waitedOn;
    private final boolean snapshotWait;

    public LockWaitTimedOut(String message, long waitedMs, Set<Integer> blockers, Map<String, Object> progress) {
        this(message, waitedMs, blockers, progress, null);
    }

    /** {@code waitedOn}: the table whose lock was not granted, as the observer saw it (null: not seen, or the step's own). */
    public LockWaitTimedOut(String message, long waitedMs, Set<Integer> blockers, Map<String, Object> progress,
                            String waitedOn) {
        this(message, waitedMs, blockers, progress, waitedOn, false);
    }

    /** {@code snapshotWait}: the wait was CREATE INDEX CONCURRENTLY's for older snapshots, no lock on the table. */
    public LockWaitTimedOut(String message, long waitedMs, Set<Integer> blockers, Map<String, Object> progress,
                            String waitedOn, boolean snapshotWait) {
        super(message, null, false, false);
        this.snapshotWait = snapshotWait;
        this.waitedOn = waitedOn;
        this.waitedMs = waitedMs;
        this.blockers = Collections.unmodifiableSet(new LinkedHashSet<>(blockers));
        // In the order given: the reply lists the fields in this order.
        this.progress = Collections.unmodifiableMap(new LinkedHashMap<>(progress));
    }

    public long waitedMs() {
        return waitedMs;
    }

    /** The table the lock was waited for, where the observer saw it; null otherwise. */
    public String waitedOn() {
        return waitedOn;
    }

    /** Whether the wait lost was for transactions with older snapshots (on any table), not for a lock. */
    public boolean snapshotWait() {
        return snapshotWait;
    }

    public Set<Integer> blockers() {
        return blockers;
    }

    /** What stays committed despite the abort (a backfill's finished batches). */
    public Map<String, Object> progress() {
        return progress;
    }
}
