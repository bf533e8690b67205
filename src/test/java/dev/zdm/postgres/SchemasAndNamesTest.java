package dev.zdm.postgres;

import static dev.zdm.postgres.SharedPostgres.exec;
import static dev.zdm.postgres.SharedPostgres.number;
import static dev.zdm.postgres.SharedPostgres.text;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.engine.Engines;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * A table is the relation PostgreSQL resolves for the connection, and an operation belongs to its OID:
 * tenants' schemas with one table name, a role whose own schema comes first on its search_path, and a
 * name that needs every bit of quoting.
 */
class SchemasAndNamesTest {

    private static final Duration BUDGET = Duration.ofSeconds(5);
    private static final String INCREMENT = "{\"type\":\"migrate_data\",\"table\":\"accounts\",\"batch_size\":100,"
            + "\"set\":{\"n\":\"n + 1\"}%s}";

    private static void tenants(String a, String b) {
        for (String tenant : new String[] {a, b}) {
            exec("DROP SCHEMA IF EXISTS " + tenant + " CASCADE", "CREATE SCHEMA " + tenant,
                    "CREATE TABLE " + tenant + ".accounts (id bigserial PRIMARY KEY, n int NOT NULL DEFAULT 0)",
                    "INSERT INTO " + tenant + ".accounts (n) SELECT 0 FROM generate_series(1, 300)");
        }
    }

    private static Database inSchema(String schema) {
        Database shared = SharedPostgres.database();
        return new Database(shared.jdbcUrl() + (shared.jdbcUrl().contains("?") ? "&" : "?") + "currentSchema=" + schema,
                shared.properties(), shared.description() + " (" + schema + ")");
    }

    private static PostgresEngine engine(Database database) throws Engines.StartFailed {
        return PostgresEngine.connect(database, 3);
    }

    /** Issue 12's data loss: the second request on tenant_a was taken for tenant_b's and ran again. */
    @Test
    void theSameJobOnEachTenantsTableOfOneNameIsTwoOperationsByUrl() throws Exception {
        tenants("tenant_a", "tenant_b");
        try (PostgresEngine a = engine(inSchema("tenant_a")); PostgresEngine b = engine(inSchema("tenant_b"))) {
            ObjectNode first = new Node(a, BUDGET).send(INCREMENT.formatted(""));
            ObjectNode other = new Node(b, BUDGET).send(INCREMENT.formatted(""));
            ObjectNode again = new Node(a, BUDGET).send(INCREMENT.formatted(""));
            assertThat(first.get("type").asText()).as(first.toString()).isEqualTo("data_migrated");
            assertThat(other.get("type").asText()).as(other.toString()).isEqualTo("data_migrated");
            assertThat(other.get("total_rows").asLong()).as("tenant_b's own job ran").isEqualTo(300);
            assertThat(again.get("type").asText()).as(again.toString()).isEqualTo("data_migrated");
            // status tells the two apart: the requests named no schema, the ledger knows each table's.
            ObjectNode status = new Node(a, BUDGET).send("{\"type\":\"status\",\"limit\":50}");
            java.util.Set<String> schemas = new java.util.HashSet<>();
            status.get("operations").forEach(op -> {
                if ("accounts".equals(op.path("table").asText()) && op.path("schema").asText().startsWith("tenant_")) {
                    schemas.add(op.get("schema").asText());
                }
            });
            assertThat(schemas).as(status.toString()).containsExactlyInAnyOrder("tenant_a", "tenant_b");
        }
        assertThat(number("SELECT count(*) FROM tenant_a.accounts WHERE n = 1")).isEqualTo(300);
        assertThat(number("SELECT count(*) FROM tenant_b.accounts WHERE n = 1")).isEqualTo(300);
        assertThat(number("SELECT count(DISTINCT table_oid) FROM zdm.operations WHERE table_oid IN"
                + " ('tenant_a.accounts'::regclass, 'tenant_b.accounts'::regclass)")).isEqualTo(2);
    }

