package dev.zdm.fidelity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.LockMode;
import dev.zdm.protocol.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random scripts from a seed: the same seed gives the same scripts. They cover what the simulator
 * claims to model: the three migrations with their options, odd but legal names, types from plain to
 * parser sugar, defaults constant, stable, volatile, NULL and unknown, an application transaction in
 * each of the eight lock modes or none (idle), lasting a fraction or a multiple of the lock budget,
 * and the leftovers of an earlier message (the same column or index again, a failed build, a job
 * sent twice).
 */
final class ScriptGenerator {

    static final String SESSION = "app";
    static final int[] ROWS = {0, 1, 999, 2_500};
    static final int[] BUDGETS_MS = {250, 600};
    static final String[] INDEX_COLUMNS = {"email", "name", "id"};
    /** Legal names a careless planner would mangle: keywords, upper case (kept: a name is exact), the 63-byte limit. */
    static final String[] COLUMN_NAMES = {"status", "order", "User", "x" + "y".repeat(62), "email"};
    static final String[] INDEX_NAMES = {"select", "Idx_Mixed", "i" + "x".repeat(62), "users_pkey", "users"};

    /**
     * Domains on every fuzzed server: one with a volatile default (ADD COLUMN would rewrite), one with a
     * constant default, one with a CHECK (a rewrite whatever the default).
     */
    static final List<String> DOMAINS = List.of(
            "fuzz_rnd AS double precision DEFAULT random()",
            "fuzz_lbl AS text DEFAULT 'x'",
            "fuzz_pos AS integer CHECK (VALUE > 0)");

    /** A type and the defaults that suit it (JSON literals as "default", anything else as "default_sql"). */
    record TypeCase(String type, List<Object> defaults) {
    }

    static final List<TypeCase> TYPES = List.of(
            new TypeCase("text", List.of("active", "sql:NULL", "sql:current_query()", "sql:md5(random()::text)", "sql:'x' || 'y'")),
            new TypeCase("varchar(20)", List.of("a", "sql:NULL")),
            new TypeCase("character varying(40)", List.of("b")),
            new TypeCase("int", List.of(0, 42, "sql:NULL", "sql:(random() * 100)::int")),
            new TypeCase("int4", List.of(7)),
            new TypeCase("bigint", List.of(-1, "sql:nextval('no_such_seq')")),
            new TypeCase("smallint", List.of(1)),
            new TypeCase("numeric(10,2)", List.of(1.5, "sql:random()")),
            new TypeCase("double precision", List.of(0.25, "sql:random_normal()", "sql:random()")),
            new TypeCase("float8", List.of(3)),
            new TypeCase("boolean", List.of(true, "sql:random() > 0.5")),
            new TypeCase("bool", List.of(false)),
            new TypeCase("timestamptz", List.of("sql:now()", "sql:clock_timestamp()", "sql:current_timestamp")),
            new TypeCase("timestamp", List.of("sql:now()", "sql:timeofday()::timestamp")),
            new TypeCase("uuid", List.of("sql:gen_random_uuid()")),
            new TypeCase("jsonb", List.of("sql:'{}'::jsonb")),
            new TypeCase("int[]", List.of("sql:'{}'")),
            new TypeCase("bytea", List.of()),
            new TypeCase("serial", List.of()),
            new TypeCase("bigserial", List.of()),
            new TypeCase("smallserial", List.of()),
            new TypeCase("no_such_type", List.of()),
            new TypeCase("fuzz_rnd", List.of()),
            new TypeCase("fuzz_lbl", List.of()),
            new TypeCase("fuzz_pos", List.of(5)),
            new TypeCase("text", List.of("sql:no_such_function()")));

    private final Random random;
    private final long seed;
    private final TableShapes shapes;
    private int count;

    ScriptGenerator(long seed) {
        this(seed, TableShapes.fromProperty(seed));
    }

    ScriptGenerator(long seed, TableShapes shapes) {
        this.seed = seed;
        this.random = new Random(seed);
        this.shapes = shapes;
    }

    Script next() {
        String id = "seed " + seed + " #" + count++;
        if (count % 3 == 0) {
            return new CatalogueScripts(seed * 31 + count).next(id);
        }
        int rows = pick(ROWS);
        // Most scripts on the bigint key the model was first built for; the rest on every other key.
        Script.Key key = random.nextInt(2) == 0 ? Script.Key.BIGINT
                : Script.Key.values()[random.nextInt(Script.Key.values().length)];
        List<ObjectNode> messages = new ArrayList<>();
        int budget = pick(BUDGETS_MS);
        boolean holder = random.nextInt(10) < 6;
        if (holder) {
            messages.add(openTransaction(budget));
        }
        int operations = 1 + (random.nextInt(3) == 0 ? 1 : 0);
        ObjectNode first = null;
        for (int i = 0; i < operations; i++) {
            ObjectNode op = i == 1 && random.nextBoolean() ? first.deepCopy() : operation(budget, key);
            first = first == null ? op : first;
            messages.add(op);
            if (holder && i == 0 && operations > 1 && random.nextInt(3) == 0) {
                messages.add(closeTransaction());
            }
        }
        return shapes.apply(new Script(id, rows, key, messages), count - 1);
    }

