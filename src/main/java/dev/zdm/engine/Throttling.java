package dev.zdm.engine;

import java.time.Duration;

/**
 * When a backfill pauses between batches because the server is under strain, and for how long at most.
 * {@code maxReplicaLag}: pause while a streaming replica replays more than this behind the primary
 * (null: not watched). {@code maxActiveSessions}: pause while more other sessions than this are running
 * a statement (gh-ost's max-load; null: not watched). {@code maxThrottle}: a pause that lasts longer ends
 * the request with its committed batches kept (null here: the node's default).
 */
public record Throttling(Duration maxReplicaLag, Integer maxActiveSessions, Duration maxThrottle) {

    /** Nothing watched; the default bound. */
    public static final Duration DEFAULT_MAX_THROTTLE = Duration.ofMinutes(5);
    public static final Throttling NONE = new Throttling(null, null, DEFAULT_MAX_THROTTLE);
    /** A request that sets nothing: every value is the node's. */
    public static final Throttling UNSET = new Throttling(null, null, null);

    /** These settings, where set, over {@code defaults}. */
    public Throttling over(Throttling defaults) {
        return new Throttling(maxReplicaLag != null ? maxReplicaLag : defaults.maxReplicaLag,
                maxActiveSessions != null ? maxActiveSessions : defaults.maxActiveSessions,
                maxThrottle != null ? maxThrottle : defaults.maxThrottle);
    }

    public boolean watchesAnything() {
        return maxReplicaLag != null || maxActiveSessions != null;
    }
}
