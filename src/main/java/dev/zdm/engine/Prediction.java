package dev.zdm.engine;

import dev.zdm.pg.Plan;
import java.util.List;

/**
 * What an operation would do, predicted without doing it ({@code plan: true}): the plan, the outcome the
 * model expects, each step's timing, and what the prediction rests on. {@code predictedBy} says on which
 * catalog: the simulator's own, or a live server's read in a read-only transaction.
 */
public record Prediction(Plan plan, Outcome outcome, List<StepTiming> steps, List<String> assumptions,
                         String predictedBy) {

    /**
     * One step as the model times it, in seconds: all of it, the part spent waiting for its lock, and how
     * long the lock is then held at a stretch (for a batched step, one batch: each batch commits).
     */
    public record StepTiming(double seconds, double lockWaitSeconds, double lockHeldSeconds) {
    }

    public Prediction {
        steps = List.copyOf(steps);
        assumptions = List.copyOf(assumptions);
    }
}
