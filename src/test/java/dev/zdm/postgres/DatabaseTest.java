package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.config.Config;
import dev.zdm.engine.Engines;
import org.junit.jupiter.api.Test;

class DatabaseTest {

    @Test
    void libpqUrlBecomesJdbcUrlAndProperties() {
        Database db = Database.parse("postgres://app:s%40cret@db.example.com:6543/shop?sslmode=require");

        assertThat(db.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example.com:6543/shop?sslmode=require");
        assertThat(db.properties().getProperty("user")).isEqualTo("app");
        assertThat(db.properties().getProperty("password")).isEqualTo("s@cret");
        assertThat(db.toString()).doesNotContain("cret");
    }

    @Test
    void jdbcUrlIsKeptAndDefaultsFilledForLibpqForm() {
        assertThat(Database.parse("jdbc:postgresql://h/d?user=u").jdbcUrl()).isEqualTo("jdbc:postgresql://h/d?user=u");
        assertThat(Database.parse("postgresql://h").jdbcUrl()).isEqualTo("jdbc:postgresql://h:5432/postgres");
        assertThatThrownBy(() -> Database.parse("mysql://h/d")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void unreachableServerIsOneClearStartFailure() {
        Config config = Config.parse("--database", "postgres://nobody:x@127.0.0.1:1/none");

        assertThatThrownBy(() -> PostgresEngine.open(config))
                .isInstanceOf(Engines.StartFailed.class)
                .hasMessageStartingWith("cannot reach PostgreSQL at 127.0.0.1:1/none")
                .hasMessageNotContaining("\n");
    }

    @Test
    void whatTheLibpqUriLeavesOutComesFromTheLibpqEnvironment() {
        java.util.Map<String, String> env = java.util.Map.of("PGHOST", "db.internal", "PGPORT", "6432",
                "PGDATABASE", "shop", "PGUSER", "deploy", "PGPASSWORD", "pw-from-env", "PGSSLMODE", "verify-full");
        Database all = Database.parse("postgres://", env);
        assertThat(all.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:6432/shop?sslmode=verify-full");
        assertThat(all.properties().getProperty("user")).isEqualTo("deploy");
        assertThat(all.properties().getProperty("password")).isEqualTo("pw-from-env");
        assertThat(all.toString()).isEqualTo("db.internal:6432/shop").doesNotContain("pw-from-env");

        Database some = Database.parse("postgresql://admin@other:5433/?sslmode=disable", env);
        assertThat(some.jdbcUrl()).isEqualTo("jdbc:postgresql://other:5433/shop?sslmode=disable");
        assertThat(some.properties().getProperty("user")).isEqualTo("admin");
        assertThat(some.properties().getProperty("password")).as("PGPASSWORD for a URI without one")
                .isEqualTo("pw-from-env");
        assertThat(Database.parse("postgres://u:inline@h/d", env).properties().getProperty("password"))
                .isEqualTo("inline");
    }

    @Test
    void withoutEnvironmentTheDefaultsAreLibpqsAndPgjdbcPicksThePasswordFile() {
        Database db = Database.parse("postgres://", java.util.Map.of());
        assertThat(db.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:5432/postgres");
        // No password property: pgjdbc then reads PGPASSFILE or ~/.pgpass itself.
        assertThat(db.properties()).doesNotContainKey("password");
    }

    @Test
    void aServiceNamesTheServerAndOnlyTheUriBeatsIt() {
        java.util.Map<String, String> env = java.util.Map.of("PGSERVICE", "billing", "PGHOST", "ignored-for-the-service");
        Database db = Database.parse("postgres://", env);
        assertThat(db.jdbcUrl()).isEqualTo("jdbc:postgresql:///?service=billing");
        assertThat(db.toString()).contains("service billing");
        assertThat(Database.parse("postgres://h2/d2?service=other", env).jdbcUrl())
                .isEqualTo("jdbc:postgresql://h2/d2?service=other");
    }

    @Test
    void aJdbcUrlGetsOnlyPgpasswordAndOnlyWithoutAPasswordOfItsOwn() {
        java.util.Map<String, String> env = java.util.Map.of("PGPASSWORD", "pw", "PGHOST", "not-used");
        assertThat(Database.parse("jdbc:postgresql://h/d?user=u", env).properties().getProperty("password"))
                .isEqualTo("pw");
        assertThat(Database.parse("jdbc:postgresql://h/d?user=u&password=own", env).properties())
                .doesNotContainKey("password");
        assertThat(Database.parse("jdbc:postgresql://h/d?user=u&password=own", env).toString()).doesNotContain("own");
    }
}
