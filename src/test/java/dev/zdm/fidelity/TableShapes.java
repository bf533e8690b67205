package dev.zdm.fidelity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The tables users have, for the fuzzer: each script runs on one shape of table (a key type, a composite
 * key, a table in another schema, identity and generated columns, constrained types, a foreign key,
 * inheritance, partitions). A shape makes its tables on the server, names the tables whose catalogs are
 * compared, and turns the generator's messages on {@code users} into messages on its own tables (the
 * holder on the table a shape is about: the referenced table, a partition, a child), adding the
 * operations only it has.
 *
 * <p>Which shapes the generator draws from is {@value #PROPERTY} (comma-separated family names, e.g.
 * {@code keys,schema,foreign_key}; {@code all} for every one); the default is those that agree today.
 * A script's shape is drawn from a random of its own, so the generator's stream, and a keys script, are
 * the same whichever shapes are on.
 */
final class TableShapes {

    static final String PROPERTY = "zdm.fuzz.shapes";
    /** The shapes on which the simulator and PostgreSQL agree today (see docs/fuzz-triage.md). */
    static final String DEFAULT = "keys,composite,identity,schema,search_path,constrained,inheritance,foreign_key,partitioned";

    /** Types a constant may not fit (made once per server, like ScriptGenerator.DOMAINS). */
    static final List<String> TYPES_MADE_ONCE = List.of(
            "TYPE public.fuzz_mood AS ENUM ('happy', 'sad')",
            "DOMAIN public.fuzz_code AS varchar(3) CHECK (VALUE <> 'bad')");

    /** A shape of table, and the family name that switches it on. */
    enum Shape {
        KEYS("keys"),
        COMPOSITE("composite"),
        SCHEMA("schema"),
        SEARCH_PATH("search_path"),
        IDENTITY_ALWAYS("identity"),
        IDENTITY_BY_DEFAULT("identity"),
        CONSTRAINED("constrained"),
        FOREIGN_KEY("foreign_key"),
        INHERITANCE("inheritance"),
        PARTITIONED_RANGE("partitioned"),
        PARTITIONED_LIST("partitioned");

        final String family;

        Shape(String family) {
            this.family = family;
        }

        /**
         * Whether a range of id is a range of the key, whose rows the simulator counts: not on a composite key
         * (tenant_id, id) or (id, region), as the generator asks one only of a single integer key; nor on range
         * partitions, whose ids each start where the partition's bound does (the model counts each table's keys
         * from 1: the bounds are data it does not hold).
         */
        boolean keyLeadsWithId() {
            return this != COMPOSITE && this != PARTITIONED_LIST && this != PARTITIONED_RANGE;
        }

        /**
         * Whether a message's outcome turns on rows the simulator cannot see: a foreign-key column set to a
         * constant only the referenced table's rows can say is there (customers holds 1 to 5).
         */
        boolean dependsOnData(ObjectNode message, int rows) {
            return this == FOREIGN_KEY && rows > 0 && message.path("set").path("customer_id").asText().equals("6");
        }

        /** The schema of the table the messages are about (SCHEMA: another; SEARCH_PATH: the $user schema). */
        String schema() {
            return switch (this) {
                case SCHEMA -> OTHER_SCHEMA;
                case SEARCH_PATH -> USER_SCHEMA;
                default -> "public";
            };
        }

        /** The tables whose catalogs are compared, the main one first. */
        List<SqlName> compared() {
            return switch (this) {
                case SCHEMA, SEARCH_PATH -> List.of(SqlName.table(schema(), "users"), SqlName.table("public", "users"));
                case FOREIGN_KEY -> List.of(pub("users"), pub("customers"));
                case INHERITANCE -> List.of(pub("users"), pub("users_kid1"), pub("users_kid2"));
                case PARTITIONED_RANGE -> List.of(pub("users"), pub("users_p1"), pub("users_p2"), pub("users_p3"),
                        pub("users_p3a"), pub("users_p3b"));
                case PARTITIONED_LIST -> List.of(pub("users"), pub("users_eu"), pub("users_us"), pub("users_us_low"),
                        pub("users_us_high"), pub("users_other"));
                // Bare, as the fuzzer always named users (the search_path's first schema).
                default -> List.of(CatalogShape.USERS);
            };
        }

