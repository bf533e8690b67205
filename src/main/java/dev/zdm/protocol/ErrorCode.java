package dev.zdm.protocol;

/** Maelstrom's error codes (jepsen-io/maelstrom, doc/protocol.md), the subset zdm answers with. */
public enum ErrorCode {
    NOT_SUPPORTED(10),
    MALFORMED_REQUEST(12),
    CRASH(13),
    ABORT(14),
    KEY_DOES_NOT_EXIST(20),
    KEY_ALREADY_EXISTS(21),
    PRECONDITION_FAILED(22);

    private final int code;

    ErrorCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
