package dev.zdm.postgres.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sizer against a fake clock: each batch "takes" what a given cost per row and per batch says. */
class BatchSizerTest {

    private static final Duration BUDGET = Duration.ofMillis(2000);

    /** Sizes chosen over {@code total} rows when a batch costs fixedMs plus msPerRow per row. */
    private static List<Long> run(BatchSizer sizer, long total, double fixedMs, double msPerRow) {
        List<Long> sizes = new ArrayList<>();
        long left = total;
        while (left > 0) {
            long rows = Math.min(sizer.next(), left);
            sizes.add(rows);
            sizer.measured(rows, (long) ((fixedMs + rows * msPerRow) * 1_000_000));
            left -= rows;
        }
        return sizes;
    }

    @Test
    void fastBatchesAreExactlyTheCeiling() {
        // The seed: batch_size 1000 over 10,000 rows that commit in milliseconds is 10 batches of 1000.
        List<Long> sizes = run(new BatchSizer(1000, BUDGET), 10_000, 2, 0.005);
        assertEquals(10, sizes.size());
        assertTrue(sizes.stream().allMatch(s -> s == 1000));
    }

    @Test
    void aLargeCeilingIsApproachedFromTheFirstBatchDoublingAtMost() {
        BatchSizer sizer = new BatchSizer(100_000, BUDGET);
        List<Long> sizes = run(sizer, 1_000_000, 1, 0.001);
        assertEquals(BatchSizer.FIRST_BATCH, sizes.get(0));
        for (int i = 1; i < sizes.size(); i++) {
            assertTrue(sizes.get(i) <= sizes.get(i - 1) * BatchSizer.MAX_GROWTH, "batch " + i + ": " + sizes);
        }
        assertEquals(100_000, sizer.next(), "fast rows reach the ceiling: " + sizes);
    }

    @Test
    void slowRowsKeepEveryBatchInsideItsShareOfTheBudget() {
        // 0.01 ms a row: 500 ms (a quarter of 2 s) fits 50,000 rows, far below the ceiling of a million.
        BatchSizer sizer = new BatchSizer(1_000_000, BUDGET);
        List<Long> sizes = run(sizer, 2_000_000, 1, 0.01);
        long target = sizer.target().toMillis();
        assertEquals(500, target);
        for (long rows : sizes) {
            assertTrue(1 + rows * 0.01 <= target * 1.05, rows + " rows take longer than " + target + " ms: " + sizes);
        }
        assertTrue(sizes.get(sizes.size() - 2) > 40_000, "it grows close to what fits: " + sizes);
    }

    @Test
    void oneStrayBatchKeepsThePaceALastingSlowdownShrinksIt() {
        BatchSizer sizer = new BatchSizer(10_000, BUDGET);
        run(sizer, 40_000, 1, 0.001);
        assertEquals(10_000, sizer.next());
        // One batch stalls (a busy moment): 600 ms against a 500 ms target, under its deadline.
        sizer.measured(10_000, Duration.ofMillis(600).toNanos());
        assertEquals(10_000, sizer.next(), "one stray batch does not change the pace");
        // The server slows down for good: every batch of 10,000 rows now takes 700 ms.
        for (int i = 0; i < 12 && sizer.next() == 10_000; i++) {
            sizer.measured(10_000, Duration.ofMillis(700).toNanos());
        }
        assertTrue(sizer.next() < 10_000, "a lasting slowdown shrinks the batch: " + sizer.next());
        assertTrue(sizer.next() >= 1);
    }

    @Test
    void theBatchTimeIsTheTargetUnlessTheBudgetsShareIsLess() {
        assertEquals(40, new BatchSizer(1000, BUDGET, Duration.ofMillis(40)).target().toMillis());
        assertEquals(500, new BatchSizer(1000, BUDGET, Duration.ofMillis(5_000)).target().toMillis());
        assertEquals(25, new BatchSizer(1000, Duration.ofMillis(100), Duration.ofMillis(40)).target().toMillis());
    }

    @Test
    void aBatchStatementsDeadlineIsTwiceItsTargetAndOneRowGetsTheWholeBudget() {
        BatchSizer sizer = new BatchSizer(1000, BUDGET, Duration.ofMillis(40));
        assertEquals(80, sizer.deadline(1000).toMillis());
        assertEquals(80, sizer.deadline(2).toMillis());
        assertEquals(BUDGET, sizer.deadline(1));
        assertTrue(new BatchSizer(1000, BUDGET).deadline(1000).compareTo(BUDGET) < 0,
                "a batch of many rows always ends well inside the budget");
    }

    @Test
    void aCancelledBatchIsRetriedAtHalfItsSizeDownToOneRow() {
        BatchSizer sizer = new BatchSizer(1000, BUDGET, Duration.ofMillis(40));
        List<Long> sizes = new ArrayList<>();
        while (sizer.next() > 1) {
            sizes.add(sizer.next());
            sizer.cancelled(sizer.next());
        }
        assertEquals(List.of(1000L, 500L, 250L, 125L, 62L, 31L, 15L, 7L, 3L), sizes);
        sizer.cancelled(1);
        assertEquals(1, sizer.next());
        // Batches that then commit in time let the size grow again, at most doubling, once they have
        // stayed calm long enough to raise the ceiling the cuts set.
        for (int i = 0; i < 2 * BatchSizer.CALM_BATCHES; i++) {
            long rows = sizer.next();
            sizer.measured(rows, Duration.ofMillis(1).toNanos());
        }
        assertTrue(sizer.next() >= 2 && sizer.next() <= 4, "grew from one row: " + sizer.next());
    }

    @Test
    void aCeilingBelowTheFirstBatchIsTheFirstBatch() {
        assertEquals(10, new BatchSizer(10, BUDGET).next());
        assertThrows(IllegalArgumentException.class, () -> new BatchSizer(0, BUDGET));
    }

    @Test
    void aTinyBudgetStillMovesOneRowAtATime() {
        BatchSizer sizer = new BatchSizer(1000, Duration.ofMillis(1));
        // Two overruns in a row: one alone is taken for a stray (the deadline, not the sizer, guards it).
        sizer.measured(1000, Duration.ofMillis(50).toNanos());
        assertEquals(1000, sizer.next());
        sizer.measured(1000, Duration.ofMillis(50).toNanos());
        assertTrue(sizer.next() >= 1 && sizer.next() < 1000, "next " + sizer.next());
    }

    @Test
    void growthStaysUnderTheSizeADeadlineCutUntilBatchesStayCalm() {
        // 40 ms target: at 0.01 ms a row, 4,000 rows fit; a slow stretch cuts a batch of 3,000.
        BatchSizer sizer = new BatchSizer(100_000, BUDGET, Duration.ofMillis(40));
        sizer.measured(1000, 10_000_000);
        sizer.cancelled(3000);
        assertEquals(1500, sizer.next());
        List<Long> after = new ArrayList<>();
        for (int i = 0; i < BatchSizer.CALM_BATCHES - 1; i++) {
            long rows = sizer.next();
            sizer.measured(rows, (long) (rows * 0.01 * 1_000_000));
            after.add(sizer.next());
        }
        // Without the ceiling the size would double back to 3,000 at once and be cut again.
        assertTrue(after.stream().allMatch(n -> n <= 3000 * BatchSizer.CUT_SHARE), after.toString());
        for (int i = 0; i < 3 * BatchSizer.CALM_BATCHES; i++) {
            long rows = sizer.next();
            sizer.measured(rows, (long) (rows * 0.01 * 1_000_000));
        }
        assertTrue(sizer.next() > 3000, "calm batches raise the ceiling again: " + sizer.next());
    }
}
