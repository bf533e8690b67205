package dev.zdm.engine;

import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A lock not granted within the budget: the step was cancelled and what the plan had done undone.
 * Both engines throw it, so an error 14 has one shape whichever ran: table, waited_ms, blocked_by (see
 * {@link Blocker}), rolled_back, then what the operation reports of itself ({@code progress}: a
 * create_index its attempts, a migrate_data the rows and batches that stay committed).
 */
public final class LockBudgetExceeded extends ZdmException {

    public LockBudgetExceeded(String table, long waitedMs, List<Blocker> blockedBy, Map<String, Object> progress) {
        super(ErrorCode.ABORT, "lock on " + table + " not granted within " + waitedMs + " ms"
                + (blockedBy.isEmpty() ? "" : ", blocked by " + Blocker.ordered(blockedBy).stream()
                        .map(Blocker::label).collect(Collectors.joining(", ")))
                + "; rolled back", details(table, waitedMs, Blocker.ordered(blockedBy), progress), null);
    }

    /**
     * The same shape with a text of its own: an operation another node runs (nothing applied), or an
     * undo that could not finish within the budget ({@code rolledBack} false: the text says what is left).
     */
    public LockBudgetExceeded(String text, String table, long waitedMs, List<Blocker> blockedBy, boolean rolledBack,
                              Map<String, Object> progress) {
        super(ErrorCode.ABORT, text, details(table, waitedMs, Blocker.ordered(blockedBy), progress, rolledBack), null);
    }

    /**
     * A CREATE INDEX CONCURRENTLY that waited, past the budget, for transactions whose snapshots are older
     * than the build (WaitForOlderSnapshots): they hold no lock on the table and may be on any table of the
     * database, so "lock on" would send the reader to look for the wrong thing.
     */
    public static LockBudgetExceeded olderSnapshot(String table, long waitedMs, List<Blocker> blockedBy,
                                                   Map<String, Object> progress) {
        Map<String, Object> shaped = new LinkedHashMap<>();
        shaped.put("waited_for", "older_snapshot");
        shaped.putAll(progress);
        return new LockBudgetExceeded("the concurrent build on " + table + " waited " + waitedMs + " ms for transactions"
                + " with snapshots older than the build" + (blockedBy.isEmpty() ? "" : " (" + Blocker.ordered(blockedBy)
                .stream().map(Blocker::label).collect(Collectors.joining(", ")) + ")") + ", which hold no lock on "
                + table + ": CREATE INDEX CONCURRENTLY waits for every older snapshot of the database, on any table"
                + " (a long REPEATABLE READ or SERIALIZABLE transaction, a long query); rolled back", table, waitedMs,
                blockedBy, true, shaped);
    }

    /**
     * The keys each operation's 14 has, whichever engine answers and wherever the lock was lost
     * (a planning read, a step, an undo): create_index always its attempts, migrate_data always the
     * rows and batches that stay committed, add_column neither.
     */
    public static Map<String, Object> progressOf(String operationType, Map<String, Object> progress) {
        Map<String, Object> shaped = new LinkedHashMap<>();
        switch (operationType) {
            case "create_index" -> shaped.put("attempts", progress.getOrDefault("attempts", 0));
            case "migrate_data" -> {
                shaped.put("total_rows", progress.getOrDefault("total_rows", 0L));
                shaped.put("batches", progress.getOrDefault("batches", 0));
            }
            case "add_column" -> { }
            default -> shaped.putAll(progress);
        }
        return shaped;
    }

    private static Map<String, Object> details(String table, long waitedMs, List<Blocker> blockedBy,
                                               Map<String, Object> progress) {
        return details(table, waitedMs, blockedBy, progress, true);
    }

    private static Map<String, Object> details(String table, long waitedMs, List<Blocker> blockedBy,
                                               Map<String, Object> progress, boolean rolledBack) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("table", table);
        details.put("waited_ms", waitedMs);
        details.put("blocked_by", blockedBy.stream().map(Blocker::asMap).toList());
        details.put("rolled_back", rolledBack);
        details.putAll(progress);
        return details;
    }
}
