package dev.zdm.schema;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.config.Config;
import dev.zdm.handlers.Handlers;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import dev.zdm.simulator.SimulatorEngine;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** --schema-from against an embedded PostgreSQL: what it reads, that it writes nothing, what it predicts. */
class CatalogReaderTest {

    static EmbeddedPostgres postgres;
    static String url;

    @BeforeAll
    static void start() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
        url = postgres.getJdbcUrl("postgres", "postgres");
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL, plan text DEFAULT 'free',"
                    + " balance numeric(12,2), created_at timestamp(3) with time zone DEFAULT now())");
            s.execute("INSERT INTO accounts (email) SELECT 'u' || g || '@x' FROM generate_series(1, 100000) g");
            s.execute("CREATE UNIQUE INDEX accounts_email_key ON accounts (email)");
            s.execute("ALTER TABLE accounts ADD CONSTRAINT accounts_plan_not_null CHECK (plan IS NOT NULL) NOT VALID");
            s.execute("CREATE TABLE \"MixedCase\" (id int)");
            s.execute("CREATE TABLE notes (body text)");
            s.execute("CREATE VIEW rich AS SELECT * FROM accounts WHERE balance > 1000");
            s.execute("CREATE TYPE mood AS ENUM ('ok', 'sad')");
            s.execute("CREATE DOMAIN ticket AS text DEFAULT md5(random()::text)");
            s.execute("CREATE DOMAIN positive AS integer CHECK (VALUE > 0)");
            s.execute("CREATE DOMAIN small_positive AS positive");
            s.execute("CREATE FUNCTION new_token() RETURNS text VOLATILE LANGUAGE sql AS 'SELECT md5(random()::text)'");
            s.execute("CREATE FUNCTION shout(text) RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT upper($1)'");
            s.execute("ANALYZE accounts");
        }
    }

    @Test
    void theDatabasesOwnTypesAndFunctionsAreReadAndOnlyTheyExistBesideTheBuiltIns() throws Exception {
        Schema.UserObjects own = CatalogReader.read(url, l -> { }).userObjects();
        assertThat(own.types()).contains("mood");
        assertThat(own.functions()).containsEntry("new_token", 'v').containsEntry("shout", 'i');
        assertThat(own.domains().get("ticket").defaultSql()).contains("random()");
        assertThat(own.domains().get("positive").constrained()).isTrue();
        SimulatorEngine engine = SimulatorEngine.open(Config.parse("--schema-from", url));
        Handlers handlers = Handlers.forEngine(engine, Config.DEFAULT_LOCK_BUDGET);
        // The server's own volatile function: the safe way (add bare, backfill), no rewrite.
        ObjectNode token = send(handlers, """
                {"type":"add_column","msg_id":1,"table":"accounts","column":"token","default_sql":"new_token()","explain":true}""");
        assertThat(token.get("steps").size()).isGreaterThan(1);
        assertThat(token.get("table_rewritten").asBoolean()).isFalse();
        assertThat(send(handlers, """
                {"type":"add_column","msg_id":2,"table":"accounts","column":"feeling","data_type":"mood","default":"ok"}""")
                .get("type").asText()).isEqualTo("column_added");
        assertThat(code(handlers, """
                {"type":"add_column","msg_id":3,"table":"accounts","column":"t","data_type":"citext"}""")).isEqualTo(20);
        // Domains as the engine reads them: a volatile default the safe way, a CHECK refused on a table with rows.
        ObjectNode ticket = send(handlers, """
                {"type":"add_column","msg_id":5,"table":"accounts","column":"ticket","data_type":"ticket","explain":true}""");
        assertThat(ticket.get("table_rewritten").asBoolean()).isFalse();
        assertThat(ticket.get("steps").toString()).contains("DEFAULT NULL").contains("DROP DEFAULT");
        assertThat(code(handlers, """
                {"type":"add_column","msg_id":6,"table":"accounts","column":"p","data_type":"positive"}""")).isEqualTo(22);
        // A domain over a constrained domain is checked row by row too; an array of a domain is no domain.
        assertThat(own.domains().get("small_positive").constrained()).isTrue();
        assertThat(code(handlers, """
                {"type":"add_column","msg_id":7,"table":"accounts","column":"p","data_type":"small_positive"}""")).isEqualTo(22);
        assertThat(send(handlers, """
                {"type":"add_column","msg_id":8,"table":"accounts","column":"ps","data_type":"positive[]"}""")
                .get("type").asText()).isEqualTo("column_added");
        // DEFAULT NULL overrides the domain's default, so NOT NULL meets NULL rows: 22 as on the server.
        assertThat(code(handlers, """
                {"type":"add_column","msg_id":9,"table":"accounts","column":"t2","data_type":"ticket","default_sql":"NULL",
                 "nullable":false,"safe":false}""")).isEqualTo(22);
        assertThat(code(handlers, """
                {"type":"add_column","msg_id":4,"table":"accounts","column":"u","data_type":"uuid","default_sql":"uuid_generate_v4()"}"""))
                .as("uuid-ossp is not installed there").isEqualTo(12);
    }

    @AfterAll
    static void stop() throws Exception {
        postgres.close();
    }

    @Test
    void readsTablesColumnsIndexesConstraintsRowsAndVersion() throws Exception {
        List<String> log = new ArrayList<>();
        Schema schema = CatalogReader.read(url, log::add);
        assertThat(schema.serverVersion()).isGreaterThanOrEqualTo(10);
        assertThat(schema.tables().keySet()).containsExactlyInAnyOrder(SqlName.of("accounts"), SqlName.of("notes"),
                SqlName.of("MixedCase"));
        Schema.Table accounts = schema.tables().get(SqlName.of("accounts"));
        assertThat(accounts.rows()).isEqualTo(100_000);
        assertThat(accounts.primaryKey()).containsExactly(SqlName.of("id"));
        assertThat(accounts.columns().keySet()).extracting(SqlName::value)
                .containsExactly("id", "email", "plan", "balance", "created_at");
        assertThat(accounts.columns().get(SqlName.of("email")).nullable()).isFalse();
        assertThat(accounts.columns().get(SqlName.of("plan")).defaultSql()).isEqualTo("'free'::text");
        assertThat(accounts.columns().get(SqlName.of("balance")).type().sql()).isEqualTo("numeric(12,2)");
        assertThat(accounts.columns().get(SqlName.of("created_at")).type()).as("a type zdm cannot write is unknown").isNull();
        assertThat(accounts.indexes().keySet()).extracting(SqlName::value).containsExactly("accounts_email_key", "accounts_pkey");
        assertThat(accounts.checks()).containsEntry(SqlName.of("accounts_plan_not_null"),
                new Schema.NotNullCheck(SqlName.of("plan"), false));
        assertThat(schema.otherRelations()).extracting(SqlName::value).contains("rich", "accounts_id_seq");
        // A name is exact: a table that needs quoting is read like any other.
        assertThat(log).noneSatisfy(l -> assertThat(l).contains("MixedCase"));
    }

    @Test
    void aRoleThatMayWriteNothingIsEnough() throws Exception {
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE zdm_reader LOGIN PASSWORD 'r'");
            s.execute("ALTER ROLE zdm_reader SET default_transaction_read_only = on");
            s.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC");
        }
        String readerUrl = "postgres://zdm_reader:r@localhost:" + postgres.getPort() + "/postgres";
        Schema schema = CatalogReader.read(readerUrl, l -> { });
        assertThat(schema.tables().get(SqlName.of("accounts")).rows()).isEqualTo(100_000);
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'zdm-schema-reader'")) {
            rs.next();
            assertThat(rs.getLong(1)).as("its connection is closed").isZero();
        }
    }

    @Test
    void thePredictionsUseTheTablesRealSizeAndNothingElseExists() throws Exception {
        SimulatorEngine engine = SimulatorEngine.open(Config.parse("--schema-from", url));
        Handlers handlers = Handlers.forEngine(engine, Config.DEFAULT_LOCK_BUDGET);
        ObjectNode built = send(handlers, """
                {"type":"create_index","msg_id":1,"table":"accounts","column":"plan"}""");
        // 100,000 rows, two heap passes at the cost model's 100,000 rows/s, plus the statement.
        assertThat(built.get("duration_seconds").asDouble()).isEqualTo(2.1);
        assertThat(code(handlers, """
                {"type":"create_index","msg_id":2,"table":"users","column":"email"}""")).isEqualTo(20);
        assertThat(code(handlers, """
                {"type":"create_index","msg_id":3,"table":"accounts","column":"email","index":"accounts_email_key"}""")).isEqualTo(21);
        assertThat(code(handlers, """
                {"type":"migrate_data","msg_id":4,"table":"notes","batch_size":10}""")).as("no primary key").isEqualTo(22);
        ObjectNode migrated = send(handlers, """
                {"type":"migrate_data","msg_id":5,"table":"accounts","batch_size":1000,"where":"id <= 5000"}""");
        assertThat(migrated.get("total_rows").asLong()).isEqualTo(5000);
        assertThat(engine.version().major()).isEqualTo(CatalogReader.read(url, l -> { }).serverVersion());
    }

    static ObjectNode send(Handlers handlers, String body) throws Exception {
        return handlers.handle(new Request("admin", "migrations", (ObjectNode) Json.MAPPER.readTree(body)));
    }

    static int code(Handlers handlers, String body) throws Exception {
        try {
            send(handlers, body);
        } catch (ZdmException e) {
            return e.code().code();
        }
        throw new AssertionError("expected an error for " + body);
    }
}
