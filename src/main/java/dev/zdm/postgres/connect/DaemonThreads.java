package dev.zdm.postgres.connect;

import java.util.concurrent.ThreadFactory;

/** The engine's helper threads: named for thread dumps, daemons so they never keep the node alive at EOF. */
public final class DaemonThreads {

    private DaemonThreads() {
    }

    public static ThreadFactory named(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
