package dev.zdm.postgres.replica;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A physical streaming standby of an embedded primary, made the way the PostgreSQL manual's "low level
 * base backup" describes, from the very binaries zonky unpacked for the primary (found from a backend's
 * /proc/PID/exe): a physical replication slot, {@code pg_backup_start}, a file copy of the data
 * directory, {@code pg_backup_stop} whose label becomes {@code backup_label}, then {@code standby.signal}
 * and {@code primary_conninfo}, and {@code pg_ctl start} — under {@code unshare -U} when running as root,
 * as zonky starts the primary. Nothing is installed; the data directory is removed on close.
 */
public final class StandbyServer implements AutoCloseable {

    public static final String SLOT = "zdm_test_standby";
    private static final Set<String> SKIPPED = Set.of("postmaster.pid", "postmaster.opts", "epg-lock");
    /** Directories copied empty (their contents are runtime state or WAL the standby streams itself). */
    private static final Set<String> EMPTIED = Set.of("pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify",
            "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans");

    private final Path bin;
    private final Path dataDir;
    private final int port;

    private StandbyServer(Path bin, Path dataDir, int port) {
        this.bin = bin;
        this.dataDir = dataDir;
        this.port = port;
    }

    /** A standby of the primary at {@code primaryPort}, streaming and in hot standby when this returns. */
    public static StandbyServer of(Connection primary, int primaryPort) throws SQLException, IOException, InterruptedException {
        Path bin;
        Path primaryData;
        StringBuilder primarySettings = new StringBuilder();
        try (Statement s = primary.createStatement()) {
            // What zonky set on the primary's command line (max_connections among them) the standby needs too:
            // a hot standby refuses to run with fewer connections, locks or workers than its primary.
            try (ResultSet rs = s.executeQuery("SELECT name, setting FROM pg_settings WHERE source = 'command line'"
                    + " AND name NOT IN ('port', 'listen_addresses', 'unix_socket_directories', 'data_directory')")) {
                while (rs.next()) {
                    primarySettings.append(rs.getString(1)).append(" = '")
                            .append(rs.getString(2).replace("'", "''")).append("'\n");
                }
            }
            bin = Path.of("/proc", text(s, "SELECT pg_backend_pid()"), "exe").toRealPath().getParent();
            primaryData = Path.of(text(s, "SHOW data_directory"));
            s.execute("SELECT pg_create_physical_replication_slot('" + SLOT + "', true)");
        }
        Path dataDir = Files.createTempDirectory("zdm-standby", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        String label;
        try (Statement s = primary.createStatement()) {
            s.execute("SELECT pg_backup_start('zdm-test-standby', true)");
            copy(primaryData, dataDir);
            label = text(s, "SELECT labelfile FROM pg_backup_stop(true)");
        }
        Files.writeString(dataDir.resolve("backup_label"), label);
        Files.writeString(dataDir.resolve("standby.signal"), "");
        Files.writeString(dataDir.resolve("postgresql.auto.conf"), "primary_conninfo = 'host=127.0.0.1 port=" + primaryPort
                + " user=postgres application_name=zdm_test_standby'\nprimary_slot_name = '" + SLOT + "'\n"
                + "hot_standby = on\n" + primarySettings, java.nio.file.StandardOpenOption.APPEND);
        StandbyServer standby = new StandbyServer(bin, dataDir, freePort());
        standby.pgCtl("start", "-w", "-t", "60", "-l", dataDir.resolve("standby.log").toString(),
                "-o", "-p " + standby.port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories=");
        standby.awaitStreaming(primary, Duration.ofSeconds(30));
        return standby;
    }

    public int port() {
        return port;
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres"
                + "&ApplicationName=zdm-test-standby-reader");
    }

    /** Replay stopped (the standby still receives WAL, it does not apply it). */
    public void pauseReplay() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_wal_replay_pause()");
        }
    }

    public void resumeReplay() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_wal_replay_resume()");
        }
    }

    /**
     * Waits until the standby has replayed everything the primary had committed when this was called: a
     * marker row committed now and seen on the standby (WAL replays in order). A marker rather than a WAL
     * position, because the primary's insert position can sit past a page header no record reaches yet.
     */
    public void awaitCaughtUp(Connection primary, Duration within) throws SQLException, InterruptedException {
        long marker = System.nanoTime();
        try (Statement s = primary.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS zdm_test_standby_marker (v bigint)");
            s.execute("INSERT INTO zdm_test_standby_marker VALUES (" + marker + ")");
        }
        long deadline = System.nanoTime() + within.toNanos();
        try (Connection c = connect(); Statement s = c.createStatement()) {
            while (true) {
                // The table itself may not have reached the standby yet on the first call.
                boolean seen = "t".equals(text(s, "SELECT to_regclass('zdm_test_standby_marker') IS NOT NULL"))
                        && "t".equals(text(s, "SELECT EXISTS (SELECT FROM zdm_test_standby_marker WHERE v = " + marker + ")"));
                if (seen) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("standby has not replayed a marker within " + within);
                }
                Thread.sleep(20);
            }
        }
    }

    private void awaitStreaming(Connection primary, Duration within) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        try (Statement s = primary.createStatement()) {
            while (!"streaming".equals(text(s, "SELECT coalesce(max(state), '') FROM pg_stat_replication"))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("standby not streaming within " + within + "; log: " + log());
                }
                Thread.sleep(50);
            }
        }
    }

    private String log() {
        try {
            return Files.readString(dataDir.resolve("standby.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private void pgCtl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name"))) {
            // PostgreSQL refuses to run as root; in a user namespace of its own it is not root.
            command.addAll(List.of("unshare", "-U"));
        }
        command.add(bin.resolve("pg_ctl").toString());
        command.addAll(List.of("-D", dataDir.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException("pg_ctl " + String.join(" ", args) + " failed: " + out + "\n" + log());
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path source : (Iterable<Path>) paths::iterator) {
                Path relative = from.relativize(source);
                if (relative.getNameCount() == 0 || SKIPPED.contains(relative.toString())) {
                    continue;
                }
                if (relative.getNameCount() > 1 && EMPTIED.contains(relative.getName(0).toString())) {
                    continue;
                }
                Path target = to.resolve(relative);
                try {
                    if (Files.isDirectory(source)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
                    }
                } catch (java.nio.file.NoSuchFileException vanished) {
                    // The primary runs during the copy; a file it removed meanwhile is rebuilt from WAL.
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static String text(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            pgCtl("stop", "-m", "immediate", "-w");
        } finally {
            try (Stream<Path> paths = Files.walk(dataDir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
