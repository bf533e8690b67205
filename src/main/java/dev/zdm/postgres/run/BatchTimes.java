package dev.zdm.postgres.run;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How long each batch of a backfill took, from its first statement to its commit: the time its row
 * locks were held, which is what an application UPDATE of one of its rows can wait. Reported as
 * percentiles in the step's observed figures.
 */
final class BatchTimes {

    private final List<Long> nanos = new ArrayList<>();

    /** Records a batch that started at {@code startNanos} and ends now; answers its duration. */
    long add(long startNanos) {
        long took = System.nanoTime() - startNanos;
        nanos.add(took);
        return took;
    }

    /** batch_ms: {p50, p99, max} over this run's batches, in ms with a tenth; empty before any batch. */
    Map<String, Object> asMap() {
        if (nanos.isEmpty()) {
            return Map.of();
        }
        List<Long> sorted = new ArrayList<>(nanos);
        Collections.sort(sorted);
        Map<String, Object> ms = new LinkedHashMap<>();
        ms.put("p50", tenths(percentile(sorted, 50)));
        ms.put("p99", tenths(percentile(sorted, 99)));
        ms.put("max", tenths(sorted.get(sorted.size() - 1)));
        return Map.of("batch_ms", ms);
    }

    /** Nearest rank. */
    static long percentile(List<Long> sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    private static double tenths(long nanos) {
        return Math.round(nanos / 100_000.0) / 10.0;
    }
}
