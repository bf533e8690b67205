package dev.zdm.pg;

/**
 * How a CREATE INDEX CONCURRENTLY that lost its lock race is tried again: up to {@code attempts} in
 * all, pausing {@code firstBackoffMs} after the first failure and twice as long after each next one,
 * so a burst of short transactions can drain. Each attempt waits at most the lock budget. An attempt
 * is retried only once the INVALID index it left could be dropped.
 */
public record RetryPolicy(int attempts, long firstBackoffMs) {

    public static final long FIRST_BACKOFF_MS = 100;

    public RetryPolicy {
        if (attempts < 1 || firstBackoffMs < 0) {
            throw new IllegalArgumentException("attempts >= 1 and a backoff >= 0, not " + attempts + ", " + firstBackoffMs);
        }
    }

    public static RetryPolicy of(int attempts) {
        return new RetryPolicy(attempts, FIRST_BACKOFF_MS);
    }

    /** The pause after failed attempt number {@code attempt} (1-based). */
    public long backoffMs(int attempt) {
        return firstBackoffMs << Math.min(attempt - 1, 20);
    }
}
