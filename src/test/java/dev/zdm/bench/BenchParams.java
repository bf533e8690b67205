package dev.zdm.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * What one benchmark run is asked to do, read from {@code -Dbench.*} system properties (the bench
 * profile of pom.xml passes them through). The defaults are sized for a 2-core machine: the workload
 * is paced, not flat out, so that the baseline leaves CPU for the operation and what the numbers show
 * is locking, not a saturated server.
 *
 * @param rows            rows in users before the run
 * @param threads         application threads, each on a connection of its own
 * @param ratePerThread   queries per second each thread aims at
 * @param warmup          workload running before the baseline is counted (caches, JIT, plans)
 * @param baseline        the quiet window before each operation
 * @param tail            workload kept running after the operation, plotted only, to show the recovery
 * @param lockBudget      max_lock_duration_ms of every zdm request, and the target for the app's waits
 * @param batchSize       migrate_data's batch_size
 * @param sweepBatchSizes other batch sizes migrate_data also runs with (zdm only), to show what the
 *                        batch size trades: rows/s against how long a batch holds its rows
 * @param statementTimeout the app's statement_timeout: a guard so a query never hangs the run forever,
 *                         long enough not to cut short the waits the naive way causes
 * @param out             where results.md and the PNGs go
 * @param schema          the workload: users (point reads, updates, inserts) or tpcb (pgbench's transaction)
 * @param replica         whether to end with migrate_data on a streaming standby, without and with the throttle
 * @param maxReplicaLagMs the throttle's max_replica_lag_ms in that run
 */
record BenchParams(long rows, int threads, int ratePerThread, Duration warmup, Duration baseline, Duration tail,
                   Duration lockBudget, int batchSize, List<Integer> sweepBatchSizes, Duration statementTimeout,
                   Path out, Schema schema, boolean replica, long maxReplicaLagMs) {

    static BenchParams fromSystemProperties() {
        return new BenchParams(
                longProp("bench.rows", 1_000_000),
                (int) longProp("bench.threads", 4),
                (int) longProp("bench.rate", 100),
                Duration.ofMillis(longProp("bench.warmup-ms", 1000)),
                Duration.ofSeconds(longProp("bench.baseline-seconds", 5)),
                Duration.ofMillis(longProp("bench.tail-ms", 1000)),
                Duration.ofMillis(longProp("bench.lock-budget-ms", 2000)),
                (int) longProp("bench.batch-size", 50_000),
                intList(System.getProperty("bench.sweep-batch-sizes", "1000,5000")),
                Duration.ofSeconds(longProp("bench.statement-timeout-seconds", 120)),
                Path.of(System.getProperty("bench.out", "bench")),
                Schema.named(stringProp("bench.workload", "users")),
                Boolean.parseBoolean(stringProp("bench.replica", "true")),
                longProp("bench.max-replica-lag-ms", 50));
    }

    /** "1000,25000" → [1000, 25000]; empty or "none" → no sweep. */
    private static List<Integer> intList(String text) {
        if (text == null || text.isBlank() || text.startsWith("${") || text.equals("none")) {
            return List.of();
        }
        return Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .map(Integer::valueOf).toList();
    }

    private static String stringProp(String name, String fallback) {
        String value = System.getProperty(name);
        return value == null || value.isBlank() || value.startsWith("${") ? fallback : value.trim();
    }

    private static long longProp(String name, long fallback) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank() || value.startsWith("${")) {
            return fallback;
        }
        return Long.parseLong(value.trim().replace("_", "").replace(",", ""));
    }
}
