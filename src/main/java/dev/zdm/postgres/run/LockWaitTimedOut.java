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

    public LockWaitTimedOut(String message, long waitedMs, Set<Integer> blockers, Map<String, Object> progress) {
        this(message, waitedMs, blockers, progress, null);
    }

    /** {@code waitedOn}: the table whose lock was not granted, as the observer saw it (null: not seen, or the step's own). */
    public LockWaitTimedOut(String message, long waitedMs, Set<Integer> blockers, Map<String, Object> progress,
                            String waitedOn) {
        super(message, null, false, false);
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

    public Set<Integer> blockers() {
        return blockers;
    }

    /** What stays committed despite the abort (a backfill's finished batches). */
    public Map<String, Object> progress() {
        return progress;
    }
}
