package dev.zdm.handlers;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Prediction;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * plan: true — the reply {@code planned}: {operation, table, steps: [{sql, lock, blocks, scans, rewrites,
 * batched, seconds, lock_wait_seconds, lock_held_seconds}], duration_seconds, table_locked,
 * table_rewritten, strongest_lock, would_reply (the reply a run would give), assumptions, predicted_by}.
 * Every figure is a prediction; nothing ran.
 */
final class PlanReply {

    private PlanReply() {
    }

    static ObjectNode of(Request request, Prediction prediction, ObjectNode wouldReply) {
        List<Map<String, Object>> steps = Explain.steps(prediction.plan());
        for (int i = 0; i < steps.size(); i++) {
            Prediction.StepTiming timing = prediction.steps().get(i);
            steps.get(i).put("seconds", seconds(timing.seconds()));
            steps.get(i).put("lock_wait_seconds", seconds(timing.lockWaitSeconds()));
            steps.get(i).put("lock_held_seconds", seconds(timing.lockHeldSeconds()));
        }
        wouldReply.remove("in_reply_to");
        return Reply.to(request, "planned")
                .put("operation", request.type())
                .put("table", prediction.plan().table().value())
                .put("steps", steps)
                .seconds("duration_seconds", prediction.outcome().durationSeconds())
                .put("table_locked", prediction.outcome().tableLocked())
                .put("table_rewritten", prediction.outcome().tableRewritten())
                .put("strongest_lock", prediction.plan().strongestLock().sqlName())
                .put("would_reply", wouldReply)
                .put("assumptions", prediction.assumptions())
                .put("predicted_by", prediction.predictedBy())
                .body();
    }

    /** 120 rather than 120.0. */
    private static BigDecimal seconds(double value) {
        return new BigDecimal(Double.toString(value)).stripTrailingZeros();
    }
}
