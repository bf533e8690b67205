package dev.zdm.cases;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zdm.protocol.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of src/test/cases/*.jsonl against the built jar, as the course harness runs it: a fresh
 * process per case, the envelopes on stdin, the reply bodies compared, then end of input and a clean
 * exit. The same files pass through ../shared/bin/check-cases. Cases that need command-line flags
 * ({@code "args"}, e.g. --schema) live in src/test/cases/flags/, which the harness's glob leaves out;
 * a case with {@code "database"} (SQL statements) gets a fresh database on an embedded server, named
 * in its args by {@value CaseDatabases#URL} (--schema-from).
 */
class CasesIT {

    private static final Path CASES = Path.of("src/test/cases");
    private static final Path CASES_WITH_FLAGS = CASES.resolve("flags");
    private static final Path JAR = Path.of(System.getProperty("zdm.jar", "target/zdm.jar"));

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> cases = new ArrayList<>();
        for (Path dir : List.of(CASES, CASES_WITH_FLAGS)) {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".jsonl")).sorted().toList()) {
                    for (String line : Files.readAllLines(file)) {
                        if (!line.isBlank()) {
                            JsonNode c = Json.MAPPER.readTree(line);
                            cases.add(Arguments.of(file.getFileName() + ": " + c.get("name").asText(), c));
                        }
                    }
                }
            }
        }
        assertThat(cases).as("cases in " + CASES.toAbsolutePath()).isNotEmpty();
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void replies_as_expected(String name, JsonNode c) throws Exception {
        List<String> command = new ArrayList<>(List.of("java", "-jar", JAR.toString()));
        String database = c.has("database") ? CaseDatabases.create(c.get("database")) : null;
        c.path("args").forEach(arg -> command.add(arg.asText().replace(CaseDatabases.URL, String.valueOf(database))));
        Process node = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        try (Writer in = new OutputStreamWriter(node.getOutputStream(), StandardCharsets.UTF_8);
             BufferedReader out = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
            for (JsonNode raw : c.path("send_raw")) {
                in.write(raw.asText() + "\n");
            }
            for (JsonNode envelope : c.get("send")) {
                in.write(Json.MAPPER.writeValueAsString(envelope) + "\n");
            }
            in.flush();
            boolean subset = "subset".equals(c.path("match").asText("exact"));
            JsonNode sent = c.get("send");
            int i = 0;
            for (JsonNode expected : c.get("expect")) {
                String line = out.readLine();
                assertThat(line).as("reply %d of %s", i + 1, name).isNotNull();
                JsonNode reply = Json.MAPPER.readTree(line);
                JsonNode request = sent.get(Math.min(i, sent.size() - 1));
                assertThat(reply.path("dest").asText()).as("dest of reply %d", i + 1).isEqualTo(request.get("src").asText());
                assertThat(reply.path("src").asText()).as("src of reply %d", i + 1).isEqualTo(request.get("dest").asText());
                assertThat(CaseMatcher.matches(expected, reply.get("body"), subset))
                        .as("reply %d of %s%n got  %s%n want %s", i + 1, name, reply.get("body"), expected)
                        .isTrue();
                i++;
            }
            in.close();
            assertThat(node.waitFor(3, TimeUnit.SECONDS)).as("exits within 3 s of end of input").isTrue();
            assertThat(node.exitValue()).isZero();
            assertThat(out.readLine()).as("nothing more on stdout").isNull();
        } finally {
            node.destroyForcibly();
        }
    }
}
