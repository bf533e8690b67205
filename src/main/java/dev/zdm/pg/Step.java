package dev.zdm.pg;

/** One thing a plan does to the table: a statement, or a batched UPDATE. */
public sealed interface Step permits Statement, Backfill {

    SqlName table();

    /** The strongest table lock the step takes. */
    LockMode lock();

    TableWork work();

    /** The locks the step takes on other relations than its table, each waited for under the same budget. */
    java.util.List<Statement.OtherLock> otherLocks();

    /** The SQL as explain shows it (for a backfill, one batch's statement). */
    String sql();

    /**
     * The application cannot use the table while this step works on its rows: the lock stops reads or
     * writes and is held during a scan, build, rewrite or update. A catalog-only change holds even
     * ACCESS EXCLUSIVE only for an instant, which is what lock_timeout bounds.
     */
    default boolean locksTable() {
        return work().touchesRows() && (lock().blocksReads() || lock().blocksWrites());
    }
}
