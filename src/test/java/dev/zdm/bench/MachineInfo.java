package dev.zdm.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The machine and server the numbers came from, because latency figures mean nothing without them:
 * CPUs, memory, the JVM as {@code java -version} prints it, and PostgreSQL's version and the settings
 * that move these numbers.
 */
record MachineInfo(int cpus, String cpuModel, String memory, String os, List<String> javaVersion,
                   String postgres, List<String> settings) {

    /** The server settings that change what a bulk write or an index build costs. */
    private static final List<String> SETTINGS = List.of("shared_buffers", "maintenance_work_mem", "work_mem",
            "max_wal_size", "fsync", "synchronous_commit", "max_parallel_maintenance_workers");

    static MachineInfo collect(Connection c) throws SQLException {
        List<String> settings = new ArrayList<>();
        try (Statement s = c.createStatement()) {
            for (String name : SETTINGS) {
                try (ResultSet rs = s.executeQuery("SHOW " + name)) {
                    rs.next();
                    settings.add(name + " = " + rs.getString(1));
                }
            }
        }
        String version;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT version()")) {
            rs.next();
            version = rs.getString(1);
        }
        return new MachineInfo(Runtime.getRuntime().availableProcessors(), procField("/proc/cpuinfo", "model name"),
                memTotal(), System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"), javaVersionOutput(), version, settings);
    }

    private static String memTotal() {
        String kb = procField("/proc/meminfo", "MemTotal").replaceAll("[^0-9]", "");
        return kb.isEmpty() ? "unknown" : String.format("%.1f GiB", Long.parseLong(kb) / 1024.0 / 1024.0);
    }

    private static String procField(String file, String field) {
        try {
            for (String line : Files.readAllLines(Path.of(file))) {
                if (line.startsWith(field)) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            return "unknown";
        }
        return "unknown";
    }

    /** {@code java -version} of the JVM running the benchmark, as that command prints it. */
    private static List<String> javaVersionOutput() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        try {
            Process p = new ProcessBuilder(java.toString(), "-version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.SECONDS);
            return out.lines().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            return List.of(System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of(System.getProperty("java.runtime.version"));
        }
    }
}
