package dev.zdm.simulator;

import dev.zdm.engine.OperationStatus;
import dev.zdm.engine.Outcome;
import dev.zdm.pg.Plan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the simulator's run has done, for {@code status}: each operation whose plan ran, done or
 * rolled back, as the ledger would list it; the newest {@link SimulatorEngine#REMEMBERED_JOBS}.
 */
final class RunHistory {

    private final Map<Long, OperationStatus> byId = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, OperationStatus> eldest) {
            return size() > SimulatorEngine.REMEMBERED_JOBS;
        }
    };
    private final Map<String, Long> counts = new LinkedHashMap<>();
    private long nextId = 1;

    void done(String type, Plan plan, Outcome outcome) {
        add(type, plan, "done", plan.steps().size(), outcome.rowsUpdated(), outcome.batches(), null);
    }

    /** A plan the model rolled back: none of its steps stays. */
    void failed(String type, Plan plan, String detail) {
        add(type, plan, "failed", 0, 0, 0, detail);
    }

    private void add(String type, Plan plan, String state, int stepsDone, long rows, int batches, String detail) {
        long id = nextId++;
        byId.put(id, new OperationStatus(id, type, plan.table().value(), plan.table().schema(), state, stepsDone, plan.steps().size(), rows,
                batches, null, null, detail, null, null, null, List.of()));
        counts.merge(state, 1L, Long::sum);
    }

    /** Failed ones first, then the newest. */
    List<OperationStatus> list(int limit) {
        List<OperationStatus> all = new ArrayList<>(byId.values());
        all.sort((a, b) -> a.state().equals("done") != b.state().equals("done")
                ? (a.state().equals("done") ? 1 : -1) : Long.compare(b.id(), a.id()));
        return all.subList(0, Math.min(limit, all.size()));
    }

    Map<String, Long> counts() {
        return Map.copyOf(counts);
    }
}
