package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real pgbouncer (Debian package {@code pgbouncer}, /usr/sbin/pgbouncer) in front of the shared
 * embedded server, in one pool mode, with its own ini in a temporary directory: trust authentication
 * against an auth file, 127.0.0.1 on a free port. As root it runs as {@code nobody} (pgbouncer refuses root).
 */
final class PgBouncer implements AutoCloseable {

    static final List<String> CANDIDATES = List.of("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer",
            "/usr/local/bin/pgbouncer", "/usr/local/sbin/pgbouncer");

    private final Process process;
    private final Path dir;
    private final int port;

    private PgBouncer(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    /**
     * The binary, or the test is not run: it fails where CI is set (a pooler test that did not run is
     * a gap, not a pass), and is skipped with a clear message elsewhere; both say so on stderr.
     */
    static String binaryOrSkip() {
        for (String candidate : CANDIDATES) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        String message = "pgbouncer is not installed (looked for " + CANDIDATES + "): the pooler tests did NOT run;"
                + " install the Debian package: apt-get install -y pgbouncer";
        System.err.println("*** " + message);
        if (System.getenv("CI") != null) {
            fail(message + " (CI is set, so this is a failure)");
        }
        Assumptions.abort(message);
        return null;
    }

    static PgBouncer start(String mode) throws IOException, InterruptedException {
        return start(mode, "");
    }

    /** {@code extra}: more lines for the [pgbouncer] section. */
    static PgBouncer start(String mode, String extra) throws IOException, InterruptedException {
        String binary = binaryOrSkip();
        Path dir = Files.createTempDirectory("zdm-pgbouncer-");
        // pgbouncer runs as nobody when the tests run as root: it must read the ini and write its log there.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = free.getLocalPort();
        }
        Files.writeString(dir.resolve("users.txt"), "\"postgres\" \"\"\n");
        Files.writeString(dir.resolve("pgbouncer.ini"), """
                [databases]
                postgres = host=127.0.0.1 port=%d dbname=postgres user=postgres

                [pgbouncer]
                listen_addr = 127.0.0.1
                listen_port = %d
                unix_socket_dir =
                auth_type = trust
                auth_file = %s
                pool_mode = %s
                max_client_conn = 100
                default_pool_size = 10
                ignore_startup_parameters = extra_float_digits,options
                logfile = %s
                pidfile = %s
                %s
                """.formatted(SharedPostgres.port(), port, dir.resolve("users.txt"), mode,
                dir.resolve("pgbouncer.log"), dir.resolve("pgbouncer.pid"), extra));
        for (String file : new String[] {"users.txt", "pgbouncer.ini"}) {
            Files.setPosixFilePermissions(dir.resolve(file), PosixFilePermissions.fromString("rw-r--r--"));
        }
        List<String> command = new ArrayList<>(List.of(binary));
        if ("root".equals(System.getProperty("user.name"))) {
            command.addAll(List.of("-u", "nobody"));
        }
        command.add(dir.resolve("pgbouncer.ini").toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("stdout.txt").toFile()).start();
        PgBouncer bouncer = new PgBouncer(process, dir, port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("pgbouncer exited with " + process.exitValue() + ": " + bouncer.log());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return bouncer;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        bouncer.close();
        throw new IllegalStateException("pgbouncer did not listen on " + port + " within 15 s: " + bouncer.log());
    }

    /** The URL a user would give zdm: the pooler's, not the server's. */
    Database database() {
        return database(new Properties());
    }

    /** With more pgjdbc properties, as a user's URL might carry them. */
    Database database(Properties extra) {
        Properties props = new Properties();
        props.putAll(extra);
        props.setProperty("user", "postgres");
        return new Database("jdbc:postgresql://127.0.0.1:" + port + "/postgres", props, "pgbouncer on " + port);
    }

    String log() {
        StringBuilder text = new StringBuilder();
        for (String file : new String[] {"stdout.txt", "pgbouncer.log"}) {
            try {
                text.append(Files.readString(dir.resolve(file)));
            } catch (IOException absent) {
                text.append("(no ").append(file).append(")");
            }
        }
        return text.toString();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            System.err.println("pgbouncer's directory " + dir + " stays: " + e.getMessage());
        }
    }
}
