package dev.zdm.postgres.replica;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.engine.Engines;
import dev.zdm.postgres.Database;
import dev.zdm.postgres.PostgresEngine;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** A node pointed at a hot standby (a failover URL gone wrong) says so at start (issue 12, item 11). */
class StandbyStartTest {

    @Test
    void aStandbyInRecoveryFailsTheStartNamingIt() throws Exception {
        try (EmbeddedPostgres primary = EmbeddedPostgres.builder().setCleanDataDirectory(true)
                .setServerConfig("fsync", "off").start();
             Connection admin = database(primary.getPort()).connect("zdm-test-admin");
             StandbyServer standby = StandbyServer.of(admin, primary.getPort())) {

            assertThatThrownBy(() -> PostgresEngine.connect(database(standby.port()), 3).close())
                    .isInstanceOf(Engines.StartFailed.class)
                    .hasMessageContaining("is read-only")
                    .hasMessageContaining("standby in recovery")
                    .hasMessageNotContaining("cannot reach");
        }
    }

    private static Database database(int port) {
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        return new Database("jdbc:postgresql://127.0.0.1:" + port + "/postgres", props, "port " + port);
    }
}
