package dev.zdm.fidelity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.LockMode;
import dev.zdm.protocol.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Scripts of the catalogue's messages (issue 14): a table of orders made with create_table, whose
 * foreign key references users, an application transaction in each of the eight lock modes (or idle)
 * on users or on orders, then one or two of add_constraint (check, foreign key, unique, primary key),
 * validate_constraint, drop_constraint, set_not_null, drop_not_null, set_default, drop_default,
 * drop_index, drop_column and create_table again. Every row of users satisfies every check and key
 * generated here, and orders is empty, so no VALIDATE or unique build turns on data.
 */
final class CatalogueScripts {

    /** The table the scripts make; {@link FuzzIT#resetUsers} drops it between scripts. */
    static final String ORDERS = "fuzz_orders";
    /** A name that needs quoting and a keyword, as constraint names. */
    static final String[] CONSTRAINT_NAMES = {"users_email_at", "Check Me", "select"};
    /**
     * Checks every row satisfies, and checks the server refuses as it analyses them, before any row: one
     * naming a column the table lacks (42703, 20), an aggregate (42803, 12), a window function (42P20,
     * 12), a set-returning function (0A000, 22). Not one whose types only the server's analysis can tell
     * (an operator that does not exist for a column's type, a CHECK that is not boolean): the simulator
     * does not type expressions, and explain says so.
     */
    static final String[] CHECKS = {"email LIKE '%@%'", "length(name) > 0", "id IS NOT NULL", "\"name\" <> ''",
            "no_such_column > 0", "count(*) > 0", "row_number() OVER () > 0", "generate_series(1, 2) > 0",
            "email IS NOT NULL AND name::text <> 'x'"};
    static final String[] USER_COLUMNS = {"email", "name", "id", "no_such_column"};

    private final Random random;

    /** Its own stream, one per script: the generator's other scripts stay what they were. */
    CatalogueScripts(long seed) {
        this.random = new Random(seed);
    }

    Script next(String id) {
        int rows = ScriptGenerator.ROWS[random.nextInt(ScriptGenerator.ROWS.length)];
        Script.Key key = random.nextBoolean() ? Script.Key.BIGINT
                : Script.Key.values()[random.nextInt(Script.Key.values().length)];
        int budgetMs = ScriptGenerator.BUDGETS_MS[random.nextInt(ScriptGenerator.BUDGETS_MS.length)];
        List<ObjectNode> messages = new ArrayList<>();
        boolean orders = random.nextInt(4) != 0;
        if (orders) {
            messages.add(createOrders(budgetMs, key));
        }
        if (random.nextInt(10) < 7) {
            messages.add(openTransaction(orders && random.nextInt(3) == 0 ? ORDERS : "users", budgetMs));
        }
        int operations = 1 + (random.nextInt(3) == 0 ? 1 : 0);
        for (int i = 0; i < operations; i++) {
            ObjectNode op = operation(orders, key);
            op.put("max_lock_duration_ms", budgetMs);
            messages.add(op);
        }
        return new Script(id, rows, key, messages);
    }

    /** orders (id, user_id of users' key type or another, note); keyed or not. */
    private ObjectNode createOrders(int budgetMs, Script.Key key) {
        ObjectNode m = message("create_table");
        m.put("table", ORDERS);
        ObjectNode columns = m.putObject("columns");
        columns.putObject("id").put("type", pick(new String[] {"bigint", "bigserial", "int"}));
        String userType = switch (key) {
            case UUID -> "uuid";
            case TEXT -> "text";
            default -> "bigint";
        };
        columns.putObject("user_id").put("type", random.nextInt(5) == 0 ? "int" : userType);
        ObjectNode note = columns.putObject("note").put("type", "text");
        if (random.nextBoolean()) {
            note.put("default", "none");
        }
        if (random.nextBoolean()) {
            note.put("nullable", false);
        }
        if (random.nextInt(3) != 0) {
            m.putArray("primary_key").add("id");
        }
        m.put("max_lock_duration_ms", budgetMs);
        return m;
    }

    private ObjectNode openTransaction(String table, int budgetMs) {
        ObjectNode m = message("open_transaction");
        m.put("session", ScriptGenerator.SESSION);
        m.put("table", table);
        int mode = random.nextInt(LockMode.values().length + 1);
        if (mode < LockMode.values().length) {
            m.put("mode", LockMode.values()[mode].sqlName());
        }
        double factor = random.nextBoolean() ? 0.3 : 8.0;
        m.put("duration_seconds", Math.round(budgetMs * factor) / 1000.0);
        return m;
    }

    private ObjectNode operation(boolean orders, Script.Key key) {
        int which = random.nextInt(orders ? 14 : 12);
        return switch (which) {
            case 0 -> check();
            case 1 -> key("unique");
            case 2 -> key("primary_key");
            case 3 -> onUsers("validate_constraint", "constraint", pick(new String[] {"users_pkey", CONSTRAINT_NAMES[0],
                    "no_such_constraint"}));
            case 4 -> onUsers("drop_constraint", "constraint", pick(new String[] {"users_pkey", "users_id_key",
                    "no_such_constraint"}));
            case 5 -> onUsers("set_not_null", "column", pick(USER_COLUMNS));
            case 6 -> onUsers("drop_not_null", "column", pick(USER_COLUMNS));
            case 7 -> setDefault(key);
            case 8 -> onUsers("drop_default", "column", pick(USER_COLUMNS));
            case 9 -> dropIndex();
            case 10 -> dropColumn();
            case 11 -> refusedTable();
            case 12 -> foreignKey();
            default -> createOrders(0, Script.Key.BIGINT);
        };
    }

