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
            return 2;
        }
        if (config.help()) {
            System.out.print(Config.USAGE);
            return 0;
        }
        if (config.version()) {
            String version = Main.class.getPackage().getImplementationVersion();
            System.out.println("zdm " + (version == null ? "(development build)" : version));
            return 0;
        }
        Engine engine;
        try {
            engine = Engines.open(config);
        } catch (Engines.StartFailed e) {
            System.err.println("zdm: " + e.getMessage());
            return 1;
        }
        try (engine) {
            Log.info("ready: the " + engine.name() + " engine, PostgreSQL " + engine.version());
            // System.out's 128-byte buffer would take a reply to the kernel in pieces; one write per reply.
            PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
                    false, StandardCharsets.UTF_8);
            new Node(Handlers.forEngine(engine, config.lockBudget()), out, Log::info).run(System.in);
            return 0;
        } catch (IOException e) {
            System.err.println("zdm: reading stdin failed: " + e.getMessage());
            return 1;
        }
    }
}