    @Test
    void theSameJobOnEachTenantsTableOfOneNameIsTwoOperationsBySchemaField() throws Exception {
        tenants("field_a", "field_b");
        try (PostgresEngine engine = engine(SharedPostgres.database())) {
            Node node = new Node(engine, BUDGET);
            for (String schema : new String[] {"field_a", "field_b", "field_a"}) {
                ObjectNode reply = node.send(INCREMENT.formatted(",\"schema\":\"" + schema + "\""));
                assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("data_migrated");
            }
            // A schema the table is not in: nothing found, nothing run.
            ObjectNode missing = node.send(INCREMENT.formatted(",\"schema\":\"no_such_schema\""));
            assertThat(missing.get("code").asInt()).as(missing.toString()).isEqualTo(20);
            // An application transaction takes its lock on the named schema's table, not another's.
            ObjectNode opened = node.send("{\"type\":\"open_transaction\",\"session\":\"app\",\"schema\":\"field_b\","
                    + "\"table\":\"accounts\",\"mode\":\"ACCESS EXCLUSIVE\"}");
            assertThat(opened.get("type").asText()).as(opened.toString()).isEqualTo("transaction_opened");
            assertThat(number("SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted"
                    + " AND relation = 'field_b.accounts'::regclass")).isEqualTo(1);
            assertThat(number("SELECT count(*) FROM pg_locks WHERE relation = 'field_a.accounts'::regclass")).isZero();
            node.send("{\"type\":\"close_transaction\",\"session\":\"app\"}");
        }
        assertThat(number("SELECT count(*) FROM field_a.accounts WHERE n = 1")).isEqualTo(300);
        assertThat(number("SELECT count(*) FROM field_b.accounts WHERE n = 1")).isEqualTo(300);
    }

    @Test
    void anIndexAndAColumnGoToTheNamedSchemasTable() throws Exception {
        tenants("idx_a", "idx_b");
        try (PostgresEngine engine = engine(SharedPostgres.database())) {
            Node node = new Node(engine, BUDGET);
            for (String schema : new String[] {"idx_a", "idx_b"}) {
                ObjectNode index = node.send("{\"type\":\"create_index\",\"schema\":\"" + schema
                        + "\",\"table\":\"accounts\",\"column\":\"n\",\"index\":\"accounts_n\"}");
                assertThat(index.get("type").asText()).as(index.toString()).isEqualTo("index_created");
                ObjectNode column = node.send("{\"type\":\"add_column\",\"schema\":\"" + schema
                        + "\",\"table\":\"accounts\",\"column\":\"tag\",\"default_sql\":\"md5(random()::text)\"}");
                assertThat(column.get("type").asText()).as(column.toString()).isEqualTo("column_added");
            }
            ObjectNode again = node.send("{\"type\":\"create_index\",\"schema\":\"idx_a\",\"table\":\"accounts\","
                    + "\"column\":\"n\",\"index\":\"accounts_n\"}");
            assertThat(again.get("code").asInt()).as(again.toString()).isEqualTo(21);
        }
        for (String schema : new String[] {"idx_a", "idx_b"}) {
            assertThat(number("SELECT count(*) FROM pg_indexes WHERE schemaname = '" + schema
                    + "' AND indexname = 'accounts_n'")).isEqualTo(1);
            assertThat(number("SELECT count(*) FROM " + schema + ".accounts WHERE tag IS NULL")).isZero();
        }
    }

