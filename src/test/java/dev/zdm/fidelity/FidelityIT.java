package dev.zdm.fidelity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.ServerVersion;
import dev.zdm.postgres.PostgresEngine;
import dev.zdm.simulator.SimulatorEngine;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The scenario matrix on the simulator and on embedded PostgreSQL of every major version whose
 * binaries the build fetched; writes docs/fidelity.md and fails on any disagreement. Where they
 * disagree, the server is right and the model is what gets fixed.
 */
class FidelityIT {

    /** Big enough that a concurrent build outlasts a few of the lock observer's polls. */
    static final int ROWS = 20_000;
    static final Path REPORT = Path.of(System.getProperty("zdm.fidelity.report", "docs/fidelity.md"));

    @Test
    void the_simulator_agrees_with_postgresql() throws Exception {
        List<Integer> versions = versions();
        assertThat(versions).as("PostgreSQL versions to compare with").isNotEmpty();
        List<Scenario> scenarios = ScenarioMatrix.all();
        FidelityReport report = new FidelityReport(versions, ROWS);
        for (int version : versions) {
            try (VersionedServer server = VersionedServer.start(version);
                 PostgresEngine postgres = PostgresEngine.connect(server.database(), 3);
                 Connection admin = server.database().connect("zdm-fidelity")) {
                assertThat(postgres.version().major()).isEqualTo(version);
                for (Scenario scenario : scenarios) {
                    SimulatorEngine simulator = SimulatorEngine.withUsersTable(new ServerVersion(version), ROWS);
                    Observation predicted = ScenarioRunner.run(simulator, scenario,
                            () -> CatalogShape.of(simulator.model(), ScenarioRunner.USERS));
                    resetUsers(admin);
                    Observation seen = ScenarioRunner.run(postgres, scenario, () -> shape(admin));
                    report.add(scenario, version, predicted, seen);
                }
            }
        }
        report.write(REPORT);
        assertThat(report.disagreements()).as("disagreements, also in " + REPORT).isEmpty();
    }

    private static List<Integer> versions() {
        String wanted = System.getProperty("zdm.fidelity.versions", "");
        return wanted.isBlank() ? VersionedServer.available()
                : Arrays.stream(wanted.split(",")).map(String::trim).map(Integer::parseInt).toList();
    }

    /** A fresh users table, like the simulator's, and no job checkpoints from an earlier scenario. */
    private static void resetUsers(Connection admin) throws SQLException {
        try (var st = admin.createStatement()) {
            st.execute("DROP TABLE IF EXISTS users CASCADE");
            // No autovacuum: its SHARE UPDATE EXCLUSIVE would be a second, unscripted application.
            st.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text, name text) WITH (autovacuum_enabled = false)");
            st.execute("INSERT INTO users SELECT g, 'user' || g || '@example.com', 'name ' || g "
                    + "FROM generate_series(1, " + ROWS + ") g");
            st.execute("ANALYZE users");
            st.execute("DO $$ BEGIN IF to_regclass('zdm_checkpoints') IS NOT NULL THEN DELETE FROM zdm_checkpoints; END IF; END $$");
        }
    }

    /**
     * The catalog once things have settled: an INVALID index a failed build left while its blocker
     * was still there is dropped in the background when the blocker ends; give that a few seconds.
     */
    private static String shape(Connection admin) {
        try {
            String shape = CatalogShape.of(admin, ScenarioRunner.USERS);
            for (int i = 0; i < SETTLE_POLLS && shape.contains("INVALID"); i++) {
                Thread.sleep(100);
                shape = CatalogShape.of(admin, ScenarioRunner.USERS);
            }
            return shape;
        } catch (SQLException e) {
            throw new IllegalStateException("reading the catalog of users", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static final int SETTLE_POLLS = 30;
}