        /** The statements that make the shape's tables, of {@code rows} rows in users, on a server of this major. */
        List<String> setup(int rows, Script.Key key, int version) {
            String rowsOf = "FROM generate_series(1, " + rows + ") g";
            String noVacuum = " WITH (autovacuum_enabled = false)";
            List<String> sql = new ArrayList<>();
            switch (this) {
                case KEYS -> {
                    sql.add("CREATE TABLE public.users (" + key.columns + ")" + noVacuum);
                    sql.add("INSERT INTO public.users SELECT " + key.idOfRow + ", " + EMAIL_NAME + rowsOf);
                }
                case COMPOSITE -> {
                    sql.add("CREATE TABLE public.users (tenant_id int NOT NULL, id bigint NOT NULL, email text, name text,"
                            + " PRIMARY KEY (tenant_id, id))" + noVacuum);
                    sql.add("INSERT INTO public.users SELECT g % 7, g, " + EMAIL_NAME + rowsOf);
                }
                case SCHEMA, SEARCH_PATH -> {
                    sql.add("CREATE SCHEMA " + quote(schema()));
                    sql.add("CREATE TABLE " + quote(schema()) + ".users (id bigint PRIMARY KEY, email text, name text)" + noVacuum);
                    sql.add("INSERT INTO " + quote(schema()) + ".users SELECT g, " + EMAIL_NAME + rowsOf);
                    // A table of the same name in public: a name must find the one its schema (or the path) says.
                    sql.add("CREATE TABLE public.users (id uuid PRIMARY KEY, email text)" + noVacuum);
                    sql.add("INSERT INTO public.users SELECT md5(g::text)::uuid, 'decoy' || g FROM generate_series(1, 10) g");
                }
                case IDENTITY_ALWAYS, IDENTITY_BY_DEFAULT -> {
                    String how = this == IDENTITY_ALWAYS ? "ALWAYS" : "BY DEFAULT";
                    // Stored generated columns are PostgreSQL 12's.
                    String generated = version >= 12 ? ", email_lower text GENERATED ALWAYS AS (lower(email)) STORED" : "";
                    sql.add("CREATE TABLE public.users (id bigint GENERATED " + how + " AS IDENTITY PRIMARY KEY, email text,"
                            + " name text" + generated + ")" + noVacuum);
                    sql.add("INSERT INTO public.users (id, email, name) OVERRIDING SYSTEM VALUE SELECT g, " + EMAIL_NAME
                            + rowsOf);
                    sql.add("SELECT setval(pg_get_serial_sequence('public.users', 'id'), " + Math.max(rows, 1) + ")");
                }
                case CONSTRAINED -> {
                    sql.add("CREATE TABLE public.users (id bigint PRIMARY KEY, email text, name text, code varchar(3),"
                            + " amount numeric(5,2), mood public.fuzz_mood, tag public.fuzz_code, addr inet, scores int[])"
                            + noVacuum);
                    sql.add("INSERT INTO public.users SELECT g, " + EMAIL_NAME + ", 'c' || g % 10, g % 100, 'happy', 'ok',"
                            + " '10.0.0.1', ARRAY[g] " + rowsOf);
                }
                case FOREIGN_KEY -> {
                    sql.add("CREATE TABLE public.customers (id bigint PRIMARY KEY, name text)" + noVacuum);
                    sql.add("INSERT INTO public.customers SELECT g, 'customer ' || g FROM generate_series(1, 5) g");
                    sql.add("CREATE TABLE public.users (id bigint PRIMARY KEY, email text, name text,"
                            + " customer_id bigint REFERENCES public.customers)" + noVacuum);
                    sql.add("INSERT INTO public.users SELECT g, " + EMAIL_NAME + ", g % 5 + 1 " + rowsOf);
                    sql.add("ANALYZE public.customers");
                }
                case INHERITANCE -> {
                    sql.add("CREATE TABLE public.users (id bigint PRIMARY KEY, email text, name text)" + noVacuum);
                    sql.add("CREATE TABLE public.users_kid1 (PRIMARY KEY (id)) INHERITS (public.users)" + noVacuum);
                    sql.add("CREATE TABLE public.users_kid2 () INHERITS (public.users)" + noVacuum);
                    sql.add("INSERT INTO public.users SELECT g, " + EMAIL_NAME + rowsOf);
                    sql.add("INSERT INTO public.users_kid1 SELECT g, 'kid' || g || '@example.com', 'kid ' || g"
                            + " FROM generate_series(100001, 100000 + " + rows + ") g");
                    sql.add("INSERT INTO public.users_kid2 SELECT g, 'kid' || g || '@example.com', 'kid ' || g"
                            + " FROM generate_series(200001, 200000 + " + rows / 2 + ") g");
                    sql.add("ANALYZE public.users_kid1");
                    sql.add("ANALYZE public.users_kid2");
                }
                case PARTITIONED_RANGE -> {
                    // A primary key on a partitioned table is PostgreSQL 11's.
                    String pk = version >= 11 ? ", PRIMARY KEY (id)" : "";
                    sql.add("CREATE TABLE public.users (id bigint NOT NULL, email text, name text" + pk
                            + ") PARTITION BY RANGE (id)");
                    sql.add("CREATE TABLE public.users_p1 PARTITION OF public.users FOR VALUES FROM (MINVALUE) TO (1000)"
                            + noVacuum);
                    sql.add("CREATE TABLE public.users_p2 PARTITION OF public.users FOR VALUES FROM (1000) TO (2000)"
                            + noVacuum);
                    sql.add("CREATE TABLE public.users_p3 PARTITION OF public.users FOR VALUES FROM (2000) TO (MAXVALUE)"
                            + " PARTITION BY RANGE (id)");
                    sql.add("CREATE TABLE public.users_p3a PARTITION OF public.users_p3 FOR VALUES FROM (2000) TO (2400)"
                            + noVacuum);
                    sql.add("CREATE TABLE public.users_p3b PARTITION OF public.users_p3 FOR VALUES FROM (2400) TO (MAXVALUE)"
                            + noVacuum);
                    sql.add("INSERT INTO public.users SELECT g, " + EMAIL_NAME + rowsOf);
                    for (String leaf : List.of("users_p1", "users_p2", "users_p3a", "users_p3b")) {
                        sql.add("ANALYZE public." + leaf);
                    }
                }
                case PARTITIONED_LIST -> {
                    String pk = version >= 11 ? ", PRIMARY KEY (id, region)" : "";
                    sql.add("CREATE TABLE public.users (id bigint NOT NULL, region text NOT NULL, email text, name text" + pk
                            + ") PARTITION BY LIST (region)");
                    sql.add("CREATE TABLE public.users_eu PARTITION OF public.users FOR VALUES IN ('eu')" + noVacuum);
                    sql.add("CREATE TABLE public.users_us PARTITION OF public.users FOR VALUES IN ('us') PARTITION BY RANGE (id)");
                    sql.add("CREATE TABLE public.users_us_low PARTITION OF public.users_us FOR VALUES FROM (MINVALUE) TO (1000)"
                            + noVacuum);
                    sql.add("CREATE TABLE public.users_us_high PARTITION OF public.users_us FOR VALUES FROM (1000) TO (MAXVALUE)"
                            + noVacuum);
                    // A default partition is PostgreSQL 11's.
                    sql.add("CREATE TABLE public.users_other PARTITION OF public.users "
                            + (version >= 11 ? "DEFAULT" : "FOR VALUES IN ('ap')") + noVacuum);
                    sql.add("INSERT INTO public.users SELECT g, (ARRAY['eu', 'us', 'ap'])[g % 3 + 1], " + EMAIL_NAME + rowsOf);
                    for (String leaf : List.of("users_eu", "users_us_low", "users_us_high", "users_other")) {
                        sql.add("ANALYZE public." + leaf);
                    }
                }
                default -> throw new IllegalStateException(name());
            }
            sql.add("ANALYZE " + quote(schema()) + ".users");
            return sql;
        }