    /**
     * A role's own schema comes first on its search_path ("$user", public): its users table is
     * public.users, found as PostgreSQL finds it, and what zdm makes next to it lands in public.
     */
    @Test
    void aRoleWhoseOwnSchemaComesFirstFindsPublicTables() throws Exception {
        exec("DROP DATABASE IF EXISTS alice_db", "DROP ROLE IF EXISTS alice",
                "CREATE ROLE alice LOGIN PASSWORD 'alice' NOSUPERUSER NOCREATEDB NOCREATEROLE",
                "CREATE DATABASE alice_db OWNER alice");
        Database admin = on(SharedPostgres.database(), "alice_db", null);
        try (Connection c = admin.connect("zdm-test"); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA alice AUTHORIZATION alice");
            s.execute("SET ROLE alice");
            s.execute("CREATE TABLE public.users (id bigserial PRIMARY KEY, email text, n int NOT NULL DEFAULT 0)");
            s.execute("INSERT INTO public.users (email) SELECT 'u' || g FROM generate_series(1, 200) g");
        }
        Database alice = on(SharedPostgres.database(), "alice_db", "alice");
        try (Connection c = alice.connect("zdm-test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_schema(), current_setting('is_superuser')")) {
            rs.next();
            assertThat(rs.getString(1)).as("alice's own schema comes first").isEqualTo("alice");
            assertThat(rs.getString(2)).isEqualTo("off");
        }
        try (PostgresEngine engine = engine(alice)) {
            Node node = new Node(engine, BUDGET);
            ObjectNode index = node.send("{\"type\":\"create_index\",\"table\":\"users\",\"column\":\"email\"}");
            assertThat(index.get("type").asText()).as(index.toString()).isEqualTo("index_created");
            ObjectNode serial = node.send("{\"type\":\"add_column\",\"table\":\"users\",\"column\":\"seq\","
                    + "\"data_type\":\"bigserial\"}");
            assertThat(serial.get("type").asText()).as(serial.toString()).isEqualTo("column_added");
            ObjectNode migrated = node.send("{\"type\":\"migrate_data\",\"table\":\"users\",\"batch_size\":50,"
                    + "\"set\":{\"n\":\"n + 1\"}}");
            assertThat(migrated.get("total_rows").asLong()).as(migrated.toString()).isEqualTo(200);
            ObjectNode session = node.send("{\"type\":\"open_transaction\",\"session\":\"s\",\"table\":\"users\","
                    + "\"mode\":\"ACCESS SHARE\"}");
            assertThat(session.get("type").asText()).as(session.toString()).isEqualTo("transaction_opened");
            node.send("{\"type\":\"close_transaction\",\"session\":\"s\"}");
        }
        try (Connection c = admin.connect("zdm-test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'"
                     + " AND indexname = 'idx_email'), (SELECT count(*) FROM public.users WHERE n = 1 AND seq IS NOT NULL),"
                     + " (SELECT count(*) FROM pg_class WHERE relnamespace = 'alice'::regnamespace)")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(1);
            assertThat(rs.getLong(2)).isEqualTo(200);
            assertThat(rs.getLong(3)).as("nothing made in alice's own schema").isZero();
        }
    }

