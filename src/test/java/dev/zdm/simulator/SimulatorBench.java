package dev.zdm.simulator;

import dev.zdm.config.Config;
import dev.zdm.handlers.Handlers;
import dev.zdm.protocol.Node;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * The simulator's throughput over a long run, and whether its memory stays flat: a seeded generator of
 * mixed requests (create_index, add_column, migrate_data, open_transaction, close_transaction over many
 * tables, columns and sessions, in an open world) fed to the node through the real protocol loop and
 * handlers, as stdin would; replies counted, not kept. Every {@code window} messages it notes the rate
 * of that window and the heap in use after a collection. A benchmark, not a test:
 *
 * <pre>
 * mvn -q -DskipTests package
 * java -Xmx512m -cp target/zdm.jar:target/test-classes dev.zdm.simulator.SimulatorBench [lines] [bench/simulator.md]
 * </pre>
 */
public final class SimulatorBench {

    static final int TABLES = 1_000;
    static final int COLUMNS = 40;
    static final int SESSIONS = 200;

    private SimulatorBench() {
    }

    public static void main(String[] args) throws Exception {
        long lines = args.length > 0 ? Long.parseLong(args[0].replace("_", "")) : 1_000_000;
        Path out = Path.of(args.length > 1 ? args[1] : "bench/simulator.md");
        long window = Math.max(1, lines / 10);
        Generator generator = new Generator(42, lines);
        ReplyCounter replies = new ReplyCounter(window);
        Config config = Config.parse();
        SimulatorEngine engine = SimulatorEngine.open(config);
        Node node = new Node(Handlers.forEngine(engine, config.lockBudget()),
                new PrintStream(replies, false, StandardCharsets.UTF_8), message -> { });
        // One run to warm the JIT up, not counted.
        warmUp();
        String loadBefore = loadAverage();
        long started = System.nanoTime();
        replies.start(started);
        node.run(generator);
        double seconds = (System.nanoTime() - started) / 1e9;
        String loadAfter = loadAverage();
        double[] endToEnd = throughTheJar(lines, Path.of("target/zdm.jar"));
        String report = report(lines, seconds, replies, generator)
                + String.format(Locale.ROOT, "%nLoad average of the machine (1, 5, 15 min) before and after the in-JVM run: %s → %s"
                + " (other work shares these cores; windows vary with it).%n", loadBefore, loadAfter)
                + String.format(Locale.ROOT, "%nThrough the jar as the harness runs it (`java -jar target/zdm.jar < input > /dev/null`,"
                + " stderr to /dev/null, a fresh JVM, start-up, JIT and its log lines included): %,d lines in %.2f s, **%,.0f messages/s**"
                + " (wall clock); the process used %.2f s of CPU (user + system, all its threads).%n",
                lines, endToEnd[0], lines / endToEnd[0], endToEnd[1]);
        System.out.print(report);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report);
    }

    private static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return parts[0] + ", " + parts[1] + ", " + parts[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    /**
     * Wall seconds and CPU seconds (user + system, from the kernel's accounting through /usr/bin/time)
     * the jar takes for the same input from a file, as a process of its own.
     */
    private static double[] throughTheJar(long lines, Path jar) throws Exception {
        Path input = Files.createTempFile("zdm-simbench", ".jsonl");
        Path times = Files.createTempFile("zdm-simbench", ".time");
        try {
            try (InputStream in = new Generator(42, lines); OutputStream file = Files.newOutputStream(input)) {
                in.transferTo(file);
            }
            List<String> command = new ArrayList<>(List.of("java", "-jar", jar.toString()));
            boolean timed = Files.isExecutable(Path.of("/usr/bin/time"));
            if (timed) {
                command.addAll(0, List.of("/usr/bin/time", "-f", "%U %S", "-o", times.toString()));
            }
            long started = System.nanoTime();
            Process node = new ProcessBuilder(command)
                    .redirectInput(input.toFile())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (node.waitFor() != 0) {
                throw new IllegalStateException("the node exited with " + node.exitValue());
            }
            double wall = (System.nanoTime() - started) / 1e9;
            if (!timed) {
                return new double[] {wall, Double.NaN};
            }
            String[] cpu = Files.readString(times).trim().split("\\s+");
            return new double[] {wall, Double.parseDouble(cpu[0]) + Double.parseDouble(cpu[1])};
        } finally {
            Files.deleteIfExists(input);
            Files.deleteIfExists(times);
        }
    }

    private static void warmUp() throws Exception {
        Config config = Config.parse();
        Node node = new Node(Handlers.forEngine(SimulatorEngine.open(config), config.lockBudget()),
                new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8), message -> { });
        node.run(new Generator(7, 300_000));
    }

    private static String report(long lines, double seconds, ReplyCounter replies, Generator generator) {
        StringBuilder md = new StringBuilder();
        md.append("# Simulator throughput\n\n");
        md.append(String.format(Locale.ROOT, "%,d mixed request lines (seed 42: create_index %d%%, add_column %d%%, "
                        + "migrate_data %d%%, open/close_transaction %d%%) over %,d tables x %d columns and %d sessions, "
                        + "open world, through the node's protocol loop and handlers in one JVM (`%s`, %d cores, max heap %d MiB).%n%n",
                lines, 30, 25, 25, 20, TABLES, COLUMNS, SESSIONS, System.getProperty("java.vm.name") + " "
                        + System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20));
        md.append(String.format(Locale.ROOT, "**%,d messages in %.2f s: %,.0f messages/s overall**; %,d replies "
                + "(%,d of them errors: 21 for what exists, 20 for sessions, 14 for locks).%n%n",
                lines, seconds, lines / seconds, replies.count, replies.errors));
        md.append("Wall-clock rates move with whatever else runs on the machine; the node's own thread's CPU time "
                + "does not (much), so each window shows both.\n\n");
        md.append("| messages | messages/s in this window (wall clock) | messages per CPU-second of the node's thread "
                + "| heap in use after GC |\n| ---: | ---: | ---: | ---: |\n");
        for (ReplyCounter.Window w : replies.windows) {
            md.append(String.format(Locale.ROOT, "| %,d | %,.0f | %,.0f | %.1f MiB |%n", w.upTo(), w.rate(), w.cpuRate(),
                    w.heapMiB()));
        }
        md.append("\nWhat was bounded for this (issue 9): a plan's rollback is an undo log of its own changes, not a "
                + "copy of the catalog; the lock table holds only tables with a lock held or awaited, and a holder "
                + "releases only its own; finished migrate_data jobs are remembered up to "
                + String.format(Locale.ROOT, "%,d", SimulatorEngine.REMEMBERED_JOBS)
                + " (the newest); the reader holds one envelope at most. The catalog itself grows with the names the "
                + "run creates, as a database's would: here it saturates at the generator's tables, columns and indexes.\n\n");
        md.append("Regenerate: `mvn -q -DskipTests package && java -Xmx512m -cp target/zdm.jar:target/test-classes "
                + "dev.zdm.simulator.SimulatorBench 1000000 bench/simulator.md`\n");
        return md.toString();
    }

    /** Counts reply lines, and at each window's end notes its rate and the heap after a collection. */
    static final class ReplyCounter extends OutputStream {
        record Window(long upTo, double rate, double cpuRate, double heapMiB) {
        }

        final List<Window> windows = new ArrayList<>();
        private final long window;
        long count;
        long errors;
        private long windowStart;
        private long windowCpuStart;
        private static final java.lang.management.ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        private int matched;
        private static final byte[] ERROR = "\"type\":\"error\"".getBytes(StandardCharsets.UTF_8);

        ReplyCounter(long window) {
            this.window = window;
        }

        void start(long nanos) {
            windowStart = nanos;
            windowCpuStart = THREADS.getCurrentThreadCpuTime();
        }

        @Override
        public void write(int b) {
            if (matched < ERROR.length && b == ERROR[matched]) {
                if (++matched == ERROR.length) {
                    errors++;
                }
            } else if (matched < ERROR.length) {
                matched = b == ERROR[0] ? 1 : 0;
            }
            if (b == '\n') {
                matched = 0;
                if (++count % window == 0) {
                    long now = System.nanoTime();
                    long cpu = THREADS.getCurrentThreadCpuTime();
                    double rate = window / ((now - windowStart) / 1e9);
                    double cpuRate = window / ((cpu - windowCpuStart) / 1e9);
                    System.gc();
                    long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                    windows.add(new Window(count, rate, cpuRate, used / 1048576.0));
                    windowStart = System.nanoTime();
                    windowCpuStart = THREADS.getCurrentThreadCpuTime();
                }
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            for (int i = off; i < off + len; i++) {
                write(b[i]);
            }
        }
    }

    /** Request lines, made as they are read: the input is never held whole. */
    static final class Generator extends InputStream {
        private final Random random;
        private final long lines;
        private long made;
        private byte[] current = new byte[0];
        private int pos;
        private final Set<Integer> open = new HashSet<>();

        Generator(long seed, long lines) {
            this.random = new Random(seed);
            this.lines = lines;
        }

        @Override
        public int read() {
            if (pos == current.length && !next()) {
                return -1;
            }
            return current[pos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos == current.length && !next()) {
                return -1;
            }
            int n = Math.min(len, current.length - pos);
            System.arraycopy(current, pos, b, off, n);
            pos += n;
            return n;
        }

        private boolean next() {
            if (made == lines) {
                return false;
            }
            made++;
            current = ("{\"src\":\"c1\",\"dest\":\"n1\",\"body\":" + body(made) + "}\n").getBytes(StandardCharsets.UTF_8);
            pos = 0;
            return true;
        }

        private String body(long id) {
            String table = "t" + random.nextInt(TABLES);
            String column = "c" + random.nextInt(COLUMNS);
            int pick = random.nextInt(100);
            if (pick < 30) {
                return "{\"type\":\"create_index\",\"msg_id\":" + id + ",\"table\":\"" + table + "\",\"column\":\""
                        + column + "\",\"index\":\"" + table + "_" + column + "_idx\"}";
            }
            if (pick < 55) {
                return "{\"type\":\"add_column\",\"msg_id\":" + id + ",\"table\":\"" + table + "\",\"column\":\"n"
                        + column + "\",\"default\":\"x\",\"nullable\":false}";
            }
            if (pick < 80) {
                return "{\"type\":\"migrate_data\",\"msg_id\":" + id + ",\"table\":\"" + table + "\",\"batch_size\":1000,"
                        + "\"total_rows\":" + (1000 * (1 + random.nextInt(100))) + ",\"set\":{\"" + column + "\":\"'v" + id + "'\"}}";
            }
            int session = random.nextInt(SESSIONS);
            if (open.contains(session)) {
                open.remove(session);
                return "{\"type\":\"close_transaction\",\"msg_id\":" + id + ",\"session\":\"s" + session + "\"}";
            }
            open.add(session);
            String mode = random.nextBoolean() ? "ACCESS SHARE" : "ROW EXCLUSIVE";
            return "{\"type\":\"open_transaction\",\"msg_id\":" + id + ",\"session\":\"s" + session + "\",\"table\":\""
                    + table + "\",\"mode\":\"" + mode + "\",\"duration_seconds\":0.5}";
        }
    }
}
