package dev.zdm.handlers;

import dev.zdm.pg.Plan;
import dev.zdm.pg.Step;
import dev.zdm.pg.TableWork;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** explain: true — each statement of the plan with the lock it takes and what that lock stops. */
final class Explain {

    private Explain() {
    }

    static List<Map<String, Object>> steps(Plan plan) {
        List<Map<String, Object>> steps = new ArrayList<>();
        for (Step step : plan.steps()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("sql", step.sql());
            entry.put("lock", step.lock().sqlName());
            List<String> blocks = new ArrayList<>();
            if (step.lock().blocksReads()) {
                blocks.add("reads");
            }
            if (step.lock().blocksWrites()) {
                blocks.add("writes");
            }
            entry.put("blocks", blocks);
            if (!step.otherLocks().isEmpty()) {
                // A foreign key locks the table it references too: that lock is waited for under the same budget.
                entry.put("also_locks", step.otherLocks().stream()
                        .map(o -> Map.of("table", o.table().value(), "lock", o.mode().sqlName())).toList());
            }
            entry.put("scans", step.work().touchesRows());
            entry.put("rewrites", step.work().rewrites());
            entry.put("batched", step.work() == TableWork.UPDATE_ROWS);
            steps.add(entry);
        }
        return steps;
    }
}
