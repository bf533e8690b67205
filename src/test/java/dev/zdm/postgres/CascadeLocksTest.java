package dev.zdm.postgres;

import static dev.zdm.postgres.SharedPostgres.exec;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.schema.CatalogReader;
import dev.zdm.schema.Schema;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 (hostile finding 9): an UPDATE of a referenced key cascades table after table. ON UPDATE
 * CASCADE changes a referencing key that is referenced in turn (a -> b -> c), SET NULL and NO ACTION end
 * the chain with their own locks (d, e), and a partitioned referencing table is locked with each
 * partition. The simulator's predicted locks are checked against PostgreSQL itself (the plain UPDATE,
 * no zdm, behind a holder of each table in a mode that stops ROW SHARE or only ROW EXCLUSIVE), then
 * both engines' replies behind holders. As a role without superuser, in a schema other than public.
 */
class CascadeLocksTest {

    private static final Duration BUDGET = Duration.ofMillis(400);
    private static final String SCHEMA = "Ca scade";
    private static final List<String> CHAIN = List.of("b", "c", "d", "e", "pp", "pp_1", "pp_2");
    private static Database tenant;

    @BeforeAll
    static void schema() throws Exception {
        exec("DROP DATABASE IF EXISTS cl_db WITH (FORCE)", "DROP ROLE IF EXISTS cl_tenant",
                "CREATE ROLE cl_tenant LOGIN PASSWORD 'cl_tenant' NOSUPERUSER NOCREATEDB NOCREATEROLE",
                "CREATE DATABASE cl_db OWNER cl_tenant");
        tenant = ScratchDatabase.withPassword("cl_db", "cl_tenant");
        try (Connection c = tenant.connect("zdm-test"); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA \"" + SCHEMA + "\"");
            s.execute("SET search_path = \"" + SCHEMA + "\"");
            s.execute("CREATE TABLE a (id int PRIMARY KEY, code text NOT NULL UNIQUE)");
            s.execute("CREATE TABLE b (id int PRIMARY KEY, a_code text UNIQUE REFERENCES a (code) ON UPDATE CASCADE)");
            s.execute("CREATE TABLE c (id int PRIMARY KEY, b_code text UNIQUE REFERENCES b (a_code) ON UPDATE CASCADE)");
            s.execute("CREATE TABLE d (id int PRIMARY KEY, c_code text REFERENCES c (b_code) ON UPDATE SET NULL)");
            s.execute("CREATE TABLE e (id int PRIMARY KEY, c_code text REFERENCES c (b_code))");
            s.execute("CREATE TABLE pp (id int NOT NULL, a_code text REFERENCES a (code) ON UPDATE CASCADE, k int NOT NULL)"
                    + " PARTITION BY LIST (k)");
            s.execute("CREATE TABLE pp_1 PARTITION OF pp FOR VALUES IN (1)");
            s.execute("CREATE TABLE pp_2 PARTITION OF pp FOR VALUES IN (2)");
            s.execute("INSERT INTO a SELECT g, 'k' || g FROM generate_series(1, 20) g");
            s.execute("INSERT INTO b SELECT g, 'k' || g FROM generate_series(1, 20) g");
            s.execute("INSERT INTO c SELECT g, 'k' || g FROM generate_series(1, 20) g");
            s.execute("INSERT INTO d SELECT g, 'k' || g FROM generate_series(1, 20) g");
            s.execute("INSERT INTO pp SELECT g, 'k' || g, 1 + g % 2 FROM generate_series(1, 20) g");
        }
    }

    private static final String REQUEST = """
            {"type":"migrate_data","schema":"Ca scade","table":"a","set":{"code":"code || 'x'"},"batch_size":5%s}""";

    @Test
    void thePredictedLocksOfACascadeChainAreWhatTheServerWaitsFor() throws Exception {
        try (PostgresEngine engine = PostgresEngine.connect(tenant, 3)) {
            Node simulator = simulator(engine);
            ObjectNode explained = simulator.send(REQUEST.formatted(",\"plan\":true,\"explain\":true"));
            Map<String, LockMode> predicted = new LinkedHashMap<>();
            for (JsonNode lock : explained.at("/steps/0/also_locks")) {
                predicted.put(lock.get("table").asText(), LockMode.parse(lock.get("lock").asText()));
            }
            assertThat(predicted).as(explained.toString()).containsOnlyKeys(CHAIN)
                    .containsEntry("b", LockMode.ROW_EXCLUSIVE).containsEntry("c", LockMode.ROW_EXCLUSIVE)
                    .containsEntry("d", LockMode.ROW_EXCLUSIVE).containsEntry("e", LockMode.ROW_SHARE)
                    .containsEntry("pp_2", LockMode.ROW_EXCLUSIVE);
            // PostgreSQL itself: the plain UPDATE waits for a holder exactly where the prediction conflicts.
            for (String table : CHAIN) {
                for (LockMode held : List.of(LockMode.SHARE, LockMode.EXCLUSIVE)) {
                    assertThat(serverWaits(table, held)).as("UPDATE of a.code behind %s on %s", held, table)
                            .isEqualTo(predicted.get(table).conflictsWith(held));
                }
            }
            assertThat(serverWaits("a", LockMode.ACCESS_SHARE)).as("a control: a holder that stops nothing").isFalse();
        }
    }

    @Test
    void bothEnginesWaitForEachLevelOfTheChainAndNameIt() throws Exception {
        try (PostgresEngine engine = PostgresEngine.connect(tenant, 3)) {
            Node simulator = simulator(engine);
            for (Node on : List.of(new Node(engine, BUDGET), simulator)) {
                for (String table : List.of("c", "d", "pp_2")) {
                    ObjectNode reply = behindHolder(on, table, "SHARE", REQUEST.formatted(""));
                    assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(14);
                    assertThat(reply.get("table").asText()).as(reply.toString()).isEqualTo(table);
                }
                // NO ACTION only looks (ROW SHARE): a SHARE holder on e lets the job through.
                ObjectNode reply = behindHolder(on, "e", "SHARE", REQUEST.formatted(""));
                assertThat(reply.path("type").asText()).as(reply.toString()).isEqualTo("data_migrated");
            }
        }
    }

    /** Whether PostgreSQL's own UPDATE of a key of a, behind a holder of {@code mode} on {@code table}, waits. */
    private static boolean serverWaits(String table, LockMode mode) throws SQLException {
        try (Connection holder = tenant.connect("zdm-test"); Connection updater = tenant.connect("zdm-test");
             Statement h = holder.createStatement(); Statement u = updater.createStatement()) {
            h.execute("BEGIN");
            h.execute("LOCK TABLE \"" + SCHEMA + "\"." + table + " IN " + mode.sqlName() + " MODE");
            u.execute("BEGIN");
            u.execute("SET LOCAL lock_timeout = '300ms'");
            try {
                u.execute("UPDATE \"" + SCHEMA + "\".a SET code = code || 'y' WHERE id = 3");
                return false;
            } catch (SQLException e) {
                assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo("55P03");
                return true;
            } finally {
                u.execute("ROLLBACK");
                h.execute("ROLLBACK");
            }
        }
    }

    private static Node simulator(PostgresEngine engine) throws Exception {
        Schema schema;
        try (Connection c = tenant.connect("zdm-test")) {
            schema = CatalogReader.read(c, line -> { });
        }
        return new Node(new SimulatorEngine(engine.version(), SimCatalog.of(schema, engine.version()), CostModel.DEFAULT,
                RetryPolicy.of(3)), BUDGET);
    }

    private static ObjectNode behindHolder(Node on, String heldTable, String mode, String request) {
        ObjectNode opened = on.send("""
                {"type":"open_transaction","session":"cl_holder","schema":"%s","table":"%s","mode":"%s"}"""
                .formatted(SCHEMA, heldTable, mode));
        assertThat(opened.get("type").asText()).as(opened.toString()).isEqualTo("transaction_opened");
        try {
            return on.send(request);
        } finally {
            on.send("""
                    {"type":"close_transaction","session":"cl_holder"}""");
        }
    }
}
