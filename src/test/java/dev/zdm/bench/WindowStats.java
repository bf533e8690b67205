package dev.zdm.bench;

import java.util.Arrays;
import java.util.List;

/**
 * What the application felt in one window: latency percentiles over the queries that started in it,
 * and completed queries per second. A query is placed by its start, so one that started during the
 * operation and was held until it ended counts against the operation, with its whole wait.
 */
record WindowStats(int queries, int errors, double seconds, double p50Ms, double p99Ms, double maxMs) {

    static WindowStats of(List<LatencyRecorder.Sample> samples, long fromNanos, long toNanos) {
        double seconds = Math.max(1e-9, (toNanos - fromNanos) / 1e9);
        if (samples.isEmpty()) {
            return new WindowStats(0, 0, seconds, Double.NaN, Double.NaN, Double.NaN);
        }
        double[] ms = samples.stream().mapToDouble(LatencyRecorder.Sample::latencyMs).toArray();
        Arrays.sort(ms);
        int errors = (int) samples.stream().filter(s -> !s.ok()).count();
        return new WindowStats(ms.length, errors, seconds, percentile(ms, 0.50), percentile(ms, 0.99),
                ms[ms.length - 1]);
    }

    /** Nearest-rank percentile: a value some query really had, never an interpolation between two. */
    static double percentile(double[] sorted, double p) {
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    double throughput() {
        return (queries - errors) / seconds;
    }
}
