package dev.zdm.engine;

import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.util.Map;

/**
 * The node is stopping (SIGTERM) and the operation stopped at a safe point: between two batches, whose
 * position is kept, or between two steps. Nothing it made is undone: the same request resumes it.
 */
public final class Interrupted extends ZdmException {

    public static final String TEXT = "interrupted, send it again to resume";

    public Interrupted(String where, Map<String, Object> progress) {
        super(ErrorCode.CRASH, TEXT + ": the node is stopping (SIGTERM); " + where, progress, null);
    }
}
