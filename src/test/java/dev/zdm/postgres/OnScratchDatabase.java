package dev.zdm.postgres;

import dev.zdm.engine.Engines;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;

/**
 * A test class on a database of its own ({@link ScratchDatabase}), made as the test wants it (its
 * defaults, its tables, its grants) by the subclass's {@code @BeforeAll}, which then connects an
 * engine and the real handlers to it.
 */
abstract class OnScratchDatabase {

    static Database database;
    static PostgresEngine engine;
    static Node node;

    /** An engine (3 attempts for a concurrent build) and a node (a 2 s budget) on {@code scratch}. */
    static void connect(Database scratch) throws Engines.StartFailed {
        database = scratch;
        engine = PostgresEngine.connect(scratch, 3);
        node = new Node(engine, Duration.ofSeconds(2));
    }

    @AfterAll
    static void stopEngine() {
        engine.close();
    }
}
