package dev.zdm.simulator;

import dev.zdm.pg.TableWork;
import java.math.BigDecimal;
import java.math.MathContext;

/**
 * How long the simulator says a step takes. One model, named parameters:
 * <ul>
 *   <li>{@code statementSeconds}: the fixed part of any DDL statement — parse, lock, catalog write,
 *       commit, cache invalidation. A catalog-only change costs exactly this (the seed's 0.1 s).</li>
 *   <li>{@code indexRowsPerSecond}: rows one heap pass of an index build reads and sorts. A plain
 *       build is one pass; CREATE INDEX CONCURRENTLY is two (build, then validate), so on the default
 *       6,000,000-row users table it takes 2 × 60 s, the seed's 120 s.</li>
 *   <li>{@code scanRowsPerSecond}: a sequential scan that only checks (VALIDATE CONSTRAINT).</li>
 *   <li>{@code rewriteRowsPerSecond}: copying every row to a new heap file (volatile DEFAULT).</li>
 *   <li>{@code updateRowsPerSecond} and {@code batchCommitSeconds}: a batched UPDATE; each batch is a
 *       transaction of its own and pays a commit.</li>
 * </ul>
 * Lock waits are not costs: they come from the simulated clock, i.e. from the concurrent work the
 * scenario put on the table. Reported durations carry three significant digits: the model is an
 * estimate and claims no more precision than that.
 */
public record CostModel(double statementSeconds, double indexRowsPerSecond, double scanRowsPerSecond,
                        double rewriteRowsPerSecond, double updateRowsPerSecond, double batchCommitSeconds) {

    public static final CostModel DEFAULT = new CostModel(0.1, 100_000, 1_000_000, 200_000, 50_000, 0.005);

    private static final MathContext REPORTED = new MathContext(3);

    /** The time a statement doing {@code work} takes on a table of {@code rows} rows, waits excluded. */
    public double statement(TableWork work, long rows) {
        return statementSeconds + switch (work) {
            case CATALOG_ONLY -> 0;
            case SCAN -> rows / scanRowsPerSecond;
            case BUILD_INDEX -> rows / indexRowsPerSecond;
            case BUILD_INDEX_CONCURRENTLY -> 2 * rows / indexRowsPerSecond;
            case REWRITE -> rows / rewriteRowsPerSecond;
            case UPDATE_ROWS -> throw new IllegalArgumentException("a batched update is priced by batches()");
        };
    }

    /** {@code rows} rows updated in {@code batches} transactions with {@code sleepMs} between them. */
    public double batches(long rows, long batches, long sleepMs) {
        return rows / updateRowsPerSecond + batches * batchCommitSeconds + Math.max(0, batches - 1) * sleepMs / 1000.0;
    }

    /** A duration as the simulator reports it: three significant digits. */
    public static double reported(double seconds) {
        return seconds == 0 ? 0 : new BigDecimal(seconds).round(REPORTED).doubleValue();
    }
}
