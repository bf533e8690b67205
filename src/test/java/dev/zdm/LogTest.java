package dev.zdm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.postgres.EmbeddedServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The libraries' SLF4J logging is bound to Log: warnings shown, the rest kept for a failure to show. */
class LogTest {

    private static String stderrOf(Runnable action) {
        PrintStream before = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(before);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void slf4j_finds_this_binding_and_shows_warnings_but_keeps_info_for_a_failure() {
        var logger = LoggerFactory.getLogger("io.zonky.test.Example");
        assertThat(logger).isInstanceOf(LibraryLogger.class);
        Log.dropHeld();
        String shown = stderrOf(() -> {
            logger.info("initdb: step {} of {}", 1, 2);
            logger.warn("disk almost full: {}", "99%");
        });
        assertThat(shown).contains("Example: disk almost full: 99%").doesNotContain("initdb");
        String replayed = stderrOf(() -> Log.replayHeld("starting it"));
        assertThat(replayed).contains("starting it failed", "Example: initdb: step 1 of 2");
        assertThat(stderrOf(() -> Log.replayHeld("again"))).as("replayed once").isEmpty();
    }

    @Test
    void at_most_the_last_lines_are_kept() {
        var logger = LoggerFactory.getLogger("lib");
        Log.dropHeld();
        for (int i = 0; i < Log.HELD_LINES + 50; i++) {
            logger.debug("line " + i);
        }
        String replayed = stderrOf(() -> Log.replayHeld("x"));
        assertThat(replayed).contains("line " + (Log.HELD_LINES + 49)).doesNotContain("line 49\\n").doesNotContain(": line 0\\n");
        assertThat(replayed.lines().count()).isEqualTo(Log.HELD_LINES + 1);
    }

    @Test
    void what_initdb_said_reaches_stderr_when_the_embedded_server_cannot_start() throws Exception {
        Path notEmpty = Files.createTempDirectory("zdm-not-a-cluster-");
        Files.writeString(notEmpty.resolve("junk"), "x");
        String stderr = stderrOf(() -> assertThatThrownBy(() -> EmbeddedServer.start(notEmpty, false, 0))
                .hasMessageContaining("initdb"));
        assertThat(stderr).contains("starting the embedded PostgreSQL failed", "initdb: error");
    }
}
