package dev.zdm.cases;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The command line through the jar: the exit codes a pipeline reads (0 ok, 1 start failure, 2 usage, 3 a
 * request failed), --version from the pom, and an embedded start without SLF4J's warnings.
 */
class CommandLineIT {

    private static final Path JAR = Path.of(System.getProperty("zdm.jar", "target/zdm.jar"));
    private static final String FAILING = "{\"src\":\"ci\",\"dest\":\"zdm\",\"body\":{\"type\":\"add_column\",\"msg_id\":1,"
            + "\"table\":\"users\",\"column\":\"status\",\"dry_run\":true}}";
    private static final String GOOD = "{\"src\":\"ci\",\"dest\":\"zdm\",\"body\":{\"type\":\"add_column\",\"msg_id\":2,"
            + "\"table\":\"users\",\"column\":\"status\"}}";

    record Run(int exit, List<String> stdout, String stderr) {
    }

    static Run run(String stdin, String... args) throws IOException, InterruptedException {
        return run(java.util.Map.of(), stdin, args);
    }

    static Run run(java.util.Map<String, String> env, String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("java", "-jar", JAR.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(env);
        Process p = builder.start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exits").isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.exitValue(), out.lines().toList(), err);
    }

    @Test
    void the_node_exits_0_at_end_of_input_whatever_failed_as_the_harness_expects() throws Exception {
        Run run = run(FAILING + "\n" + GOOD + "\n");
        assertThat(run.exit()).isZero();
        assertThat(run.stdout()).hasSize(2);
    }

    @Test
    void with_exit_on_error_the_first_failure_stops_the_node_with_3_and_nothing_after_it_runs() throws Exception {
        Run run = run(FAILING + "\n" + GOOD + "\n", "--exit-on-error");
        assertThat(run.exit()).isEqualTo(3);
        assertThat(run.stdout()).singleElement().asString().contains("\"code\":12", "dry_run");
    }

    @Test
    void with_exit_on_error_a_request_without_msg_id_is_a_failure_too() throws Exception {
        Run run = run(GOOD.replace("\"msg_id\":2,", "") + "\n", "--exit-on-error");
        assertThat(run.exit()).isEqualTo(3);
        assertThat(run.stdout()).isEmpty();
        assertThat(run.stderr()).contains("NOT RUN", "msg_id");
    }

    @Test
    void with_exit_on_error_and_no_failure_it_is_0() throws Exception {
        Run run = run(GOOD + "\n", "--exit-on-error");
        assertThat(run.exit()).isZero();
        assertThat(run.stdout()).singleElement().asString().contains("column_added");
    }

    @Test
    void a_bad_command_line_is_2_and_an_engine_that_cannot_start_is_1() throws Exception {
        assertThat(run("", "--no-such-flag").exit()).isEqualTo(2);
        Run unreachable = run("", "--database", "postgres://zdm@127.0.0.1:1/x");
        assertThat(unreachable.exit()).isEqualTo(1);
        assertThat(unreachable.stderr()).contains("cannot reach PostgreSQL");
    }

    @Test
    void version_is_the_poms() throws Exception {
        String expected = System.getProperty("zdm.version");
        assertThat(expected).as("failsafe passes the pom's version as zdm.version").isNotBlank();
        Run run = run("", "--version");
        assertThat(run.exit()).isZero();
        assertThat(run.stdout()).containsExactly("zdm " + expected);
    }

    @Test
    void an_embedded_server_starts_without_a_word_from_slf4j() throws Exception {
        Run run = run("", "--database", "embedded");
        assertThat(run.exit()).as(run.stderr()).isZero();
        assertThat(run.stderr()).contains("ready: the postgres engine").doesNotContain("SLF4J");
    }

    @Test
    void the_password_comes_from_pgpassword_never_the_command_line_and_is_never_printed() throws Exception {
        String password = dev.zdm.postgres.PasswordRole.password();
        String url = "postgres://" + dev.zdm.postgres.PasswordRole.ROLE + "@127.0.0.1:" + dev.zdm.postgres.PasswordRole.port()
                + "/" + dev.zdm.postgres.PasswordRole.DATABASE;
        String request = "{\"src\":\"ci\",\"dest\":\"zdm\",\"body\":{\"type\":\"create_index\",\"msg_id\":1,"
                + "\"table\":\"no_such_table\",\"column\":\"c\"}}\n";
        Run ok = run(java.util.Map.of("PGPASSWORD", password, "ZDM_LOG", "info"), request, "--database", url);
        assertThat(ok.exit()).as(ok.stderr()).isZero();
        assertThat(ok.stdout()).singleElement().asString().contains("\"code\":20");
        assertThat(ok.stderr()).contains("ready: the postgres engine").doesNotContain(password);
        assertThat(String.join("\n", ok.stdout())).doesNotContain(password);

        Run refused = run(java.util.Map.of("PGPASSWORD", "wrong-" + password), "", "--database", url);
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.stderr()).contains("password authentication failed").doesNotContain(password);
    }
}
