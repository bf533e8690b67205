package dev.zdm.fidelity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.PgFacts;
import dev.zdm.pg.ServerVersion;
import dev.zdm.engine.Throttling;
import dev.zdm.postgres.PostgresEngine;
import dev.zdm.config.Config;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.schema.CatalogReader;
import dev.zdm.schema.Schema;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Differential fuzzing: seeded random scripts run on the simulator and on embedded PostgreSQL of each
 * version, compared on everything but durations. The build fails on any disagreement that neither
 * depends on data the simulator cannot see; every disagreement is
 * shrunk to a minimal script and written to the report.
 *
 * <p>{@code mvn verify} runs the fixed seed set. Thousands, on every version (the report goes to
 * docs/fidelity.md):
 * {@code mvn verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=FuzzIT -Dzdm.fuzz.scenarios=5000
 * -Dzdm.fuzz.versions=10,11,12,13,14,15,16,17,18 -Dzdm.fidelity.report=docs/fidelity.md}
 *
 * <p>The tables a script runs on are its shape's ({@link TableShapes}): {@code -Dzdm.fuzz.shapes=all} (or families,
 * e.g. {@code keys,partitioned,foreign_key}) turns on more than the default, which is those that agree;
 * {@code -Dzdm.fuzz.dump=FILE} writes every run as a JSON line, for triage.
 */
class FuzzIT {

    static final long SEED = Long.getLong("zdm.fuzz.seed", 20261125L);
    static final int SCENARIOS = Integer.getInteger("zdm.fuzz.scenarios", 250);
    /** How many disagreements of each kind are shrunk for the report (shrinking reruns both engines). */
    static final int SHRINK_EXAMPLES = Integer.getInteger("zdm.fuzz.shrink-examples", 1);
    static final Path REPORT = Path.of(System.getProperty("zdm.fidelity.report", "target/fidelity.md"));
    /**
     * For triage only: {@code -Dzdm.fuzz.statement-seconds=S} prices a statement's fixed part at S (as measured
     * on the fuzz server) instead of the model's production estimate, to tell a timing disagreement that is the
     * cost model's price from one that is the model's (docs/fuzz-triage.md, w1-janitor).
     */
    static final CostModel COST = System.getProperty("zdm.fuzz.statement-seconds") == null ? CostModel.DEFAULT
            : new CostModel(Double.parseDouble(System.getProperty("zdm.fuzz.statement-seconds")),
                    CostModel.DEFAULT.indexRowsPerSecond(), CostModel.DEFAULT.scanRowsPerSecond(),
                    CostModel.DEFAULT.rewriteRowsPerSecond(), CostModel.DEFAULT.updateRowsPerSecond(),
                    CostModel.DEFAULT.batchCommitSeconds());

    @Test
    void theSimulatorAgreesWithPostgresqlOnFuzzedScripts() throws Exception {
        List<Integer> versions = versions();
        ScriptGenerator generator = new ScriptGenerator(SEED);
        List<Script> scripts = new ArrayList<>();
        for (int i = 0; i < SCENARIOS; i++) {
            scripts.add(generator.next());
        }
        FuzzReport report = new FuzzReport(SEED, scripts.size());
        long started = System.nanoTime();
        for (int version : versions) {
            try (VersionedServer server = VersionedServer.start(version);
                 PostgresEngine postgres = PostgresEngine.connect(server.database(), 3);
                 Connection admin = server.database().connect("zdm-fuzz")) {
                assertThat(postgres.version().major()).isEqualTo(version);
                // Batches of exactly batch_size (up to the first batch's size, see ScriptRunner) whatever this
                // machine's speed: a batch time they fit in, as the node's --batch-time-ms would set it.
                postgres.throttleDefaults(new Throttling(null, null, Throttling.DEFAULT_MAX_THROTTLE,
                        Duration.ofMillis(500)));
                Comparison comparison = new Comparison(version, postgres, admin);
                for (Script script : scripts) {
                    Result result = comparison.run(script);
                    List<String> diffs = result.differences();
                    String kind = FuzzReport.kind(script, diffs);
                    Script shrunk = diffs.isEmpty() || !report.wantsExample(script, diffs, SHRINK_EXAMPLES) ? null
                            : Shrinker.shrink(script, s -> {
                                List<String> d = comparison.run(s).differences();
                                return !d.isEmpty() && FuzzReport.kind(s, d).equals(kind);
                            });
                    report.add(version, script, result.seen(), diffs, shrunk,
                            shrunk == null ? null : comparison.run(shrunk).differences());
                }
            }
        }
        report.write(REPORT, versions, (System.nanoTime() - started) / 1e9);
        assertThat(report.unexplained()).as("disagreements that do not depend on data; "
                + "see " + REPORT).isEmpty();
    }

