package dev.zdm;

import dev.zdm.config.Config;
import dev.zdm.engine.Engine;
import dev.zdm.engine.Engines;
import dev.zdm.handlers.Handlers;
import dev.zdm.protocol.Node;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** The command line: parse the flags, open the engine, run the node until end of input. */
public final class Main {

    // The exit codes, all of them, for scripts and pipelines (the usage text lists them too).
    /** Everything asked was done (the node: end of input reached; without --exit-on-error, always). */
    public static final int EXIT_OK = 0;
    /** The engine could not start: server unreachable, embedded server failed, a bad schema, stdin lost. */
    public static final int EXIT_START_FAILED = 1;
    /** The command line is wrong. */
    public static final int EXIT_USAGE = 2;
    /** A request failed (an error reply, or input skipped without one); the node: only with --exit-on-error. */
    public static final int EXIT_REQUEST_FAILED = 3;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        Config config;
        try {
            config = Config.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("zdm: " + e.getMessage() + " (see --help)");
            return EXIT_USAGE;
        }
        if (config.help()) {
            System.out.print(Config.USAGE);
            return EXIT_OK;
        }
        if (config.version()) {
            String version = Main.class.getPackage().getImplementationVersion();
            System.out.println("zdm " + (version == null ? "(development build)" : version));
            return EXIT_OK;
        }
        Engine engine;
        try {
            engine = Engines.open(config);
        } catch (Engines.StartFailed e) {
            System.err.println("zdm: " + e.getMessage());
            return EXIT_START_FAILED;
        }
        try (engine) {
            Log.info("ready: the " + engine.name() + " engine, PostgreSQL " + engine.version());
            // System.out's 128-byte buffer would take a reply to the kernel in pieces; one write per reply.
            PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
                    false, StandardCharsets.UTF_8);
            Node node = new Node(Handlers.forEngine(engine, config.lockBudget()), out, Log::info, config.exitOnError());
            node.run(System.in);
            if (config.exitOnError() && node.failures() > 0) {
                return EXIT_REQUEST_FAILED;
            }
            return EXIT_OK;
        } catch (IOException e) {
            System.err.println("zdm: reading stdin failed: " + e.getMessage());
            return EXIT_START_FAILED;
        }
    }
}
