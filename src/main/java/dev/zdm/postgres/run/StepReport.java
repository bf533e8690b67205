package dev.zdm.postgres.run;

import dev.zdm.postgres.observe.LockModes;
import dev.zdm.pg.LockMode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one step was seen doing: the strongest table lock it held ({@code lock}, null if none was
 * seen), for how long a mode that stops the application was held, how long it waited for locks, how
 * many of the table's rows it read or wrote (-1: not measurable, but the table had rows), whether the
 * heap file changed, and for a backfill the rows and batches of the job and {@code backfill}: what its
 * batches took (see {@link BatchTimes}) and how long it was throttled.
 */
public record StepReport(String sql, LockMode lock, long durationMs, long blockingLockMs, long waitedMs, long rowsTouched,
                         boolean rewrote, long rowsUpdated, int batches, Map<String, Object> backfill) {

    public StepReport {
        backfill = Map.copyOf(backfill);
    }

    /** A step that is not a backfill, or one that ran no batch. */
    public StepReport(String sql, LockMode lock, long durationMs, long blockingLockMs, long waitedMs, long rowsTouched,
               boolean rewrote, long rowsUpdated, int batches) {
        this(sql, lock, durationMs, blockingLockMs, waitedMs, rowsTouched, rewrote, rowsUpdated, batches, Map.of());
    }

    /**
     * The rule for table_locked: the step held a mode that blocks the application's reads or writes
     * (SHARE or stronger) while it read or wrote the table's rows (or rewrote its file). An ALTER that
     * only edits the catalog holds even ACCESS EXCLUSIVE for an instant and touches no row: not locked.
     */
    public boolean lockedTable() {
        return LockModes.blocksApplication(lock) && (rowsTouched != 0 || rewrote);
    }

    /** How long a backfill paused for a strained server (0 for any other step). */
    public long throttledMs() {
        return backfill.get("throttled_ms") instanceof Long ms ? ms : 0;
    }

    public Map<String, Object> asMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("sql", sql);
        map.put("lock", lock == null ? "none seen" : lock.sqlName());
        map.put("ms", durationMs);
        map.put("blocking_lock_ms", blockingLockMs);
        map.put("lock_wait_ms", waitedMs);
        map.put("rows_touched", rowsTouched);
        map.put("rewrote", rewrote);
        map.putAll(backfill);
        return map;
    }
}
