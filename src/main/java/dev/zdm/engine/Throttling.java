package dev.zdm.engine;

import java.time.Duration;

/**
 * How a backfill paces itself: how long one batch may hold its row locks, and when it pauses between
 * batches because the server is under strain, and for how long at most. {@code maxReplicaLag}: pause
 * while a standby replays more than this behind the primary, or is not connected while its physical slot
 * holds WAL (null: not watched). {@code maxActiveSessions}: pause while more other sessions than this are
 * running a statement (gh-ost's max-load; null: not watched). {@code maxThrottle}: a pause that lasts
 * longer ends the request with its committed batches kept (null here: the node's default).
 * {@code batchTime}: the time one batch aims at, and so about the longest an application UPDATE of a row
 * zdm has just changed waits (null here: the node's default); never more than a share of the lock budget.
 */
public record Throttling(Duration maxReplicaLag, Integer maxActiveSessions, Duration maxThrottle, Duration batchTime) {

    /** Nothing watched; the default bound. */
    public static final Duration DEFAULT_MAX_THROTTLE = Duration.ofMinutes(5);
    /**
     * A batch's default time: gh-ost and pt-online-schema-change size chunks well under a second; 40 ms
     * keeps an application's worst wait behind a batch near 50 ms, while a batch's fixed cost (a few round
     * trips, well under a millisecond) stays a percent or two of it.
     */
    public static final Duration DEFAULT_BATCH_TIME = Duration.ofMillis(40);
    public static final Throttling NONE = new Throttling(null, null, DEFAULT_MAX_THROTTLE, DEFAULT_BATCH_TIME);
    /** A request that sets nothing: every value is the node's. */
    public static final Throttling UNSET = new Throttling(null, null, null, null);

    /** The throttle alone; the batch time is the node's. */
    public Throttling(Duration maxReplicaLag, Integer maxActiveSessions, Duration maxThrottle) {
        this(maxReplicaLag, maxActiveSessions, maxThrottle, null);
    }

    /** These settings, where set, over {@code defaults}. */
    public Throttling over(Throttling defaults) {
        return new Throttling(maxReplicaLag != null ? maxReplicaLag : defaults.maxReplicaLag,
                maxActiveSessions != null ? maxActiveSessions : defaults.maxActiveSessions,
                maxThrottle != null ? maxThrottle : defaults.maxThrottle,
                batchTime != null ? batchTime : defaults.batchTime);
    }

    /** The batch time to use: this one's, or the default. */
    public Duration batchTimeOrDefault() {
        return batchTime != null ? batchTime : DEFAULT_BATCH_TIME;
    }

    public boolean watchesAnything() {
        return maxReplicaLag != null || maxActiveSessions != null;
    }
}
