package dev.zdm.cli;

/**
 * The process's exit codes, for a deploy pipeline, in one place. The node (no command) exits 0 at end
 * of input whatever its replies said: the course harness requires it, and each reply carries its own code.
 */
public enum ExitCode {
    /** apply: every migration applied (or applied before); status: printed; the node: end of input. */
    OK(0),
    /** The engine could not start (server unreachable, wrong password, embedded server failed), or stdin failed. */
    COULD_NOT_START(1),
    /** A bad command line: an unknown option or command, a missing value, DIR not a directory. */
    USAGE(2),
    /**
     * A migration failed on a cause to fix: error 10, 12, 20, 21 or 22, its reply printed. It stopped there;
     * the operations before it stay applied, and after the fix the same command resumes at that operation.
     */
    FAILED(3),
    /**
     * A migration was interrupted: error 13 or 14 (a lock not granted within the budget, a throttle pause
     * too long, a lost connection). Nothing is to fix; the same command run again resumes it.
     */
    INTERRUPTED(4);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The exit code for a migration's error reply of Maelstrom code {@code errorCode}. */
    public static ExitCode ofError(int errorCode) {
        return errorCode == 13 || errorCode == 14 ? INTERRUPTED : FAILED;
    }
}
