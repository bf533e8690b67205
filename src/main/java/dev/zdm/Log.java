package dev.zdm;

import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;

/**
 * Logs go to stderr, always: stdout belongs to the protocol. How much is said is the system property
 * {@code zdm.log} (or the environment variable {@code ZDM_LOG}): {@code info}, the default, says what zdm
 * does; {@code quiet} only warnings (what the build's tests run with); {@code debug} also the libraries'
 * own chatter (the embedded server's initdb and pg_ctl output).
 */
public final class Log {

    /** How many of the libraries' quiet lines are kept, for a failure to show what led to it. */
    static final int HELD_LINES = 100;

    private enum Level { QUIET, INFO, DEBUG }

    private static final Level LEVEL = level();
    private static final Deque<String> held = new ArrayDeque<>();
    private static volatile long lastLibraryLine = System.nanoTime();

    private Log() {
    }

    private static Level level() {
        String setting = System.getProperty("zdm.log", System.getenv("ZDM_LOG"));
        if (setting == null || setting.isBlank()) {
            return Level.INFO;
        }
        try {
            return Level.valueOf(setting.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return Level.INFO;
        }
    }

    /** What zdm is doing: shown unless quiet. */
    public static void info(String message) {
        if (LEVEL != Level.QUIET) {
            print(message);
        }
    }

    /** A problem the reader must see: always shown. */
    public static void warn(String message) {
        print(message);
    }

    /**
     * A library's own line below warning (the embedded server's initdb output): shown at debug, else kept,
     * the last {@value #HELD_LINES}, for {@link #replayHeld} to show when what it was doing failed.
     */
    public static void library(String message) {
        lastLibraryLine = System.nanoTime();
        if (LEVEL == Level.DEBUG) {
            print(message);
            return;
        }
        synchronized (held) {
            held.addLast(message);
            while (held.size() > HELD_LINES) {
                held.removeFirst();
            }
        }
    }

    /**
     * Waits until no library line has come for {@code quietMs}, at most {@code maxMs}: a process's output
     * is logged by a thread of its own, which may still be reading when the process's failure is known.
     */
    public static void awaitLibraryQuiet(long quietMs, long maxMs) throws InterruptedException {
        long deadline = System.nanoTime() + maxMs * 1_000_000;
        while (System.nanoTime() - lastLibraryLine < quietMs * 1_000_000 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    /** Forgets the libraries' kept lines: what follows starts afresh. */
    public static void dropHeld() {
        synchronized (held) {
            held.clear();
        }
    }

    /** Prints the libraries' kept lines, once, after {@code what} failed; answers how many. */
    public static int replayHeld(String what) {
        List<String> lines;
        synchronized (held) {
            lines = new ArrayList<>(held);
            held.clear();
        }
        if (!lines.isEmpty()) {
            print(what + " failed; its last " + lines.size() + " lines of output:");
            lines.forEach(line -> print("  " + line));
        }
        return lines.size();
    }

    private static void print(String message) {
        System.err.println(LocalTime.now().truncatedTo(ChronoUnit.MILLIS) + " zdm: " + message);
        System.err.flush();
    }
}
