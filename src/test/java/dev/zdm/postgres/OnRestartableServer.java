package dev.zdm.postgres;

import dev.zdm.engine.Engines;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * A test class with a PostgreSQL server of its own, which its tests may restart, kill nodes on and
 * leave in any state: engines and node processes (the jar) on it, and a wait for a running job's rows.
 */
abstract class OnRestartableServer {

    static RestartableServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = new RestartableServer();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    /** An engine on the server; 3 attempts for a concurrent index build. */
    static PostgresEngine engine() throws Engines.StartFailed {
        return PostgresEngine.connect(server.database(), 3);
    }

    /** A node process on the server, requests sent to it as soon as it reads them. */
    static NodeProcess node() throws Exception {
        return new NodeProcess("--database", server.jdbcUrl());
    }

    /** A node process on the server once it says it is ready: a kill after it hits a running job. */
    static NodeProcess readyNode() throws Exception {
        NodeProcess node = node();
        try {
            node.awaitLog("ready", 30_000);
            return node;
        } catch (Exception | AssertionError e) {
            node.close();
            throw e;
        }
    }

    /** Waits until a running operation on {@code table} has checkpointed at least {@code rows} rows. */
    static void awaitRows(String table, long rows) throws InterruptedException {
        while (server.number("SELECT coalesce(max(c.rows_done), 0) FROM zdm.checkpoints c JOIN zdm.operations o"
                + " ON o.id = c.operation_id WHERE o.table_name = '" + table + "' AND o.state = 'running'") < rows) {
            Thread.sleep(5);
        }
    }
}
