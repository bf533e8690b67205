package dev.zdm.postgres.run;

import java.time.Duration;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * A batch that lost a deadlock or a serialization conflict to an application transaction is rolled back
 * and simply run again once that transaction has had time to finish: after a pause that doubles with
 * each loss in a row and is jittered (so a batch and a retrying application do not collide in step
 * again), up to {@link #MAX_RETRIES} times in a row. A batch that keeps losing is reported, not retried
 * forever: something keeps taking the same rows in the opposite order.
 */
final class ConflictRetry {

    /** Runs again after a loss, in a row; the next loss ends the job. */
    static final int MAX_RETRIES = 5;
    /** The first pause: about one short application transaction. */
    static final Duration FIRST_PAUSE = Duration.ofMillis(20);

    private final DoubleSupplier random;
    private int inARow;
    private int total;

    ConflictRetry(DoubleSupplier random) {
        this.random = random;
    }

    /** The pause before running the batch again, between half and one and a half times the doubled pause; empty: give up. */
    Optional<Duration> lost() {
        inARow++;
        if (inARow > MAX_RETRIES) {
            return Optional.empty();
        }
        total++;
        long base = FIRST_PAUSE.toNanos() << (inARow - 1);
        return Optional.of(Duration.ofNanos((long) (base * (0.5 + random.getAsDouble()))));
    }

    /** The batch committed: the next loss is the first in a row again. */
    void committed() {
        inARow = 0;
    }

    /** Losses in a row so far (the one that gives up included). */
    int inARow() {
        return inARow;
    }

    /** Runs again over the whole job. */
    int retries() {
        return total;
    }
}
