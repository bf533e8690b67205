package dev.zdm;

import java.time.LocalTime;
import java.time.temporal.ChronoUnit;

/** Logs go to stderr, always: stdout belongs to the protocol. */
public final class Log {

    private Log() {
    }

    public static void info(String message) {
        System.err.println(LocalTime.now().truncatedTo(ChronoUnit.MILLIS) + " zdm: " + message);
        System.err.flush();
    }
}
