package dev.zdm.fidelity;

import dev.zdm.pg.ConstraintInfo;
import dev.zdm.pg.PgFacts;
import dev.zdm.pg.SqlName;
import dev.zdm.simulator.SimCatalog;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The users table's catalog as one comparable line: columns with their type, NOT NULL and whether they have a
 * default, indexes with validity and uniqueness, CHECK constraints with validation, and from 18 the NOT NULL
 * constraints with their names. Read from the
 * simulator's model or from pg_catalog.
 */
final class CatalogShape {

    static final SqlName USERS = SqlName.of("users");

    private CatalogShape() {
    }

    /**
     * Several tables' catalogs (a shape's tables, {@link TableShapes}), each named by schema; one table is
     * its catalog alone, as before shapes. The model is asked by the name it keys the table under.
     */
    static String of(SimCatalog model, List<SqlName> tables, PgFacts facts) {
        if (tables.size() == 1) {
            return of(model, model.key(tables.get(0)), facts);
        }
        List<String> parts = new ArrayList<>();
        for (SqlName t : tables) {
            String shape;
            try {
                shape = of(model, model.key(t), facts);
            } catch (dev.zdm.protocol.ZdmException e) {
                shape = "missing";
            }
            parts.add(t.schema() + "." + t.value() + " {" + shape + "}");
        }
        return String.join(" ", parts);
    }

    static String of(Connection connection, List<SqlName> tables) throws SQLException {
        if (tables.size() == 1) {
            return of(connection, tables.get(0));
        }
        List<String> parts = new ArrayList<>();
        for (SqlName t : tables) {
            parts.add(t.schema() + "." + t.value() + " {" + of(connection, t) + "}");
        }
        return String.join(" ", parts);
    }

    static String of(SimCatalog model, SqlName table, PgFacts facts) {
        SimCatalog.Table t = model.table(table);
        Map<String, String> columns = new TreeMap<>();
        t.columns().forEach((name, c) -> columns.put(name.value(),
                " " + canonical(facts, c.type().sql()) + column(c.notNull(), c.defaultSql() != null)));
        Map<String, String> indexes = new TreeMap<>();
        model.indexes().forEach((name, i) -> {
            if (i.table().equals(table)) {
                indexes.put(name.value(), index(i.valid(), i.unique()));
            }
        });
        Map<String, String> checks = new TreeMap<>();
        t.checks().forEach((name, c) -> checks.put(name.value(), c.validated() ? " validated" : " NOT VALID"));
        // The catalogue's constraints (checks, keys, foreign keys), of their kind; a column's NOT NULL (18+) apart.
        Map<String, String> notNulls = new TreeMap<>();
        t.constraints().forEach((name, c) -> {
            if (c.kind() == ConstraintInfo.Kind.NOT_NULL) {
                notNulls.put(name.value(), " " + c.columns().get(0).value() + (c.validated() ? "" : " NOT VALID"));
            } else {
                checks.put(name.value(), constraint(c.kind(), c.validated()));
            }
        });
        String shape = render(columns, indexes, checks, notNulls);
        SqlName orders = SqlName.of(CatalogueScripts.ORDERS);
        return table.equals(USERS) && model.tableExists(orders) ? shape + " | " + orders + ": " + of(model, orders, facts)
                : shape;
    }

    private static String constraint(ConstraintInfo.Kind kind, boolean validated) {
        return kind == ConstraintInfo.Kind.CHECK ? (validated ? " validated" : " NOT VALID")
                : " " + kind.name().toLowerCase() + (validated ? "" : " NOT VALID");
    }

