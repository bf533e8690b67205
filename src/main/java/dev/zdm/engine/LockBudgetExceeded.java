package dev.zdm.engine;

import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A lock not granted within the budget: the step was cancelled and what the plan had done undone. */
public final class LockBudgetExceeded extends ZdmException {

    public LockBudgetExceeded(String table, long waitedMs, List<String> blockedBy, Map<String, Object> progress) {
        super(ErrorCode.ABORT, "lock on " + table + " not granted within " + waitedMs + " ms"
                + (blockedBy.isEmpty() ? "" : ", blocked by " + String.join(", ", blockedBy))
                + "; rolled back", details(table, waitedMs, blockedBy, progress), null);
    }

    private static Map<String, Object> details(String table, long waitedMs, List<String> blockedBy,
                                               Map<String, Object> progress) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("table", table);
        details.put("waited_ms", waitedMs);
        details.put("blocked_by", List.copyOf(blockedBy));
        details.put("rolled_back", true);
        details.putAll(progress);
        return details;
    }
}