    /**
     * An explicit schema off the role's search_path: the run finds the table there, so plan: true, which
     * reads the live catalog, must find it too and answer what the run then does.
     */
    @Test
    void aPlanFindsATableInASchemaOffTheSearchPath() throws Exception {
        exec("DROP DATABASE IF EXISTS offpath_db", "DROP ROLE IF EXISTS offpath_app",
                "CREATE ROLE offpath_app LOGIN PASSWORD 'offpath_app' NOSUPERUSER NOCREATEDB NOCREATEROLE",
                "CREATE DATABASE offpath_db OWNER offpath_app");
        Database admin = on(SharedPostgres.database(), "offpath_db", null);
        try (Connection c = admin.connect("zdm-test"); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA \"Tën ant\" AUTHORIZATION offpath_app");
            s.execute("SET ROLE offpath_app");
            s.execute("CREATE TABLE \"Tën ant\".big (id bigserial PRIMARY KEY, s text)");
            s.execute("INSERT INTO \"Tën ant\".big (s) SELECT 'v' || g FROM generate_series(1, 500) g");
        }
        Database app = on(SharedPostgres.database(), "offpath_db", "offpath_app");
        String request = "{\"type\":\"create_index\",\"schema\":\"Tën ant\",\"table\":\"big\",\"column\":\"s\","
                + "\"index\":\"idx_s\"%s}";
        try (PostgresEngine engine = engine(app)) {
            Node node = new Node(engine, BUDGET);
            ObjectNode plan = node.send(request.formatted(",\"plan\":true"));
            assertThat(plan.get("type").asText()).as(plan.toString()).isEqualTo("planned");
            assertThat(plan.get("would_reply").get("type").asText()).isEqualTo("index_created");
            assertThat(plan.get("steps").toString()).contains("\\\"Tën ant\\\".\\\"big\\\"");
            ObjectNode run = node.send(request.formatted(""));
            assertThat(run.get("type").asText()).as(run.toString()).isEqualTo("index_created");
            ObjectNode again = node.send(request.formatted(",\"plan\":true"));
            assertThat(again.get("code").asInt()).as("the plan sees the index the run made: " + again).isEqualTo(21);
        }
        try (Connection c = app.connect("zdm-test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('is_superuser'), 'Tën ant' = ANY (current_schemas(false)),"
                     + " (SELECT count(*) FROM pg_index WHERE indrelid = '\"Tën ant\".big'::regclass AND indisvalid)")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("off");
            assertThat(rs.getBoolean(2)).as("off the search_path").isFalse();
            assertThat(rs.getLong(3)).isEqualTo(2);
        }
    }

    /** Every request with a table and a column whose names need quoting of every kind. */
    @Test
    void aNameOfAnyCharactersIsTakenExactlyByEveryRequest() throws Exception {
        String table = "Mixed Case\"quote";
        String column = "Odd \"col'; --";
        String tableSql = "\"Mixed Case\"\"quote\"";
        String columnSql = "\"Odd \"\"col'; --\"";
        exec("DROP TABLE IF EXISTS " + tableSql, "DROP TABLE IF EXISTS \"mixed case\"\"quote\"",
                "CREATE TABLE " + tableSql + " (id bigserial PRIMARY KEY, " + columnSql + " int NOT NULL DEFAULT 0)",
                "INSERT INTO " + tableSql + " (" + columnSql + ") SELECT g FROM generate_series(1, 250) g",
                // The folded name is another table, which must stay untouched.
                "CREATE TABLE \"mixed case\"\"quote\" (id bigserial PRIMARY KEY, \"odd \"\"col'; --\" int)");
        String t = json(table);
        String col = json(column);
        try (PostgresEngine engine = engine(SharedPostgres.database())) {
            Node node = new Node(engine, BUDGET);
            ObjectNode index = node.send("{\"type\":\"create_index\",\"table\":" + t + ",\"column\":" + col
                    + ",\"index\":" + json("Idx \"Odd\" é") + "}");
            assertThat(index.get("type").asText()).as(index.toString()).isEqualTo("index_created");
            ObjectNode added = node.send("{\"type\":\"add_column\",\"table\":" + t + ",\"column\":" + json("New 'Col\"")
                    + ",\"default_sql\":\"md5(random()::text)\",\"nullable\":false}");
            assertThat(added.get("type").asText()).as(added.toString()).isEqualTo("column_added");
            ObjectNode migrated = node.send("{\"type\":\"migrate_data\",\"table\":" + t + ",\"batch_size\":100,"
                    + "\"set\":{" + col + ":" + json(columnSql + " * 2") + "}}");
            assertThat(migrated.get("total_rows").asLong()).as(migrated.toString()).isEqualTo(250);
            ObjectNode folded = node.send("{\"type\":\"create_index\",\"table\":" + json("MIXED CASE\"QUOTE")
                    + ",\"column\":\"id\"}");
            assertThat(folded.get("code").asInt()).as("no case is folded: " + folded).isEqualTo(20);
        }
        assertThat(number("SELECT count(*) FROM pg_index WHERE indrelid = '" + tableSql.replace("'", "''")
                + "'::regclass AND indexrelid::regclass::text = '\"Idx \"\"Odd\"\" é\"' AND indisvalid")).isEqualTo(1);
        assertThat(number("SELECT count(*) FROM " + tableSql + " WHERE " + columnSql + " % 2 = 0 AND "
                + columnSql + " <= 500 AND \"New 'Col\"\"\" IS NOT NULL")).isEqualTo(250);
        assertThat(text("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = '" + tableSql.replace("'", "''")
                + "'::regclass AND attname = 'New ''Col\"'")).isEqualTo("true");
        assertThat(number("SELECT count(*) FROM pg_index WHERE indrelid = '\"mixed case\"\"quote\"'::regclass"))
                .as("only its primary key").isEqualTo(1);
    }

    /**
     * Issue 13: on the search_path (sp_a, sp_b) a bare name finds sp_b's table, and a request may name
     * the path's first schema outright. Both engines find the table, say the same SQL (the name as the
     * request spelled it: the server resolves it), and the simulator's model knows the result under
     * every spelling: its index map (21 for a resend by the bare name) and its locks (a holder taken by
     * the bare name blocks a job that names the schema).
     */
    @Test
    void bothEnginesSayTheSameSqlForATableTheSearchPathFinds() throws Exception {
        exec("DROP SCHEMA IF EXISTS sp_a CASCADE", "DROP SCHEMA IF EXISTS sp_b CASCADE", "CREATE SCHEMA sp_a", "CREATE SCHEMA sp_b",
                "CREATE TABLE sp_b.orders (id bigint PRIMARY KEY, total int)",
                "INSERT INTO sp_b.orders SELECT g, g FROM generate_series(1, 300) g",
                "CREATE TABLE sp_a.items (id bigint PRIMARY KEY, a int)",
                "INSERT INTO sp_a.items SELECT g, g FROM generate_series(1, 300) g");
        Database shared = SharedPostgres.database();
        String url = shared.jdbcUrl() + (shared.jdbcUrl().contains("?") ? "&" : "?") + "currentSchema=sp_a,sp_b";
        Node simulator = new Node(dev.zdm.simulator.SimulatorEngine.open(dev.zdm.config.Config.parse("--schema-from",
                url + "&user=" + shared.properties().getProperty("user"))), BUDGET);
        String[] requests = {
                "{\"type\":\"create_index\",\"table\":\"orders\",\"column\":\"total\",\"index\":\"orders_total\"}",
                "{\"type\":\"create_index\",\"schema\":\"sp_a\",\"table\":\"items\",\"column\":\"a\",\"index\":\"items_a\"}",
                "{\"type\":\"add_column\",\"schema\":\"sp_a\",\"table\":\"items\",\"column\":\"seq\",\"data_type\":\"bigserial\"}",
                "{\"type\":\"migrate_data\",\"schema\":\"sp_a\",\"table\":\"items\",\"batch_size\":100,\"set\":{\"a\":\"a + 1\"}}",
                "{\"type\":\"migrate_data\",\"table\":\"orders\",\"batch_size\":100,\"set\":{\"total\":\"total + 1\"}}",
                // The bare name is the same table, with the index the request naming the schema made.
                "{\"type\":\"create_index\",\"table\":\"items\",\"column\":\"a\",\"index\":\"items_a\"}",
                "{\"type\":\"create_index\",\"schema\":\"sp_b\",\"table\":\"orders\",\"column\":\"total\",\"index\":\"orders_total\"}"};
        try (PostgresEngine engine = engine(new Database(url, shared.properties(), "sp_a, sp_b"))) {
            Node real = new Node(engine, BUDGET);
            for (String asked : requests) {
                String request = asked.replaceFirst("\\{", "{\"explain\":true,");
                ObjectNode predicted = simulator.send(request);
                ObjectNode observed = real.send(request);
                assertThat(predicted.get("type").asText()).as(request + ": " + predicted + " / " + observed)
                        .isEqualTo(observed.get("type").asText());
                assertThat(String.valueOf(predicted.get("code"))).as(request).isEqualTo(String.valueOf(observed.get("code")));
                assertThat(sqlOf(predicted)).as(request).isEqualTo(sqlOf(observed));
                assertThat(sqlOf(observed).isEmpty()).as(request + ": steps of a success").isEqualTo(observed.has("code"));
            }
            String another = requests[1].replace("items_a", "items_a2").replaceFirst("\\{", "{\"explain\":true,");
            assertThat(sqlOf(simulator.send(another))).as("the first schema's, named")
                    .contains("ON \"sp_a\".\"items\"");
            // A holder taken by the bare name blocks a job naming the schema: one table, one lock.
            String holder = "{\"type\":\"open_transaction\",\"session\":\"app\",\"table\":\"items\","
                    + "\"mode\":\"ACCESS EXCLUSIVE\",\"duration_seconds\":30}";
            String blocked = "{\"type\":\"migrate_data\",\"schema\":\"sp_a\",\"table\":\"items\",\"batch_size\":100,"
                    + "\"set\":{\"a\":\"a + 2\"},\"max_lock_duration_ms\":200}";
            for (Node node : new Node[] {simulator, real}) {
                assertThat(node.send(holder).get("type").asText()).isEqualTo("transaction_opened");
                ObjectNode reply = node.send(blocked);
                assertThat(reply.path("code").asInt()).as(reply.toString()).isEqualTo(14);
                node.send("{\"type\":\"close_transaction\",\"session\":\"app\"}");
            }
        }
        assertThat(number("SELECT count(*) FROM pg_indexes WHERE schemaname = 'sp_b' AND indexname = 'orders_total'"))
                .isEqualTo(1);
        assertThat(number("SELECT count(*) FROM sp_b.orders WHERE total = id + 1")).isEqualTo(300);
    }

    private static String sqlOf(ObjectNode reply) {
        StringBuilder sql = new StringBuilder();
        reply.path("steps").forEach(step -> sql.append(step.path("sql").asText()).append(";\n"));
        return sql.toString();
    }

    private static String json(String text) {
        return dev.zdm.protocol.Json.MAPPER.valueToTree(text).toString();
    }

    private static Database on(Database shared, String database, String user) {
        Properties props = new Properties();
        props.putAll(shared.properties());
        if (user != null) {
            props.setProperty("user", user);
            props.setProperty("password", user);
        }
        String url = shared.jdbcUrl().replaceFirst("/postgres(\\?|$)", "/" + database + "$1");
        return new Database(url, props, database);
    }
}
