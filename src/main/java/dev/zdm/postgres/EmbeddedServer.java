package dev.zdm.postgres;

import dev.zdm.Log;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * A PostgreSQL started from the binaries in the zonky jars. Running as root works: on Linux zonky
 * starts initdb and postgres under {@code unshare -U} (a user namespace in which the process is not
 * uid 0), which passes PostgreSQL's refusal to run as root; that needs the util-linux {@code unshare}
 * binary and user namespaces.
 *
 * <p>The server must not outlive the process that started it. pg_ctl detaches the postmaster, so a
 * node killed with SIGKILL (no shutdown hook runs) would leave it running; a watchdog process holds
 * the read end of a pipe from this JVM, and when the JVM is gone for any reason the pipe closes, the
 * watchdog sends the postmaster SIGINT (fast shutdown) and removes a temporary data directory.
 */
public final class EmbeddedServer implements AutoCloseable {

    private final EmbeddedPostgres postgres;
    private final Path dataDirectory;
    private final Process watchdog;

    private EmbeddedServer(EmbeddedPostgres postgres, Path dataDirectory, Process watchdog) {
        this.postgres = postgres;
        this.dataDirectory = dataDirectory;
        this.watchdog = watchdog;
    }

    /** A server in a fresh temporary data directory, removed when it stops. */
    public static EmbeddedServer start() throws IOException {
        return start(Files.createTempDirectory("zdm-pg-"), true, 0);
    }

    /**
     * A server on {@code dataDirectory}; {@code temporary}: removed when the server stops, else kept
     * so that a server started again on it has the same data. {@code port} 0: any free port.
     */
    public static EmbeddedServer start(Path dataDirectory, boolean temporary, int port) throws IOException {
        long started = System.nanoTime();
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(dataDirectory)
                .setCleanDataDirectory(temporary)
                // A migration waits on locks for real; fsync buys nothing for a throwaway server.
                .setServerConfig("fsync", "off");
        if (port > 0) {
            builder.setPort(port);
        }
        EmbeddedPostgres postgres;
        Log.dropHeld();
        try {
            postgres = builder.start();
        } catch (IOException | RuntimeException e) {
            // zonky says only "Process [initdb ...] failed"; what initdb or pg_ctl said is in its output,
            // which a thread of zonky's may still be logging.
            try {
                Log.awaitLibraryQuiet(200, 2_000);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
            Log.replayHeld("starting the embedded PostgreSQL");
            throw e;
        }
        long postmaster = postmasterPid(dataDirectory);
        Process watchdog = watchdog(postmaster, dataDirectory, temporary);
        Log.info("embedded PostgreSQL up on port " + postgres.getPort() + " in "
                + (System.nanoTime() - started) / 1_000_000 + " ms (postmaster pid " + postmaster + ", data in "
                + dataDirectory + ")");
        return new EmbeddedServer(postgres, dataDirectory, watchdog);
    }

    /** The first line of postmaster.pid is the postmaster's pid. */
    private static long postmasterPid(Path dataDirectory) throws IOException {
        return Long.parseLong(Files.readAllLines(dataDirectory.resolve("postmaster.pid")).get(0).trim());
    }

    /**
     * sh reading the pipe to EOF, which comes only when this JVM has exited (the JVM holds the write
     * end); then a fast shutdown of the postmaster, and the data directory removed once it is gone.
     */
    private static Process watchdog(long postmaster, Path dataDirectory, boolean temporary) throws IOException {
        String script = "cat >/dev/null; kill -INT \"$1\" 2>/dev/null; "
                + (temporary ? "while kill -0 \"$1\" 2>/dev/null; do sleep 0.1; done; rm -rf \"$2\"" : "true");
        return new ProcessBuilder("sh", "-c", script, "zdm-watchdog", Long.toString(postmaster), dataDirectory.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    public Database database() {
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        String url = "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres";
        return new Database(url, props, "embedded PostgreSQL on port " + postgres.getPort());
    }

    public int port() {
        return postgres.getPort();
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    @Override
    public void close() {
        // The watchdog first: once this server stops, its pid may be another process's.
        watchdog.destroy();
        try {
            postgres.close();
        } catch (IOException e) {
            Log.info("stopping the embedded PostgreSQL: " + e.getMessage());
        }
    }
}
