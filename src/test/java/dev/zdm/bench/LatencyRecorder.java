package dev.zdm.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Every application query of one trial: when it started and how long it took, on one monotonic clock
 * whose zero is the recorder's creation. Times are kept raw (not bucketed) because the report needs
 * exact percentiles over arbitrary windows and the plot needs each point; at a few hundred queries a
 * second that is a few MB.
 */
final class LatencyRecorder {

    /** One query: start and latency in nanoseconds since the recorder's zero. */
    record Sample(long startNanos, long latencyNanos, QueryKind kind, boolean ok) {
        double startSeconds() {
            return startNanos / 1e9;
        }

        double latencyMs() {
            return latencyNanos / 1e6;
        }
    }

    private final long zero = System.nanoTime();
    private final List<Sample> samples = new ArrayList<>();

    /** Nanoseconds since this recorder's zero: the one clock of a trial. */
    long now() {
        return System.nanoTime() - zero;
    }

    /** Called by every workload thread; the lock is uncontended at these rates. */
    synchronized void record(long startNanos, long endNanos, QueryKind kind, boolean ok) {
        samples.add(new Sample(startNanos, endNanos - startNanos, kind, ok));
    }

    /** The queries that started in [from, to). */
    synchronized List<Sample> startedBetween(long fromNanos, long toNanos) {
        List<Sample> out = new ArrayList<>();
        for (Sample s : samples) {
            if (s.startNanos() >= fromNanos && s.startNanos() < toNanos) {
                out.add(s);
            }
        }
        return out;
    }

    synchronized List<Sample> all() {
        return List.copyOf(samples);
    }
}
