package dev.zdm.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.pg.ServerVersion;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigTest {

    @Test
    void defaults() {
        Config config = Config.parse();
        assertThat(config.database()).isNull();
        assertThat(config.simulator()).isTrue();
        assertThat(config.pgVersion()).isEqualTo(new ServerVersion(15));
        assertThat(config.simulatedRows()).isEqualTo(6_000_000L);
        assertThat(config.demoRows()).isNull();
        assertThat(config.lockBudget()).isEqualTo(Duration.ofMillis(2_000));
        assertThat(config.retries()).isEqualTo(3);
        assertThat(config.help()).isFalse();
        assertThat(config.version()).isFalse();
    }

    @Test
    void throttleFlags() {
        assertThat(Config.parse().throttling()).isEqualTo(dev.zdm.engine.Throttling.NONE);
        Config config = Config.parse("--database", "embedded", "--max-replica-lag-ms", "500",
                "--max-active-sessions=8", "--max-throttle-ms", "60000");
        assertThat(config.throttling().maxReplicaLag()).isEqualTo(Duration.ofMillis(500));
        assertThat(config.throttling().maxActiveSessions()).isEqualTo(8);
        assertThat(config.throttling().maxThrottle()).isEqualTo(Duration.ofMinutes(1));
        assertThatThrownBy(() -> Config.parse("--max-replica-lag-ms", "0")).hasMessageContaining("between");
        assertThat(Config.USAGE).contains("--max-replica-lag-ms").contains("--max-active-sessions")
                .contains("--max-throttle-ms");
    }

    @Test
    void batchTimeFlag() {
        assertThat(Config.parse().throttling().batchTime()).isEqualTo(dev.zdm.engine.Throttling.DEFAULT_BATCH_TIME);
        assertThat(Config.parse("--database", "embedded", "--batch-time-ms=100").throttling().batchTime())
                .isEqualTo(Duration.ofMillis(100));
        assertThatThrownBy(() -> Config.parse("--batch-time-ms", "0")).hasMessageContaining("between");
        assertThat(Config.USAGE).contains("--batch-time-ms");
    }

    @Test
    void eachFlagWithItsValueAsTheNextArgument() {
        Config config = Config.parse("--database", "embedded",
                "--demo-rows", "50", "--lock-budget-ms", "750", "--retries", "5");
        assertThat(config.database()).isEqualTo("embedded");
        assertThat(config.simulator()).isFalse();
        assertThat(config.demoRows()).isEqualTo(50L);
        assertThat(config.lockBudget()).isEqualTo(Duration.ofMillis(750));
        assertThat(config.retries()).isEqualTo(5);
        Config simulator = Config.parse("--pg-version", "10", "--rows", "1000");
        assertThat(simulator.simulator()).isTrue();
        assertThat(simulator.pgVersion().major()).isEqualTo(10);
        assertThat(simulator.simulatedRows()).isEqualTo(1000);
    }

    @Test
    void eachFlagInTheEqualsForm() {
        Config config = Config.parse("--database=postgres://u:p@localhost:5432/db?x=1",
                "--demo-rows=7", "--lock-budget-ms=100", "--retries=1");
        assertThat(config.database()).isEqualTo("postgres://u:p@localhost:5432/db?x=1");
        assertThat(config.demoRows()).isEqualTo(7L);
        Config simulator = Config.parse("--pg-version=11", "--rows=1_000");
        assertThat(simulator.pgVersion().major()).isEqualTo(11);
        assertThat(simulator.simulatedRows()).isEqualTo(1000);
        assertThat(config.lockBudget()).isEqualTo(Duration.ofMillis(100));
        assertThat(config.retries()).isEqualTo(1);
    }

    @Test
    void aSchemaClosesTheSimulatorsWorld() {
        Config file = Config.parse("--schema", "examples/schema.json", "--pg-version", "12");
        assertThat(file.schemaFile()).isEqualTo(java.nio.file.Path.of("examples/schema.json"));
        assertThat(file.pgVersionGiven()).isTrue();
        assertThat(file.simulator()).isTrue();
        Config live = Config.parse("--schema-from=postgres://u:p@db:5432/app");
        assertThat(live.schemaFrom()).isEqualTo("postgres://u:p@db:5432/app");
        assertThat(Config.parse().schemaFile()).isNull();
        assertThat(Config.parse().schemaFrom()).isNull();
        assertThat(Config.parse().pgVersionGiven()).isFalse();
    }

    @Test
    void helpAndVersion() {
        assertThat(Config.parse("-h").help()).isTrue();
        assertThat(Config.parse("--help").help()).isTrue();
        assertThat(Config.parse("-V").version()).isTrue();
        assertThat(Config.parse("--version").version()).isTrue();
        assertThat(Config.parse("--version").help()).isFalse();
    }

    @Test
    void commandsAmongTheFlags() {
        assertThat(Config.parse().command()).isEqualTo(Config.Command.NODE);
        Config apply = Config.parse("apply", "db/migrations", "--database", "postgres://u@h/db");
        assertThat(apply.command()).isEqualTo(Config.Command.APPLY);
        assertThat(apply.migrationsDir()).isEqualTo(java.nio.file.Path.of("db/migrations"));
        assertThat(Config.parse("--database=embedded", "status").command()).isEqualTo(Config.Command.STATUS);
        assertThat(Config.parse("--database=embedded", "status").migrationsDir()).isNull();
        assertThat(Config.parse("apply", "d", "--schema-from", "postgres://u@h/db").simulator()).isTrue();
        assertThat(Config.parse("apply", "d", "--schema", "schema.json").command()).isEqualTo(Config.Command.APPLY);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "migrate dir | unknown command migrate",
            "apply | apply needs the directory",
            "apply a b | apply takes one directory",
            "apply db/migrations | apply needs --database URL",
            "apply db/migrations --rows 5 | or --schema-from URL",
            "status x | status takes no argument"})
    void badCommandsSayWhat(String args, String message) {
        assertThatThrownBy(() -> Config.parse(args.trim().split(" +")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void theUsageMentionsEveryFlag() {
        for (String flag : new String[] {"--database", "--pg-version", "--rows", "--demo-rows", "--lock-budget-ms",
                "--retries", "--schema", "--schema-from", "--help", "--version", "apply DIR", "status",
                "Exit codes"}) {
            assertThat(Config.USAGE).contains(flag);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--pg-version abc | --pg-version",
            "--pg-version 8 | --pg-version",
            "--pg-version 100 | --pg-version",
            "--pg-version=x | --pg-version",
            "--rows -1 | --rows",
            "--rows 1e6 | --rows",
            "--rows= | --rows",
            "--demo-rows -5 --database embedded | --demo-rows",
            "--lock-budget-ms 0 | --lock-budget-ms",
            "--lock-budget-ms 3600001 | --lock-budget-ms",
            "--lock-budget-ms soon | --lock-budget-ms",
            "--retries 0 | --retries",
            "--retries 101 | --retries",
            "--rows | --rows",
            "--database | --database",
            "--database= | --database",
            "--demo-rows 10 | --demo-rows",
            "--frobnicate | --frobnicate",
            "--frobnicate=1 | --frobnicate",
            "--database embedded --pg-version 12 | --pg-version",
            "--rows 10 --database embedded | --rows",
            "--schema a.json --database embedded | --schema",
            "--schema-from postgres://x/db --database embedded | --schema-from",
            "--schema a.json --schema-from postgres://x/db | --schema-from",
            "--schema a.json --rows 10 | --rows",
            "--schema-from postgres://x/db --pg-version 12 | --pg-version",
            "--schema | --schema"})
    void badValuesNameTheFlag(String args, String flag) {
        String[] argv = args.trim().split(" +");
        assertThatThrownBy(() -> Config.parse(argv))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(flag);
    }
}
