package dev.zdm.postgres.run;

import dev.zdm.engine.Outcome;
import dev.zdm.pg.Backfill;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Statement;
import dev.zdm.pg.Step;
import dev.zdm.postgres.observe.LockModes;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A plan's steps, each run by the runner of its kind, and their reports summed into the request's outcome. */
public final class PlanSteps {

    private PlanSteps() {
    }

    public static StepReport run(Step step, StepContext ctx) throws LockWaitTimedOut, SQLException {
        if (step instanceof Backfill b) {
            return BackfillRunner.run(b, ctx);
        }
        Statement s = (Statement) step;
        return s.transactional() ? StatementRunner.run(s, ctx) : IndexBuilder.run(s, ctx);
    }

    /**
     * A job that lost its lock race after others of the plan finished (the partitions before it): what
     * stays committed is theirs too.
     */
    public static LockWaitTimedOut withEarlierJobs(LockWaitTimedOut e, List<StepReport> reports) {
        if (reports.isEmpty() || !e.progress().containsKey("total_rows")) {
            return e;
        }
        Map<String, Object> progress = new LinkedHashMap<>(e.progress());
        progress.put("total_rows", ((Number) progress.get("total_rows")).longValue()
                + reports.stream().mapToLong(StepReport::rowsUpdated).sum());
        progress.put("batches", ((Number) progress.getOrDefault("batches", 0)).intValue()
                + reports.stream().mapToInt(StepReport::batches).sum());
        return new LockWaitTimedOut(e.getMessage(), e.waitedMs(), e.blockers(), progress, e.waitedOn());
    }

    public static long waited(List<StepReport> reports) {
        return reports.stream().mapToLong(StepReport::waitedMs).sum();
    }

    public static Outcome outcome(List<StepReport> reports, long startedNanos, boolean rewritten) {
        double seconds = Math.round((System.nanoTime() - startedNanos) / 1_000_000.0) / 1000.0;
        LockMode strongest = null;
        long blockingMs = 0;
        long waitedMs = 0;
        boolean locked = false;
        long rows = 0;
        int batches = 0;
        long throttledMs = 0;
        List<Map<String, Object>> steps = new ArrayList<>();
        for (StepReport r : reports) {
            strongest = LockModes.stronger(strongest, r.lock());
            blockingMs += r.blockingLockMs();
            waitedMs += r.waitedMs();
            locked |= r.lockedTable();
            rows += r.rowsUpdated();
            batches += r.batches();
            throttledMs += r.throttledMs();
            steps.add(r.asMap());
        }
        Map<String, Object> observed = new LinkedHashMap<>();
        observed.put("strongest_lock", strongest == null ? "none seen" : strongest.sqlName());
        observed.put("blocking_lock_ms", blockingMs);
        observed.put("lock_wait_ms", waitedMs);
        observed.put("throttled_ms", throttledMs);
        observed.put("steps", steps);
        return new Outcome(seconds, locked, rewritten, rows, batches, observed);
    }
}