        /** What the table holder locks: the table the shape is about more often than not. */
        SqlName holderTable(Random random) {
            return switch (this) {
                case FOREIGN_KEY -> random.nextInt(4) != 0 ? pub("customers") : pub("users");
                case INHERITANCE -> pick(random, "users", "users_kid1", "users_kid2", "users_kid1");
                case PARTITIONED_RANGE -> pick(random, "users", "users_p1", "users_p3a", "users_p3", "users_p1");
                case PARTITIONED_LIST -> pick(random, "users", "users_eu", "users_us_low", "users_us", "users_other");
                case SCHEMA -> random.nextInt(4) != 0 ? SqlName.table(OTHER_SCHEMA, "users") : pub("users");
                default -> SqlName.table(schema(), "users");
            };
        }

        /** What a migration is about: mostly the shape's main table, sometimes a partition or child. */
        SqlName target(Random random) {
            return switch (this) {
                case INHERITANCE -> random.nextInt(4) == 0 ? pick(random, "users_kid1", "users_kid2") : pub("users");
                case PARTITIONED_RANGE -> random.nextInt(4) == 0 ? pick(random, "users_p1", "users_p3", "users_p3b")
                        : pub("users");
                case PARTITIONED_LIST -> random.nextInt(4) == 0 ? pick(random, "users_eu", "users_us", "users_us_high")
                        : pub("users");
                case FOREIGN_KEY -> random.nextInt(5) == 0 ? pub("customers") : pub("users");
                default -> SqlName.table(schema(), "users");
            };
        }

