package dev.zdm;

import java.time.Duration;

/**
 * A node being stopped (SIGTERM: a deploy, a service manager). The JVM runs its shutdown hooks then
 * halts, whatever the main thread is doing, so stopping is cooperative: the hook raises the flag, the
 * running job sees it between two batches and stops there with its position kept (a statement that
 * runs long, a VALIDATE or an index build, is cancelled by the engine's hook), the node writes that
 * request's reply, and only then does the hook let the JVM go, within {@link #GRACE}.
 */
public final class Stopping {

    /** How long a SIGTERM waits for the running request's reply; a service manager's own grace is longer. */
    public static final Duration GRACE = Duration.ofSeconds(10);

    private static volatile boolean requested;
    private static final Object LOCK = new Object();
    private static int busy;

    private Stopping() {
    }

    /** Asks the running work to stop at its next safe point. */
    public static void request() {
        requested = true;
    }

    public static boolean requested() {
        return requested;
    }

    /** Whether a request is being answered now. */
    public static boolean answering() {
        synchronized (LOCK) {
            return busy > 0;
        }
    }

    /** A request is being answered: a stop waits for its reply. */
    public static void busy() {
        synchronized (LOCK) {
            busy++;
        }
    }

    /** Its reply is written. */
    public static void idle() {
        synchronized (LOCK) {
            busy--;
            LOCK.notifyAll();
        }
    }

    /**
     * Raises the flag and waits until no request is being answered, at most {@code max}; answers
     * whether it got there.
     */
    public static boolean stopAndAwaitIdle(Duration max) {
        request();
        long deadline = System.nanoTime() + max.toNanos();
        synchronized (LOCK) {
            while (busy > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    LOCK.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return true;
    }
}
