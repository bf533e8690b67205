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
}
