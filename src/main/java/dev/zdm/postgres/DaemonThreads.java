package dev.zdm.postgres;

import java.util.concurrent.ThreadFactory;

/** The engine's helper threads: named for thread dumps, daemons so they never keep the node alive at EOF. */
final class DaemonThreads {

    private DaemonThreads() {
    }

    static ThreadFactory named(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
