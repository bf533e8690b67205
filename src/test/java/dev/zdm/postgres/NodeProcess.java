package dev.zdm.postgres;

import com.fasterxml.jackson.databind.node.ObjectNode;
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

/** The node as the harness runs it: java -jar target/zdm.jar as a child process, its stderr in a file. */
final class NodeProcess implements AutoCloseable {

    static final Path JAR = Path.of(System.getProperty("zdm.jar", "target/zdm.jar"));

    private final Process process;
    private final Writer in;
    private final BufferedReader out;
    private final Path err;
    private long msgId;

    NodeProcess(String... args) throws IOException {
        this(List.of(), args);
    }

    /** {@code jvmOptions} go before -jar, e.g. a small -Xmx for a test that a line cannot exhaust the heap. */
    NodeProcess(List<String> jvmOptions, String... args) throws IOException {
        err = Files.createTempFile("zdm-node-", ".err");
        List<String> command = new ArrayList<>(List.of("java"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", JAR.toString()));
        command.addAll(List.of(args));
        process = new ProcessBuilder(command).redirectError(err.toFile()).start();
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Sends a body; does not wait for the reply. */
    void send(String bodyJson) throws IOException {
        ObjectNode body = (ObjectNode) Json.MAPPER.readTree(bodyJson);
        body.put("msg_id", ++msgId);
        ObjectNode envelope = Json.MAPPER.createObjectNode();
        envelope.put("src", "admin");
        envelope.put("dest", "migrations");
        envelope.set("body", body);
        in.write(envelope.toString() + "\n");
        in.flush();
    }

    /** Writes text as it is, a line of it; for input no well-behaved client sends. */
    void sendRaw(String line) throws IOException {
        in.write(line);
        in.write("\n");
        in.flush();
    }

    /** The next reply's body. */
    ObjectNode reply() throws IOException {
        String line = out.readLine();
        if (line == null) {
            throw new IOException("the node ended without a reply; stderr: " + stderr());
        }
        return (ObjectNode) Json.MAPPER.readTree(line).get("body");
    }

    /** Waits until stderr has a line containing {@code text}; answers that line. */
    String awaitLog(String text, long timeoutMs) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            for (String line : Files.readAllLines(err)) {
                if (line.contains(text)) {
                    return line;
                }
            }
            Thread.sleep(20);
        }
        throw new IOException("no '" + text + "' on stderr within " + timeoutMs + " ms: " + stderr());
    }

    long pid() {
        return process.pid();
    }

    /** SIGKILL: no shutdown hook runs, as when the machine or an OOM killer ends the node. */
    void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, as a deploy or a service manager stops the node; does not wait. */
    void terminate() {
        // Process.destroy() would also close this side of the pipes, before the reply could be read.
        process.toHandle().destroy();
    }

    /** Waits for the process to end; answers its exit code. */
    int exitCode(long timeoutMs) throws InterruptedException, IOException {
        if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
            throw new IOException("the node did not exit within " + timeoutMs + " ms: " + stderr());
        }
        return process.exitValue();
    }

    String stderr() throws IOException {
        return Files.readString(err);
    }

    @Override
    public void close() throws Exception {
        try {
            in.close();
        } catch (IOException ignored) {
            // Already gone.
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        Files.deleteIfExists(err);
    }
}
