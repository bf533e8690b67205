package dev.zdm.postgres;

import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * A test class that talks to the shared embedded server through an engine and the real handlers of
 * its own; a subclass's own {@code @BeforeAll} runs after this one and may replace {@link #node}.
 */
abstract class OnEmbeddedPostgres {

    static final Duration BUDGET = Duration.ofSeconds(2);

    static PostgresEngine engine;
    static Node node;

    @BeforeAll
    static void startEngine() {
        engine = SharedPostgres.engine();
        node = new Node(engine, BUDGET);
    }

    @AfterAll
    static void stopEngine() {
        engine.close();
    }
}