    private ObjectNode openTransaction(int budgetMs) {
        ObjectNode m = message("open_transaction");
        m.put("session", SESSION);
        m.put("table", "users");
        int mode = random.nextInt(LockMode.values().length + 1);
        if (mode < LockMode.values().length) {
            m.put("mode", LockMode.values()[mode].sqlName());
        }
        // Well inside the budget, or well past it and past every retry of two concurrent builds (three
        // budgets and their backoffs each; 8 budgets ended once during a second build's retries on PostgreSQL
        // 18): a real server's scheduling cannot blur the outcome.
        double factor = random.nextBoolean() ? 0.3 : 12.0;
        m.put("duration_seconds", Math.round(budgetMs * factor) / 1000.0);
        return m;
    }

    private static ObjectNode closeTransaction() {
        ObjectNode m = message("close_transaction");
        m.put("session", SESSION);
        return m;
    }

    private ObjectNode operation(int budgetMs, Script.Key key) {
        ObjectNode m = switch (random.nextInt(3)) {
            case 0 -> createIndex();
            case 1 -> addColumn();
            default -> migrateData(key);
        };
        m.put("table", random.nextInt(25) == 0 ? "no_such_table" : "users");
        m.put("max_lock_duration_ms", budgetMs);
        return m;
    }

    private ObjectNode createIndex() {
        ObjectNode m = message("create_index");
        if (random.nextInt(6) == 0) {
            var columns = m.putArray("columns");
            columns.add("name");
            columns.add("email");
        } else {
            int which = random.nextInt(20);
            // status: the column an earlier add_column may have made (with duplicates, if it has a default).
            m.put("column", which == 0 ? "no_such_column" : which < 4 ? "status" : pick(INDEX_COLUMNS));
        }
        if (random.nextInt(3) == 0) {
            m.put("unique", true);
        }
        if (random.nextInt(5) == 0) {
            m.put("concurrently", false);
        }
        if (random.nextInt(4) == 0) {
            m.put("index", pick(INDEX_NAMES));
        }
        return m;
    }

    private ObjectNode addColumn() {
        ObjectNode m = message("add_column");
        m.put("column", pick(COLUMN_NAMES));
        TypeCase type = TYPES.get(random.nextInt(TYPES.size()));
        if (!type.type().equals("text") || random.nextBoolean()) {
            m.put("data_type", type.type());
        }
        if (!type.defaults().isEmpty() && random.nextInt(4) != 0) {
            Object def = type.defaults().get(random.nextInt(type.defaults().size()));
            if (def instanceof String s && s.startsWith("sql:")) {
                m.put("default_sql", s.substring(4));
            } else {
                m.set("default", Json.MAPPER.valueToTree(def));
            }
        }
        if (random.nextInt(3) == 0) {
            m.put("nullable", false);
        }
        if (random.nextInt(8) == 0) {
            m.put("safe", false);
        }
        return m;
    }

    private ObjectNode migrateData(Script.Key key) {
        ObjectNode m = message("migrate_data");
        m.put("batch_size", pick(new int[] {100, 1000, 5000}));
        if (random.nextInt(3) == 0) {
            m.put("total_rows", pick(new int[] {1, 500, 100_000}));
        }
        switch (random.nextInt(4)) {
            case 0 -> m.putObject("set").put("name", "upper(name)");
            case 1 -> m.putObject("set").put("email", "email || ''");
            default -> {
            }
        }
        // A range of the key only where it is one integer (an integer range over a uuid key is a type error).
        switch (random.nextInt(7)) {
            case 0 -> m.put("where", key.integer() ? "id <= 500" : "email LIKE '%5%'");
            case 1 -> m.put("where", "email LIKE '%7%'");
            // A key range beyond every table: nothing to update, yet a batch statement runs.
            case 2 -> m.put("where", key.integer() ? "id > 100000" : "email LIKE '%x%'");
            default -> {
            }
        }
        return m;
    }

    private static ObjectNode message(String type) {
        ObjectNode m = Json.MAPPER.createObjectNode();
        m.put("type", type);
        return m;
    }

    private int pick(int[] values) {
        return values[random.nextInt(values.length)];
    }

    private String pick(String[] values) {
        return values[random.nextInt(values.length)];
    }
}
