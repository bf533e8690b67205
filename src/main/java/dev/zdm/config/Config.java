package dev.zdm.config;

import dev.zdm.engine.Throttling;
import dev.zdm.pg.ServerVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Every setting of the node, from the command line, in one place. {@code database} null means the
 * simulator; "embedded" an embedded PostgreSQL; anything else a server URL. The simulator's world is
 * open unless {@code schemaFile} or {@code schemaFrom} gives it a schema.
 */
public record Config(String database, ServerVersion pgVersion, long simulatedRows, Long demoRows,
                     Duration lockBudget, int retries, Throttling throttling, boolean help, boolean version,
                     Path schemaFile, String schemaFrom, boolean pgVersionGiven, Command command,
                     Path migrationsDir, boolean exitOnError) {

    /** What the process does: the node (no command), or one of the pipeline's commands. */
    public enum Command {
        NODE, APPLY, STATUS
    }

    public static final String EMBEDDED = "embedded";
    /** The users table the simulator starts with: big enough that a concurrent build takes the seed's 120 s. */
    public static final long DEFAULT_SIMULATED_ROWS = 6_000_000;
    /** Long enough for a catalog change behind ordinary queries, short enough that no user notices. */
    public static final Duration DEFAULT_LOCK_BUDGET = Duration.ofMillis(2_000);
    public static final int DEFAULT_RETRIES = 3;

    public static final String USAGE = """
            Usage: java -jar target/zdm.jar [--database URL|embedded] [options]
                   java -jar target/zdm.jar apply DIR --database URL [options]
                   java -jar target/zdm.jar status --database URL

            Commands (for a deploy pipeline; without one, the node below runs):
              apply DIR                each DIR/*.json ({"operations": [request body, ...]}) is one
                                       migration named by its file name without .json, sent in name order
                                       as a migration message; stops at the first that fails. Prints each
                                       reply on stdout (one JSON line per migration) and each operation's
                                       outcome on stderr. Run again, it resumes where it stopped and skips
                                       what is applied. Needs --database (or --schema-from URL /
                                       --schema FILE to predict only): without, exit 2
              status                   the ledger's operations and migrations: state, progress, what is
                                       left, what blocks them now (reply on stdout, a summary on stderr)
              Exit codes: 0 done; 1 could not start (server unreachable); 2 bad command line; 3 a
              migration failed on a cause to fix (error 10, 12, 20, 21, 22); 4 a migration was
              interrupted (error 13 or 14: a lock not granted in time, a lost connection), or status met a
              locked ledger: run again.
              The node itself exits 0 at end of input.

            A node for zero-downtime PostgreSQL schema changes. It reads one JSON envelope per line
            on stdin ({"src","dest","body"}), answers each on stdout, and logs on stderr. End of input
            ends it.

            Engine:
              (no --database)          the simulator: an in-memory catalog and a model of PostgreSQL's
                                       locks, clock and costs; needs nothing. The course harness runs it.
                                       Without a schema its world is open: a table or column a request
                                       names is assumed to exist (a new table: --rows rows, primary key
                                       id bigint); what the run changes is remembered.
              --database embedded      start an embedded PostgreSQL 18 (from Maven Central jars) in a
                                       temporary directory, removed at exit
              --database URL           use that server: jdbc:postgresql://host:port/db?user=u&password=p
                                       or postgres://user:pass@host:port/db. Keep the password out of
                                       the command line (ps shows it): PGPASSWORD, ~/.pgpass (PGPASSFILE)
                                       or a service file (PGSERVICEFILE, ?service=name). In postgres://
                                       what is left out comes from PGHOST, PGPORT, PGDATABASE, PGUSER,
                                       PGSSLMODE and PGSERVICE: postgres:// alone is libpq's default

            Options:
              --pg-version N           server version the simulator models (default 15; 9 to 99).
                                       It decides e.g. whether a constant DEFAULT rewrites (before 11)
              --rows N                 rows of a table the open world assumes, users included
                                       (default 6000000); a migrate_data total_rows above it is the size
              --schema FILE            the simulator knows exactly this schema and nothing else (JSON:
                                       tables, columns, types, defaults, NOT NULL, primary key, indexes,
                                       constraints, row counts; see examples/schema.json)
              --schema-from URL        read the schema and row counts from that server's catalog, in one
                                       READ ONLY transaction (nothing written), then predict each request
                                       there, with its server version: a plan for production without
                                       touching it. URL as for --database
              --demo-rows N            on a real server: create users(id bigserial primary key, email
                                       text, name text) with N generated rows if it does not exist
              --lock-budget-ms N       how long a migration may wait for a lock when the request has no
                                       max_lock_duration_ms (default 2000); past it, it aborts and rolls back
              --retries N              attempts of a concurrent index build that lost its lock race
                                       (default 3, on a real server)
              --max-replica-lag-ms N   pause a backfill between batches while a streaming replica
                                       (pg_stat_replication) replays more than N ms behind, or a
                                       standby is not connected while its physical slot holds WAL
                                       (default: off)
              --max-active-sessions N  pause a backfill between batches while more than N other sessions
                                       run a statement (pg_stat_activity; default: off)
              --max-throttle-ms N      a pause longer than this ends the request with error 14, its
                                       batches kept; the same request resumes (default 300000)
              --batch-time-ms N        the time one backfill batch aims at, so about the longest an
                                       application waits for a row zdm changed (default 40; at most a
                                       quarter of the lock budget); a batch past its deadline is retried smaller
              --exit-on-error          stop at the first request answered with an error (or input
                                       skipped without a reply) and exit 3; without it the node reads
                                       to end of input and exits 0, as the course harness expects
              -h, --help               this text
              -V, --version            the version

            Messages (each body has a msg_id; replies carry in_reply_to):
              create_index      {table, column | columns[], concurrently?=true, unique?, index?}
                                -> index_created {index, duration_seconds, table_locked}
              add_column        {table, column, data_type?=text, default? | default_sql?, nullable?=true,
                                 sleep_ms? (between backfill batches of the safe way), safe?=true}
                                -> column_added {duration_seconds, table_rewritten}
              migrate_data      {table, batch_size, total_rows?, set?{column: sql}, where?, sleep_ms?}
                                -> data_migrated {total_rows, batches, table_locked}
              open_transaction  {session, table, mode?, duration_seconds?} -> transaction_opened
              close_transaction {session} -> transaction_closed
              migration         {name, operations: [create_index|add_column|migrate_data body, ...]}
                                -> migration_applied {name, applied, applied_before, operations}
              status            {limit?=50} -> status_ok {engine, operation_counts, operations, migrations}
              Any migration takes max_lock_duration_ms and explain: true (adds the planned steps); a
              backfill also max_replica_lag_ms, max_active_sessions, max_throttle_ms, batch_time_ms (as the flags).
              Any request naming a table takes schema? (else the search_path finds the table); names
              are exact identifiers: any case and characters, always quoted.
              plan: true runs nothing and answers planned {operation, table, steps[{sql, lock, blocks,
              scans, rewrites, batched, seconds, lock_wait_seconds, lock_held_seconds}], duration_seconds,
              table_locked, table_rewritten, strongest_lock, would_reply, assumptions, predicted_by}; on a
              real server from its catalog, read in a READ ONLY transaction (no ledger row).
              A field a message does not know, or a key twice, is error 12.
              Errors: {type: error, code, text}: 10 unknown type, 12 bad request, 13 crashed,
              14 aborted and rolled back (lock budget), 20 no such table/column, 21 already exists,
              22 precondition failed.

            Exit codes: 0 ok; 1 the engine did not start (server unreachable, bad --schema);
              2 bad command line; 3 a request failed (only with --exit-on-error).

            Example:
              echo '{"src":"admin","dest":"migrations","body":{"type":"create_index","msg_id":1,"table":"users","column":"email"}}' \\
                | java -jar target/zdm.jar
            """;

    public boolean simulator() {
        return database == null;
    }

    /** Parses the command line; a bad one is an IllegalArgumentException that says what is wrong. */
    public static Config parse(String... args) {
        String database = null;
        ServerVersion pgVersion = ServerVersion.DEFAULT;
        long rows = DEFAULT_SIMULATED_ROWS;
        Long demoRows = null;
        Duration lockBudget = DEFAULT_LOCK_BUDGET;
        int retries = DEFAULT_RETRIES;
        Duration maxReplicaLag = null;
        Integer maxActiveSessions = null;
        Duration maxThrottle = Throttling.DEFAULT_MAX_THROTTLE;
        Duration batchTime = Throttling.DEFAULT_BATCH_TIME;
        boolean help = false;
        boolean version = false;
        String simulatorOnly = null;
        Path schemaFile = null;
        String schemaFrom = null;
        boolean pgVersionGiven = false;
        List<String> positional = new ArrayList<>();
        boolean exitOnError = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            }
            switch (arg) {
                case "-h", "--help" -> help = true;
                case "-V", "--version" -> version = true;
                case "--exit-on-error" -> exitOnError = true;
                case "--database" -> database = value != null ? value : next(args, ++i, arg);
                case "--pg-version" -> {
                    int major = (int) number(value != null ? value : next(args, ++i, arg), arg, 9, 99);
                    pgVersion = new ServerVersion(major);
                    pgVersionGiven = true;
                    simulatorOnly = arg;
                }
                case "--rows" -> {
                    rows = number(value != null ? value : next(args, ++i, arg), arg, 0, Long.MAX_VALUE / 2);
                    simulatorOnly = arg;
                }
                case "--schema" -> {
                    schemaFile = Path.of(value != null ? value : next(args, ++i, arg));
                    simulatorOnly = arg;
                }
                case "--schema-from" -> {
                    schemaFrom = value != null ? value : next(args, ++i, arg);
                    simulatorOnly = arg;
                }
                case "--demo-rows" -> demoRows = number(value != null ? value : next(args, ++i, arg), arg, 0,
                        1_000_000_000L);
                case "--lock-budget-ms" -> lockBudget = Duration.ofMillis(
                        number(value != null ? value : next(args, ++i, arg), arg, 1, 3_600_000));
                case "--retries" -> retries = (int) number(value != null ? value : next(args, ++i, arg), arg, 1, 100);
                case "--max-replica-lag-ms" -> maxReplicaLag = Duration.ofMillis(
                        number(value != null ? value : next(args, ++i, arg), arg, 1, 86_400_000));
                case "--max-active-sessions" -> maxActiveSessions = (int) number(
                        value != null ? value : next(args, ++i, arg), arg, 0, 100_000);
                case "--max-throttle-ms" -> maxThrottle = Duration.ofMillis(
                        number(value != null ? value : next(args, ++i, arg), arg, 1, 86_400_000));
                case "--batch-time-ms" -> batchTime = Duration.ofMillis(
                        number(value != null ? value : next(args, ++i, arg), arg, 1, 3_600_000));
                default -> {
                    if (arg.startsWith("-")) {
                        throw new IllegalArgumentException("unknown option " + arg);
                    }
                    positional.add(arg);
                }
            }
        }
        if (database != null && database.isBlank()) {
            throw new IllegalArgumentException("--database needs a URL or 'embedded'");
        }
        if (demoRows != null && database == null) {
            throw new IllegalArgumentException("--demo-rows needs --database (the simulator has --rows)");
        }
        if (simulatorOnly != null && database != null) {
            // A real server has its own version and rows; a flag that would be ignored is a mistake to report.
            throw new IllegalArgumentException(simulatorOnly + " is for the simulator; with --database the server decides");
        }
        if (schemaFile != null && schemaFrom != null) {
            throw new IllegalArgumentException("give --schema or --schema-from, not both");
        }
        if ((schemaFile != null || schemaFrom != null) && rows != DEFAULT_SIMULATED_ROWS) {
            throw new IllegalArgumentException("--rows is for the open world; a schema gives each table its rows");
        }
        if (schemaFrom != null && pgVersionGiven) {
            throw new IllegalArgumentException("--pg-version with --schema-from: the server's own version is used");
        }
        Command command = command(positional);
        if (command == Command.APPLY && database == null && schemaFile == null && schemaFrom == null) {
            // On the simulator apply would exit 0 having changed nothing: a pipeline that lost the flag
            // would believe production migrated.
            throw new IllegalArgumentException("apply needs --database URL (the server to migrate), or --schema-from URL"
                    + " (or --schema FILE) to predict without changing anything");
        }
        return new Config(database, pgVersion, rows, demoRows, lockBudget, retries,
                new Throttling(maxReplicaLag, maxActiveSessions, maxThrottle, batchTime), help, version, schemaFile, schemaFrom,
                pgVersionGiven, command, command == Command.APPLY ? Path.of(positional.get(1)) : null, exitOnError);
    }

    private static Command command(List<String> positional) {
        if (positional.isEmpty()) {
            return Command.NODE;
        }
        String name = positional.get(0);
        Command command = switch (name) {
            case "apply" -> Command.APPLY;
            case "status" -> Command.STATUS;
            default -> throw new IllegalArgumentException("unknown command " + name + " (apply DIR, status)");
        };
        int arguments = command == Command.APPLY ? 1 : 0;
        if (positional.size() - 1 < arguments) {
            throw new IllegalArgumentException(name + " needs the directory of its migration files");
        }
        if (positional.size() - 1 > arguments) {
            throw new IllegalArgumentException(name + " takes " + (arguments == 0 ? "no argument" : "one directory")
                    + ", not " + String.join(" ", positional.subList(1, positional.size())));
        }
        return command;
    }

    private static String next(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static long number(String text, String option, long min, long max) {
        long value;
        try {
            value = Long.parseLong(text.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a whole number, not '" + text + "'");
        }
        if (value < min || value > max) {
            throw new IllegalArgumentException(option + " must be between " + min + " and " + max);
        }
        return value;
    }
}
