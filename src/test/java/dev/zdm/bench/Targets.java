package dev.zdm.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The targets, judged on the measured numbers: reported as met or missed, never asserted, since
 * a timing on a shared 2-core machine is evidence to read, not a test to fail.
 *
 * <ul>
 *   <li>during every zdm operation no application query waits on a lock longer than the lock budget;</li>
 *   <li>during every zdm operation the application's p99 stays within 2× its baseline;</li>
 *   <li>during every zdm operation no application query takes longer than 50 ms;</li>
 *   <li>batched migrate_data reaches at least 95% of the single UPDATE's rows/s;</li>
 *   <li>the safe add_column takes at most 1.15× the reference: one UPDATE of the column and one validating scan.</li>
 * </ul>
 */
final class Targets {

    static final double P99_FACTOR = 2.0;
    static final double MIGRATE_RATIO = 0.95;
    static final double WORST_APP_MS = 50;
    static final double ADD_COLUMN_FACTOR = 1.15;

    /** One target for one operation: what was measured, against what, and whether it holds. */
    record Verdict(String operation, String target, String measured, boolean met) {
    }

    private Targets() {
    }

    static List<Verdict> judge(List<TrialResult> results, double lockBudgetMs) {
        List<Verdict> verdicts = new ArrayList<>();
        for (TrialResult r : results) {
            if (r.way() != Way.ZDM) {
                continue;
            }
            String op = r.pair().name();
            if (r.failed()) {
                verdicts.add(new Verdict(op, "operation completes", r.failure(), false));
                continue;
            }
            verdicts.add(new Verdict(op, String.format("longest app lock wait ≤ lock budget (%.0f ms)", lockBudgetMs),
                    String.format("%.0f ms (max query latency %.1f ms)", r.longestLockWaitMs(), r.during().maxMs()),
                    r.longestLockWaitMs() <= lockBudgetMs));
            verdicts.add(new Verdict(op, String.format("worst app latency ≤ %.0f ms", WORST_APP_MS),
                    String.format("%.1f ms", r.during().maxMs()), r.during().maxMs() <= WORST_APP_MS));
            double limit = P99_FACTOR * r.baseline().p99Ms();
            verdicts.add(new Verdict(op, "app p99 ≤ 2× baseline p99",
                    String.format("%.2f ms vs limit %.2f ms (baseline %.2f ms; %.2f×)", r.during().p99Ms(), limit,
                            r.baseline().p99Ms(), r.during().p99Ms() / r.baseline().p99Ms()),
                    r.during().p99Ms() <= limit));
        }
        TrialResult naive = find(results, "migrate_data", Way.NAIVE);
        TrialResult zdm = find(results, "migrate_data", Way.ZDM);
        if (naive != null && zdm != null && !naive.failed() && !zdm.failed()) {
            double ratio = migrateRatio(results);
            verdicts.add(new Verdict("migrate_data", "batched rows/s ≥ 95% of the single UPDATE's",
                    String.format("%.0f vs %.0f rows/s = %.0f%%", zdm.rowsPerSecond(), naive.rowsPerSecond(),
                            100 * ratio), ratio >= MIGRATE_RATIO));
        }
        TrialResult referenceAdd = find(results, "add_column", Way.REFERENCE);
        TrialResult zdmAdd = find(results, "add_column", Way.ZDM);
        if (referenceAdd != null && zdmAdd != null && !referenceAdd.failed() && !zdmAdd.failed()) {
            double factor = zdmAdd.opSeconds() / referenceAdd.opSeconds();
            verdicts.add(new Verdict("add_column", String.format(
                    "safe add_column ≤ %.2f× (one UPDATE of the column + one validating scan)", ADD_COLUMN_FACTOR),
                    String.format("%.2f s vs %.2f s = %.2f×", zdmAdd.opSeconds(), referenceAdd.opSeconds(), factor),
                    factor <= ADD_COLUMN_FACTOR));
        }
        return verdicts;
    }

    /** migrate_data's rows/s over the single UPDATE's, both measured in this run; NaN if either is missing. */
    static double migrateRatio(List<TrialResult> results) {
        TrialResult naive = find(results, "migrate_data", Way.NAIVE);
        TrialResult zdm = find(results, "migrate_data", Way.ZDM);
        if (naive == null || zdm == null) {
            return Double.NaN;
        }
        return zdm.rowsPerSecond() / naive.rowsPerSecond();
    }

    static TrialResult find(List<TrialResult> results, String operation, Way way) {
        return results.stream().filter(r -> r.pair().name().equals(operation) && r.way() == way).findFirst()
                .orElse(null);
    }
}