    static String of(Connection connection, SqlName table) throws SQLException {
        Map<String, String> columns = new TreeMap<>();
        Map<String, String> indexes = new TreeMap<>();
        Map<String, String> checks = new TreeMap<>();
        Map<String, String> notNulls = new TreeMap<>();
        String quoted = (table.schema() == null ? "" : TableShapes.quote(table.schema()) + ".") + TableShapes.quote(table.value());
        String regclass = "'" + quoted.replace("'", "''") + "'::regclass";
        try (var st = connection.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT attname, attnotnull, atthasdef, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                    + regclass + " AND attnum > 0 AND NOT attisdropped")) {
                while (rs.next()) {
                    columns.put(rs.getString(1), " " + rs.getString(4) + column(rs.getBoolean(2), rs.getBoolean(3)));
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT c.relname, i.indisvalid, i.indisunique FROM pg_index i "
                    + "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = " + regclass)) {
                while (rs.next()) {
                    indexes.put(rs.getString(1), index(rs.getBoolean(2), rs.getBoolean(3)));
                }
            }
            // NOT NULL ('n', from 18) is a column's, shown with it.
            try (ResultSet rs = st.executeQuery("SELECT conname, convalidated, contype FROM pg_constraint WHERE conrelid = "
                    + regclass + " AND contype <> 'n'")) {
                while (rs.next()) {
                    checks.put(rs.getString(1), constraint(ConstraintInfo.Kind.ofContype(rs.getString(3)), rs.getBoolean(2)));
                }
            }
            // From 18 a column's NOT NULL is a named constraint; before, there are none and both sides say so.
            try (ResultSet rs = st.executeQuery("SELECT c.conname, a.attname, c.convalidated FROM pg_constraint c"
                    + " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] WHERE c.conrelid = "
                    + regclass + " AND c.contype = 'n'")) {
                while (rs.next()) {
                    notNulls.put(rs.getString(1), " " + rs.getString(2) + (rs.getBoolean(3) ? "" : " NOT VALID"));
                }
            }
            if (table.equals(USERS)) {
                try (ResultSet rs = st.executeQuery("SELECT to_regclass('" + CatalogueScripts.ORDERS + "') IS NOT NULL")) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        return render(columns, indexes, checks, notNulls) + " | " + CatalogueScripts.ORDERS + ": "
                                + of(connection, SqlName.of(CatalogueScripts.ORDERS));
                    }
                }
            }
        }
        return render(columns, indexes, checks, notNulls);
    }

    /**
     * A type as a message names it, as format_type prints it: int → integer, varchar(20) → character varying(20),
     * timestamp(3) with time zone → itself (the typmod of a time type sits after its first word).
     */
    static String canonical(PgFacts facts, String type) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^([^(\\[]*?)\\s*(\\([^)]*\\))?\\s*([^(\\[]*?)\\s*((?:\\[[^]]*\\])*)$")
                .matcher(type.trim());
        if (!m.matches()) {
            return type;
        }
        String base = (m.group(1) + " " + m.group(3)).trim().replaceAll("\\s+", " ");
        String typmod = m.group(2) == null ? "" : m.group(2).replace(" ", "");
        String arrays = m.group(4).replace(" ", "");
        String name = facts.canonicalType(base).orElse(base);
        int space = name.indexOf(' ');
        boolean timeType = name.startsWith("timestamp ") || name.startsWith("time ");
        return (timeType && !typmod.isEmpty() ? name.substring(0, space) + typmod + name.substring(space) : name + typmod)
                + arrays;
    }

    private static String column(boolean notNull, boolean hasDefault) {
        return (notNull ? " NOT NULL" : "") + (hasDefault ? " DEFAULT" : "");
    }

    private static String index(boolean valid, boolean unique) {
        return (unique ? " unique" : "") + (valid ? "" : " INVALID");
    }

    private static String render(Map<String, String> columns, Map<String, String> indexes, Map<String, String> checks,
                                 Map<String, String> notNulls) {
        return "columns: " + join(columns) + "; indexes: " + join(indexes) + "; checks: " + join(checks)
                + (notNulls.isEmpty() ? "" : "; not null constraints: " + join(notNulls));
    }

    private static String join(Map<String, String> entries) {
        List<String> parts = new ArrayList<>();
        entries.forEach((name, what) -> parts.add(name + what));
        return parts.isEmpty() ? "none" : String.join(", ", parts);
    }
}