    record Result(ScriptRunner.Run predicted, ScriptRunner.Run seen) {
        List<String> differences() {
            return predicted.differences(seen);
        }
    }

    /** Runs one script on both engines of one version. */
    record Comparison(int version, PostgresEngine postgres, Connection admin) {

        /**
         * The simulator plans against the schema read from the server it is compared with (as
         * {@code --schema-from} reads it: tables, relations, row counts), then both run the script.
         */
        Result run(Script script) {
            resetUsers(admin, script, version);
            ServerVersion v = new ServerVersion(version);
            SimulatorEngine simulator = new SimulatorEngine(v, SimCatalog.of(schemaOf(admin), v).askingConstantsOf(urlOf(admin)), COST,
                    RetryPolicy.of(Config.DEFAULT_RETRIES));
            ScriptRunner.Run predicted = ScriptRunner.run(simulator, script,
                    () -> CatalogShape.of(simulator.model(), script.shape().compared(), PgFacts.of(v)));
            ScriptRunner.Run seen = ScriptRunner.run(postgres, script, () -> settledShape(admin, script.shape().compared()));
            return new Result(predicted, seen);
        }

        private static String urlOf(Connection admin) {
            try {
                return admin.getMetaData().getURL() + "?user=postgres";
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }

        private static Schema schemaOf(Connection admin) {
            try {
                return CatalogReader.read(admin, left -> { });
            } catch (SQLException e) {
                throw new IllegalStateException("reading the schema of users", e);
            }
        }
    }

    private static List<Integer> versions() {
        String wanted = System.getProperty("zdm.fuzz.versions", "15,18");
        List<Integer> available = VersionedServer.available();
        return Arrays.stream(wanted.split(",")).map(String::trim).map(Integer::parseInt)
                .filter(available::contains).toList();
    }

    /** A fresh users table, like the simulator's, and no ledger rows from an earlier script. */
    static void resetUsers(Connection admin, Script script, int version) {
        try (var st = admin.createStatement()) {
            st.execute("DROP TABLE IF EXISTS users, " + CatalogueScripts.ORDERS + " CASCADE");
            // Domains a column may be declared with (ScriptGenerator.DOMAINS), made once per server.
            for (String domain : ScriptGenerator.DOMAINS) {
                st.execute("DO $$ BEGIN CREATE DOMAIN " + domain + "; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
            }
            // The script's tables, its shape's (TableShapes), made afresh; the schemas of other shapes gone.
            for (String drop : TableShapes.dropAll()) {
                st.execute(drop);
            }
            for (String type : TableShapes.TYPES_MADE_ONCE) {
                st.execute("DO $$ BEGIN CREATE " + type + "; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
            }
            // No autovacuum: its SHARE UPDATE EXCLUSIVE would be a second, unscripted application. ANALYZE:
            // reltuples exact (the sample takes every row of so small a table), for the schema reader.
            for (String sql : script.shape().setup(script.rows(), script.key(), version)) {
                st.execute(sql);
            }
            // The ledger of earlier scripts: each script is a fresh start, as on the simulator.
            st.execute("DO $$ BEGIN IF to_regclass('zdm.operations') IS NOT NULL THEN"
                    + " TRUNCATE zdm.operations, zdm.objects, zdm.checkpoints; END IF; END $$");
        } catch (SQLException e) {
            throw new IllegalStateException("resetting users", e);
        }
    }

    /**
     * The catalog once things have settled: an INVALID index a failed build left while its blocker was
     * still there is dropped in the background when the blocker ends; give that a moment.
     */
    static String settledShape(Connection admin, List<dev.zdm.pg.SqlName> tables) {
        try {
            String shape = CatalogShape.of(admin, tables);
            // Up to 3 s: on a loaded machine the background drop once took longer than 1.5 s (PostgreSQL 17).
            for (int i = 0; i < 30 && shape.contains("INVALID"); i++) {
                Thread.sleep(100);
                shape = CatalogShape.of(admin, tables);
            }
            return shape;
        } catch (SQLException e) {
            throw new IllegalStateException("reading the catalog of users", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