    private ObjectNode check() {
        ObjectNode m = onUsers("add_constraint", "constraint", pick(CONSTRAINT_NAMES));
        m.put("constraint_type", "check");
        m.put("check", pick(CHECKS));
        if (random.nextInt(4) == 0) {
            m.put("validate", false);
        }
        return m;
    }

    private ObjectNode key(String type) {
        ObjectNode m = onUsers("add_constraint", "constraint", random.nextBoolean() ? "users_" + type : pick(CONSTRAINT_NAMES));
        m.put("constraint_type", type);
        var columns = m.putArray("columns");
        columns.add(pick(new String[] {"email", "name", "id"}));
        if (random.nextInt(4) == 0) {
            columns.add("email".equals(columns.get(0).asText()) ? "name" : "email");
        }
        return m;
    }

    private ObjectNode foreignKey() {
        ObjectNode m = message("add_constraint");
        m.put("table", ORDERS);
        m.put("constraint", random.nextBoolean() ? "orders_user_fk" : pick(CONSTRAINT_NAMES));
        m.put("constraint_type", "foreign_key");
        m.putArray("columns").add("user_id");
        ObjectNode references = m.putObject("references");
        references.put("table", "users");
        references.putArray("columns").add(random.nextInt(4) == 0 ? "email" : "id");
        if (random.nextBoolean()) {
            m.put("on_delete", pick(new String[] {"CASCADE", "SET NULL", "RESTRICT"}));
        }
        if (random.nextInt(4) == 0) {
            m.put("validate", false);
        }
        return m;
    }

    /**
     * A default of the column's type (users' key decides id's), or a constant that is not a value of it
     * ('x' for a bigint id: 22P02, 22 on both). Not an expression of another type (md5(...) for a bigint:
     * 42804): the simulator does not type expressions, only the server's analysis can tell.
     */
    private ObjectNode setDefault(Script.Key key) {
        String column = pick(USER_COLUMNS);
        ObjectNode m = onUsers("set_default", "column", column);
        boolean number = column.equals("id") && key != Script.Key.UUID && key != Script.Key.TEXT;
        if (column.equals("id") && key == Script.Key.UUID) {
            // gen_random_uuid() from 13: before, both engines refuse the unknown function (12).
            m.put("default_sql", "gen_random_uuid()");
        } else if (random.nextInt(4) == 0) {
            // A constant of another type: refused where the column's type reads no such value.
            m.set("default", Json.MAPPER.valueToTree(pick(new String[] {"x", "12abc", "{1,2"})));
        } else if (random.nextBoolean()) {
            m.set("default", number ? Json.MAPPER.valueToTree(0) : Json.MAPPER.valueToTree("x"));
        } else {
            m.put("default_sql", number ? pick(new String[] {"42", "(random() * 100)::bigint"})
                    : pick(new String[] {"md5(random()::text)", "'y' || 'z'", "now()::text"}));
        }
        return m;
    }

    /**
     * A create_table the server refuses as it analyses the statement (a system column's name: 42701, 21; a
     * schema that does not exist: 3F000, 20; a default its type's input function refuses, a subquery or a
     * column in a DEFAULT: 22), or one it takes though the default does not fit its modifier (CREATE
     * stores the cast and does not run it): orders, so that the next script starts without it.
     */
    private ObjectNode refusedTable() {
        ObjectNode m = message("create_table");
        m.put("table", ORDERS);
        ObjectNode columns = m.putObject("columns");
        columns.putObject("id").put("type", "bigint");
        switch (random.nextInt(7)) {
            case 0 -> columns.putObject("xmin").put("type", "int");
            case 1 -> m.put("schema", "no_such_schema");
            case 2 -> columns.putObject("qty").put("type", "int").put("default", "abc");
            case 3 -> columns.putObject("tags").put("type", "int[]").put("default", "{1,2");
            case 4 -> columns.putObject("qty").put("type", "int").put("default_sql", "(SELECT 1)");
            case 5 -> columns.putObject("qty").put("type", "bigint").put("default_sql", "id + 1");
            default -> columns.putObject("code").put("type", "varchar(3)").put("default", "abcdef");
        }
        return m;
    }

    private ObjectNode dropIndex() {
        ObjectNode m = message("drop_index");
        m.put("index", pick(new String[] {"users_pkey", "users_id_key", "no_such_index"}));
        if (random.nextInt(4) == 0) {
            m.put("concurrently", false);
        }
        return m;
    }

    private ObjectNode dropColumn() {
        ObjectNode m = onUsers("drop_column", "column", pick(USER_COLUMNS));
        if (random.nextInt(3) == 0) {
            m.put("cascade", true);
        }
        return m;
    }

    private static ObjectNode onUsers(String type, String field, String value) {
        ObjectNode m = message(type);
        m.put("table", "users");
        m.put(field, value);
        return m;
    }

    private static ObjectNode message(String type) {
        ObjectNode m = Json.MAPPER.createObjectNode();
        m.put("type", type);
        return m;
    }

    private String pick(String[] values) {
        return values[random.nextInt(values.length)];
    }
}
