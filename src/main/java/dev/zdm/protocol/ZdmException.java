package dev.zdm.protocol;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A request that cannot be carried out, as the error reply it becomes. {@code details} are extra keys
 * of that reply (for a lock abort: table, waited_ms, blocked_by, rolled_back), in order.
 */
public class ZdmException extends RuntimeException {

    private final ErrorCode code;
    private final Map<String, Object> details;

    public ZdmException(ErrorCode code, String text) {
        this(code, text, Map.of(), null);
    }

    public ZdmException(ErrorCode code, String text, Map<String, Object> details, Throwable cause) {
        // An answer, not a fault: its stack trace would say nothing and cost more than the request.
        super(text, cause, false, false);
        this.code = code;
        this.details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }

    public static ZdmException malformed(String text) {
        return new ZdmException(ErrorCode.MALFORMED_REQUEST, text);
    }

    public static ZdmException missing(String what) {
        return new ZdmException(ErrorCode.KEY_DOES_NOT_EXIST, what + " does not exist");
    }

    public static ZdmException exists(String what) {
        return new ZdmException(ErrorCode.KEY_ALREADY_EXISTS, what + " already exists");
    }

    public static ZdmException precondition(String text) {
        return new ZdmException(ErrorCode.PRECONDITION_FAILED, text);
    }

    public ErrorCode code() {
        return code;
    }

    public Map<String, Object> details() {
        return details;
    }
}
