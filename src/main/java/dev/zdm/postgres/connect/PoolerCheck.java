package dev.zdm.postgres.connect;

import dev.zdm.engine.Engines;
import dev.zdm.postgres.Database;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * Refuses a URL that reaches PostgreSQL through a pooler in transaction or statement mode (pgbouncer,
 * pgcat, RDS Proxy, Supavisor...). zdm's operation lock is a session advisory lock and its settings are
 * per session: on a backend another client gets next transaction, two nodes could both own one job,
 * and what zdm set would stay with the application. Session pooling keeps one backend per client
 * connection and passes.
 *
 * <p>Seen from the client, such a pooler shows as a backend that changes between two transactions of
 * one connection, or a session setting gone by the next transaction. A second client connection holds
 * a transaction open meanwhile, so the pooler must hand the first another backend (or, with one
 * backend, the second one the first one's); a pooler in statement mode refuses that transaction.
 */
public final class PoolerCheck {

    /**
     * How long any probe step may take, in seconds (pgjdbc's socketTimeout): each is one trivial
     * statement, and a pool of one backend would otherwise queue the first client behind the second's
     * open transaction for as long as the pooler lets a client wait (pgbouncer: query_wait_timeout, 2 min).
     */
    static final int STEP_SECONDS = 5;

    /** A session-level setting no one else uses: it survives to the next transaction on the same backend. */
    private static final String PROBE = "zdm.pooler_probe";

    private PoolerCheck() {
    }

    /** Refuses to start on a URL whose connections do not keep their backend, saying what to use instead. */
    public static void refuse(Database database) throws SQLException, Engines.StartFailed {
        Optional<String> problem = problem(database);
        if (problem.isPresent()) {
            throw new Engines.StartFailed(problem.get(), null);
        }
    }

    /** What is wrong with the URL for zdm, empty when each client connection has a backend of its own. */
    public static Optional<String> problem(Database database) throws SQLException {
        java.util.Properties bounded = new java.util.Properties();
        bounded.setProperty("socketTimeout", Integer.toString(STEP_SECONDS));
        bounded.setProperty("connectTimeout", Integer.toString(STEP_SECONDS));
        try (Connection first = database.connect("zdm-pooler-check", bounded);
             Connection second = database.connect("zdm-pooler-check", bounded)) {
            first.setAutoCommit(true);
            String token = Long.toString(System.nanoTime());
            int before;
            try (Statement s = first.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_backend_pid(), set_config('" + PROBE + "', '" + token
                         + "', false)")) {
                rs.next();
                before = rs.getInt(1);
            }
            int other;
            second.setAutoCommit(false);
            try (Statement s = second.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                other = rs.getInt(1);
            } catch (SQLException e) {
                if (statementPooling(e)) {
                    return Optional.of(refusal("statement", "a transaction of two statements was refused: "
                            + PgErrors.firstLine(e)));
                }
                throw e;
            }
            try {
                int after;
                String setting;
                try (Statement s = first.createStatement();
                     ResultSet rs = s.executeQuery("SELECT pg_backend_pid(), current_setting('" + PROBE + "', true)")) {
                    rs.next();
                    after = rs.getInt(1);
                    setting = rs.getString(2);
                } catch (SQLException e) {
                    if (PgErrors.connectionLost(e)) {
                        // A backend of its own would have answered at once: the first client waited for the
                        // one backend the second client's transaction holds, which only a pooler does.
                        return Optional.of(refusal("transaction", "one client connection got no server backend"
                                + " within " + STEP_SECONDS + " s while another client connection held a"
                                + " transaction open (" + PgErrors.firstLine(e) + ")"));
                    }
                    throw e;
                }
                if (after != before || other == before) {
                    return Optional.of(refusal("transaction", "one client connection was served by backend " + before
                            + ", then by " + after + ", while another client connection had backend " + other));
                }
                if (!token.equals(setting)) {
                    return Optional.of(refusal("transaction", "a session setting made in one transaction was gone"
                            + " in the next"));
                }
                try (Statement s = second.createStatement()) {
                    s.execute("SELECT 1");
                } catch (SQLException e) {
                    if (statementPooling(e)) {
                        return Optional.of(refusal("statement", "a transaction of two statements was refused: "
                                + PgErrors.firstLine(e)));
                    }
                    throw e;
                }
                return Optional.empty();
            } finally {
                // The second transaction ends first, so that a pool of one backend can serve the reset;
                // the probe leaves nothing on a backend. A first connection the probe lost has no setting left.
                second.rollback();
                if (!first.isClosed()) {
                    try (Statement s = first.createStatement()) {
                        s.execute("RESET " + PROBE);
                    }
                }
            }
        }
    }

    /** pgbouncer's words for a transaction block in statement mode. */
    private static boolean statementPooling(SQLException e) {
        String text = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        return text.contains("statement pooling") || text.contains("long transactions not allowed");
    }

    private static String refusal(String mode, String evidence) {
        return "the database URL goes through a connection pooler in " + mode + " pooling mode (" + evidence
                + "); zdm needs one server session per connection for its operation locks and settings:"
                + " use a direct URL to PostgreSQL, or a pool in session mode (pgbouncer pool_mode = session)";
    }
}
