package dev.zdm.simulator;

import dev.zdm.pg.Backfill;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Backfill jobs as the model sizes them, and the finished ones a repeated migrate_data answers the totals
 * of: a bounded memory, the newest {@link SimulatorEngine#REMEMBERED_JOBS}, the jobs a rolled-back plan
 * finished forgotten again.
 */
final class Jobs {

    record JobTotals(long rows, int batches) {
    }

    /**
     * A backfill's work as the model sees it before it starts: done before, or the rows it will update;
     * {@code updates}: whether a batch statement runs at all (the table has keys, a row is wanted).
     */
    record Job(JobTotals totals, boolean finishedBefore, boolean updates) {
    }

    private final Map<String, JobTotals> finishedJobs = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, JobTotals> eldest) {
            return size() > SimulatorEngine.REMEMBERED_JOBS;
        }
    };
    /** Jobs the running plan finished: forgotten again if the plan is rolled back. */
    private final List<String> jobsOfThisPlan = new ArrayList<>();

    void beginPlan() {
        jobsOfThisPlan.clear();
    }

    /** The job {@code id} (its operation's, see the engine) of the backfill, sized on the catalog. */
    Job job(String id, Backfill backfill, SimCatalog catalog) {
        JobTotals done = finishedJobs.get(id);
        if (done != null) {
            // The job's checkpoint says it finished: a repeated request answers its totals, redoes nothing.
            return new Job(done, true, false);
        }
        if (backfill.rowLimit() != null && backfill.condition() == null) {
            catalog.assumeAtLeast(backfill.table(), backfill.rowLimit());
        }
        long tableRows = catalog.table(backfill.table()).rows();
        KeyRange range = backfill.integerKey().map(key -> KeyRange.of(backfill.condition(), key)).orElse(null);
        long matching = range == null ? tableRows : range.count(tableRows);
        long rows = backfill.rowLimit() == null ? matching : Math.min(backfill.rowLimit(), matching);
        int batches = (int) ((rows + backfill.batchSize() - 1) / backfill.batchSize());
        boolean updates = tableRows > 0 && (backfill.rowLimit() == null || backfill.rowLimit() > 0);
        return new Job(new JobTotals(rows, batches), false, updates);
    }

    /** Its checkpoint says finished: the same request again reads nothing. */
    void finished(String id, JobTotals totals) {
        finishedJobs.put(id, totals);
        jobsOfThisPlan.add(id);
    }

    /** A backfill the rollback undid (its column dropped with the plan) is not a finished job. */
    void rollback() {
        jobsOfThisPlan.forEach(finishedJobs::remove);
        jobsOfThisPlan.clear();
    }

    void copyInto(Jobs copy) {
        copy.finishedJobs.putAll(finishedJobs);
    }
}
