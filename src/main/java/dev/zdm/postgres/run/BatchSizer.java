package dev.zdm.postgres.run;

import java.time.Duration;

/**
 * How many rows the next batch of a backfill takes, so that no batch holds its row locks longer than a
 * share of the lock budget: an application UPDATE of a row the batch has locked waits for the batch's
 * commit, so the batch's duration is the longest wait zdm can cause that way.
 *
 * <p>The model is pt-online-schema-change's {@code --chunk-time}: size each chunk from a weighted
 * average of the rows per second measured so far, aiming each batch at the batch time
 * ({@code batch_time_ms}), or at {@link #BUDGET_SHARE} of the lock budget where that is less. What differs: the request's {@code batch_size} is a
 * ceiling, never exceeded, and is what every batch takes while batches stay well inside their time (so
 * {@code batch_size 1000} over 10,000 fast rows is exactly 10 batches, as the simulator predicts). The
 * first batch takes at most {@link #FIRST_BATCH} rows, because nothing is known yet about how long a row
 * takes; the size then grows at most {@link #MAX_GROWTH}× per batch towards what the measured rate says
 * fits; only a second batch in a row that overran its time shrinks the next one, at once, to what the
 * slower of the average and its own rate says fits.
 *
 * <p>An average cannot foresee one slow stretch (rows that wait for application row locks, an expensive
 * expression, huge TOASTed values), so each batch statement also runs under a deadline
 * ({@link #deadline}): {@link #DEADLINE_FACTOR} times the target. A batch cancelled by it is retried at
 * half its size ({@link #cancelled}), down to one row; a single row gets the whole lock budget, since it
 * holds no other row while it runs. The size that was cut becomes a ceiling the growth stays under
 * ({@link #CUT_SHARE} of it): growing straight back into it would be cut again, and each cut batch leaves
 * its rolled-back row versions for the next attempt to step over, so the cuts feed on themselves
 * (measured: 169 cuts in one 1,000,000-row backfill, 3.9x slower). The ceiling is raised by a quarter
 * after {@link #CALM_BATCHES} batches in a row inside their time, so a slow stretch does not cap the
 * rest of the job.
 */
public final class BatchSizer {

    /** The share of the lock budget one batch may hold its row locks: 1/4, 500 ms at the default 2 s budget (pt-osc's default chunk time). */
    static final double BUDGET_SHARE = 0.25;
    /** The first batch's size when the ceiling is larger: pt-osc's starting chunk size. */
    public static final int FIRST_BATCH = 1000;
    /** Growth per batch at most: a rate measured on a small batch is a guess for a much larger one. */
    static final int MAX_GROWTH = 2;
    /** Weight of the newest measurement in the average rate (pt-osc weights its history 0.75). */
    static final double WEIGHT = 0.25;
    /**
     * A batch statement's deadline over its target: room for an ordinary stray (a checkpoint, a busy
     * moment), while an application waiting for one of its rows still waits about the target only.
     */
    static final double DEADLINE_FACTOR = 2;
    /** Growth stays under this share of the smallest size a deadline cut. */
    static final double CUT_SHARE = 0.75;
    /** Batches in a row inside their time after which the ceiling a cut set is raised by a quarter. */
    static final int CALM_BATCHES = 8;

    private final long ceiling;
    private final long targetNanos;
    private final Duration lockBudget;
    private double rowsPerNano = Double.NaN;
    private boolean overranBefore;
    private long next;
    /** The smallest batch a deadline cut, or Long.MAX_VALUE; growth stays under {@link #CUT_SHARE} of it. */
    private long cutAt = Long.MAX_VALUE;
    private int calm;

    /** {@code ceiling}: the request's batch_size; {@code lockBudget}: the request's max_lock_duration_ms. */
    BatchSizer(long ceiling, Duration lockBudget) {
        this(ceiling, lockBudget, null);
    }

    /** The same, aiming at {@code batchTime} where that is less than the budget's share (null: the share). */
    BatchSizer(long ceiling, Duration lockBudget, Duration batchTime) {
        if (ceiling < 1) {
            throw new IllegalArgumentException("batch ceiling must be positive: " + ceiling);
        }
        this.ceiling = ceiling;
        long share = Math.max(1, (long) (lockBudget.toNanos() * BUDGET_SHARE));
        this.targetNanos = batchTime == null ? share : Math.max(1, Math.min(share, batchTime.toNanos()));
        this.lockBudget = lockBudget;
        this.next = Math.min(ceiling, FIRST_BATCH);
    }

    /** Rows the next batch takes. */
    long next() {
        return next;
    }

    /** The time one batch may take. */
    Duration target() {
        return Duration.ofNanos(targetNanos);
    }

    /**
     * How long one statement of a batch of {@code rows} may run. One row holds no other row while it
     * runs, so it may take the whole budget, as a lock wait may; more rows get their share of it.
     */
    Duration deadline(long rows) {
        if (rows <= 1) {
            return lockBudget.isZero() ? Duration.ofMillis(1) : lockBudget;
        }
        return Duration.ofNanos(Math.max(1_000_000, (long) (targetNanos * DEADLINE_FACTOR)));
    }

    /** A batch of {@code rows} was cancelled at its deadline and rolled back: the next takes half. */
    void cancelled(long rows) {
        next = Math.max(1, Math.min(next, rows / 2));
        cutAt = Math.min(cutAt, Math.max(2, rows));
        calm = 0;
    }

    /** The most rows growth may reach after the cuts so far. */
    private long grownCap() {
        return cutAt == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(1, (long) (cutAt * CUT_SHARE));
    }

    /** A batch of {@code rows} committed after {@code nanos} (from its first statement to its commit). */
    void measured(long rows, long nanos) {
        if (rows <= 0) {
            return;
        }
        double rate = rows / (double) Math.max(1, nanos);
        rowsPerNano = Double.isNaN(rowsPerNano) ? rate : WEIGHT * rate + (1 - WEIGHT) * rowsPerNano;
        boolean overran = nanos > targetNanos;
        boolean lasting = overran && overranBefore;
        overranBefore = overran;
        calm = overran ? 0 : calm + 1;
        if (calm >= CALM_BATCHES && cutAt != Long.MAX_VALUE) {
            cutAt += Math.max(1, cutAt / 4);
            calm = 0;
        }
        if (overran && !lasting) {
            // One stray batch (a busy moment on the server) keeps the pace; a batch far over its time never
            // committed anyway: the deadline cancelled it.
            return;
        }
        double usable = lasting ? Math.min(rate, rowsPerNano) : rowsPerNano;
        long fits = (long) Math.max(1, Math.min(ceiling, usable * targetNanos));
        // Only overruns shrink: a batch inside its time keeps its size even when the average lags behind.
        next = lasting ? Math.max(1, Math.min(fits, rows - 1))
                : Math.max(next, Math.min(Math.min(fits, next * MAX_GROWTH), grownCap()));
    }
}