        /** How a message names the table: with {@code schema}, or bare where the search_path finds it. */
        void address(ObjectNode message, SqlName table, Random random) {
            message.put("table", table.value());
            // Only the schema shapes name a schema: elsewhere a bare name (the search_path's first schema named
            // outright is what the schema shapes try).
            boolean bare = switch (this) {
                // The $user schema comes first on the path: bare names find its users.
                case SEARCH_PATH -> random.nextInt(3) != 0;
                case SCHEMA -> !table.schema().equals(OTHER_SCHEMA) && random.nextBoolean();
                default -> true;
            };
            if (!bare) {
                message.put("schema", table.schema());
            }
        }

        /** An operation only this shape has, or null; {@code budgetMs} as the generator's. */
        ObjectNode operation(Random random, long budgetMs) {
            ObjectNode m = switch (this) {
                case COMPOSITE -> migrateData(random, List.of("tenant_id", "tenant_id", "name", "id"),
                        List.of("tenant_id + 0", "tenant_id", "upper(name)", "id"), List.of("tenant_id = 3", "id <= 500"));
                case IDENTITY_ALWAYS, IDENTITY_BY_DEFAULT -> random.nextInt(4) == 0 ? defaultOf(random,
                        new String[] {"id", "email_lower", "name"}[random.nextInt(3)])
                        : random.nextBoolean()
                        ? migrateData(random, List.of("email_lower", "id", "name"), List.of("'x'", "id", "upper(name)"),
                                List.of("id <= 500"))
                        : migrateData(random, List.of(), List.of(), List.of("id <= 500", "email LIKE '%5%'"));
                case CONSTRAINED -> random.nextBoolean() ? constrainedColumn(random)
                        : migrateData(random, List.of("code", "code", "amount", "amount", "mood", "mood", "tag", "addr",
                                "addr", "scores", "scores"), List.of("'abcdef'", "'ab'", "1000", "12.34", "'angry'",
                                "'sad'", "'bad'", "'not-an-ip'", "'10.1.2.3'", "'{1,2'", "'{1,2}'"), List.of());
                case FOREIGN_KEY -> random.nextInt(3) == 0 ? createIndex("customer_id")
                        : migrateData(random, List.of("customer_id", "customer_id", "customer_id", "name"),
                                List.of("customer_id % 5 + 1", "customer_id", "6", "upper(name)"), List.of("id <= 500"));
                case INHERITANCE -> random.nextInt(3) == 0 ? inherited(random) : null;
                case PARTITIONED_LIST -> random.nextBoolean() ? createIndex("region")
                        : migrateData(random, List.of("region", "name"), List.of("'eu'", "upper(name)"),
                                List.of("region = 'us'"));
                default -> null;
            };
            if (m != null) {
                m.put("max_lock_duration_ms", budgetMs);
            }
            return m;
        }

