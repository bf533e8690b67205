package dev.zdm.simulator;

/** Simulated time in seconds since the node started; it moves only when the model says work was done. */
final class SimClock {

    private double now;

    double now() {
        return now;
    }

    void advance(double seconds) {
        if (seconds < 0) {
            throw new IllegalArgumentException("time does not go back: " + seconds);
        }
        now += seconds;
    }

    void advanceTo(double time) {
        advance(Math.max(0, time - now));
    }
}
