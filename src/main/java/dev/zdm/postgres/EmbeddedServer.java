package dev.zdm.postgres;

import dev.zdm.Log;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.util.Properties;

/**
 * A PostgreSQL started from the binaries in the zonky jars, in a temporary data directory that is
 * removed when it closes. Running as root works: on Linux zonky starts initdb and postgres under
 * {@code unshare -U} (a user namespace in which the process is not uid 0), which passes PostgreSQL's
 * refusal to run as root; that needs the util-linux {@code unshare} binary and user namespaces.
 */
public final class EmbeddedServer implements AutoCloseable {

    private final EmbeddedPostgres postgres;

    private EmbeddedServer(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    public static EmbeddedServer start() throws IOException {
        long started = System.nanoTime();
        EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                // Zonky's own default: the data directory is a fresh temp dir, deleted on close.
                .setCleanDataDirectory(true)
                // A migration waits on locks for real; fsync buys nothing for a throwaway server.
                .setServerConfig("fsync", "off")
                .start();
        Log.info("embedded PostgreSQL up on port " + postgres.getPort() + " in "
                + (System.nanoTime() - started) / 1_000_000 + " ms");
        return new EmbeddedServer(postgres);
    }

    public Database database() {
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        String url = "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres";
        return new Database(url, props, "embedded PostgreSQL on port " + postgres.getPort());
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            Log.info("stopping the embedded PostgreSQL: " + e.getMessage());
        }
    }
}