        private static ObjectNode migrateData(Random random, List<String> columns, List<String> values, List<String> wheres) {
            ObjectNode m = message("migrate_data");
            m.put("batch_size", random.nextBoolean() ? 100 : 1000);
            if (!columns.isEmpty()) {
                int i = random.nextInt(columns.size());
                m.putObject("set").put(columns.get(i), values.get(i));
            }
            if (!wheres.isEmpty() && random.nextInt(3) == 0) {
                m.put("where", wheres.get(random.nextInt(wheres.size())));
            }
            return m;
        }

        /** set_default or drop_default: refused on an identity or generated column (42601, 22 on both). */
        private static ObjectNode defaultOf(Random random, String column) {
            ObjectNode m = message(random.nextBoolean() ? "set_default" : "drop_default");
            m.put("column", column);
            if (m.path("type").asText().equals("set_default")) {
                m.put("default", column.equals("id") ? "7" : "x");
            }
            return m;
        }

        /**
         * What a child inherits, on a child (its table fixed: {@link TableShapes#apply} keeps it): dropping
         * an inherited column or constraint (42P16, 22 on both), or the NOT NULL of a key column (the
         * child's own key, 22; users_kid2's, inherited: dropped before 18, 22 from 18); or what the parent
         * passes on to them (a default, a CHECK).
         */
        private static ObjectNode inherited(Random random) {
            String child = random.nextBoolean() ? "users_kid1" : "users_kid2";
            ObjectNode m = switch (random.nextInt(5)) {
                case 0 -> message("drop_column").put("column", random.nextBoolean() ? "email" : "name");
                case 1 -> message("drop_not_null").put("column", "id");
                case 2 -> message("drop_constraint").put("constraint", "users_id_not_null");
                // On the parent: ALTER TABLE without ONLY reaches the children, whose catalogs are compared.
                case 3 -> message("set_default").put("column", "name").put("default", "x");
                default -> message("add_constraint").put("constraint", "users_name_chk").put("constraint_type", "check")
                        .put("check", "length(name) > 0");
            };
            if (m.has("default") || m.has("check")) {
                child = "users";
            }
            m.put("table", child);
            return m;
        }

        private static ObjectNode createIndex(String column) {
            ObjectNode m = message("create_index");
            m.put("column", column);
            return m;
        }

        /** add_column of a constrained type with a constant that fits it or does not. */
        private static ObjectNode constrainedColumn(Random random) {
            String[][] cases = {
                    {"varchar(3)", "abc"}, {"varchar(3)", "abcdef"}, {"numeric(5,2)", "sql:12.34"},
                    {"numeric(5,2)", "sql:1000"}, {"fuzz_mood", "happy"}, {"fuzz_mood", "angry"},
                    {"fuzz_code", "ok"}, {"fuzz_code", "bad"}, {"fuzz_code", "toolong"}, {"inet", "10.0.0.1"},
                    {"inet", "not-an-ip"}, {"int[]", "sql:'{1,2}'"}, {"int[]", "sql:'{1,2'"},
                    {"char(2)", "abc"}, {"timestamp(3) with time zone", "sql:now()"}};
            String[] c = cases[random.nextInt(cases.length)];
            ObjectNode m = message("add_column");
            m.put("column", "extra");
            m.put("data_type", c[0]);
            if (c[1].startsWith("sql:")) {
                m.put("default_sql", c[1].substring(4));
            } else {
                m.put("default", c[1]);
            }
            if (random.nextInt(3) == 0) {
                m.put("nullable", false);
            }
            return m;
        }
    }

    static final String OTHER_SCHEMA = "Sales";
    /** The role's own schema: "$user" heads the default search_path, so a bare name finds it first. */
    static final String USER_SCHEMA = "postgres";
    private static final String EMAIL_NAME = "'user' || g || '@example.com', 'name ' || g ";

    private final long seed;
    private final List<Shape> enabled;

    TableShapes(long seed, String families) {
        this.seed = seed;
        this.enabled = enabled(families);
    }

