package dev.zdm.engine;

import dev.zdm.config.Config;
import dev.zdm.postgres.PostgresEngine;
import dev.zdm.simulator.SimulatorEngine;

/** Opens the engine the configuration names. */
public final class Engines {

    /** The engine could not start (server unreachable, embedded server failed): one line for stderr. */
    public static final class StartFailed extends Exception {
        public StartFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private Engines() {
    }

    public static Engine open(Config config) throws StartFailed {
        if (config.simulator()) {
            return SimulatorEngine.open(config);
        }
        return PostgresEngine.open(config);
    }
}