    /** The shapes {@value #PROPERTY} switches on. */
    static TableShapes fromProperty(long seed) {
        return new TableShapes(seed, System.getProperty(PROPERTY, DEFAULT));
    }

    static List<Shape> enabled(String families) {
        Set<String> wanted = new java.util.HashSet<>(Arrays.stream(families.split(","))
                .map(s -> s.trim().toLowerCase(Locale.ROOT)).filter(s -> !s.isEmpty()).toList());
        EnumSet<Shape> shapes = EnumSet.noneOf(Shape.class);
        for (Shape s : Shape.values()) {
            if (wanted.contains("all") || wanted.contains(s.family) || wanted.contains(s.name().toLowerCase(Locale.ROOT))) {
                shapes.add(s);
            }
        }
        Set<String> known = new java.util.HashSet<>(List.of("all"));
        for (Shape s : Shape.values()) {
            known.add(s.family);
            known.add(s.name().toLowerCase(Locale.ROOT));
        }
        for (String w : wanted) {
            if (!known.contains(w)) {
                throw new IllegalArgumentException(PROPERTY + ": no shape " + w + "; known: " + known);
            }
        }
        if (shapes.isEmpty()) {
            shapes.add(Shape.KEYS);
        }
        return List.copyOf(shapes);
    }

    List<Shape> enabled() {
        return enabled;
    }

    /**
     * The script on a shape drawn for it: keys leaves it as the generator made it; any other retargets its
     * messages to the shape's tables (a message sent twice stays the same message) and turns some
     * migrations into the shape's own.
     */
    Script apply(Script script, int index) {
        // Seeds one apart give java.util.Random first draws that agree in their high bits (nextInt of a power
        // of two reads only those): with two shapes on, every script drew the first. SplittableRandom mixes.
        Random random = new Random(new java.util.SplittableRandom(seed * 1_000_003L + index).nextLong());
        Shape shape = enabled.get(random.nextInt(enabled.size()));
        if (shape == Shape.KEYS) {
            return script;
        }
        Map<String, ObjectNode> seen = new LinkedHashMap<>();
        List<ObjectNode> messages = new ArrayList<>();
        for (ObjectNode original : script.messages()) {
            ObjectNode again = seen.get(original.toString());
            if (again != null) {
                messages.add(again.deepCopy());
                continue;
            }
            ObjectNode m = original.deepCopy();
            String type = m.path("type").asText();
            if (type.equals("open_transaction")) {
                ObjectNode holder = message("open_transaction");
                holder.put("session", m.path("session").asText());
                shape.address(holder, shape.holderTable(random), random);
                copy(m, holder, "mode", "duration_seconds");
                m = holder;
            } else if (!type.endsWith("_transaction")) {
                boolean missing = m.path("table").asText().equals("no_such_table");
                ObjectNode own = random.nextBoolean() ? shape.operation(random, m.path("max_lock_duration_ms").asLong()) : null;
                m = own != null ? own : m;
                if (!missing && !(own != null && own.has("table"))) {
                    m.remove("table");
                    shape.address(m, shape.target(random), random);
                }
            }
            seen.put(original.toString(), m);
            messages.add(m);
        }
        return new Script(script.id(), script.rows(), Script.Key.BIGINT, messages, shape);
    }

    private static void copy(ObjectNode from, ObjectNode to, String... fields) {
        for (String f : fields) {
            JsonNode v = from.get(f);
            if (v != null) {
                to.set(f, v);
            }
        }
    }

    /** Every shape's objects gone (and the $user schema, which would capture unqualified names). */
    static List<String> dropAll() {
        return List.of("DROP SCHEMA IF EXISTS " + quote(USER_SCHEMA) + " CASCADE",
                "DROP SCHEMA IF EXISTS " + quote(OTHER_SCHEMA) + " CASCADE",
                "DROP TABLE IF EXISTS public.users, public.customers CASCADE");
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    private static SqlName pub(String table) {
        return SqlName.table("public", table);
    }

    private static SqlName pick(Random random, String... tables) {
        return pub(tables[random.nextInt(tables.length)]);
    }

    private static ObjectNode message(String type) {
        ObjectNode m = Json.MAPPER.createObjectNode();
        m.put("type", type);
        return m;
    }
}
