package dev.zdm.schema;

import dev.zdm.pg.ColumnGeneration;
import dev.zdm.pg.DataType;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.UniqueKey;
import dev.zdm.protocol.ZdmException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Reads a live database's schema from its catalog, read-only: one READ ONLY transaction of SELECTs on
 * pg_class, pg_attribute, pg_attrdef, pg_index, pg_constraint, pg_inherits, pg_partitioned_table and pg_stat_user_tables, rolled back at the
 * end. Nothing is written, no lock is taken beyond the ACCESS SHARE every catalog read takes, so it is
 * safe against production. The tables are those of every schema on the connection's search_path (the
 * first one's by their bare names, the others' qualified: an unqualified name in a request then finds
 * them in search_path order, as the server would) and of every other schema the role may use, qualified,
 * since a request's {@code schema} may name one the search_path does not hold (a run would find it); row counts are the planner's estimate (pg_class.reltuples, or the statistics' live tuples
 * when the table was never analyzed), which is what the server itself plans with.
 */
public final class CatalogReader {

    private static final String RELATIONS = """
            SELECT c.oid, c.relname, c.relkind, c.reltuples::float8, COALESCE(s.n_live_tup, 0), n.nspname,
                   pg_has_role(c.relowner, 'USAGE'), has_table_privilege(c.oid, 'UPDATE'), has_table_privilege(c.oid, 'SELECT')
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
            WHERE c.relkind NOT IN ('t')
              AND (n.nspname = ANY (current_schemas(false))
                   OR (has_schema_privilege(n.oid, 'USAGE')
                       -- pg_catalog, pg_toast, pg_temp_N, pg_toast_temp_N: no user may name a schema pg_*.
                       AND left(n.nspname, 3) <> 'pg_' AND n.nspname NOT IN ('information_schema', 'zdm')))
            ORDER BY array_position(current_schemas(false), n.nspname) NULLS LAST, n.nspname, c.relname""";
    private static final String COLUMNS = """
            SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid), %s, %s
            FROM pg_attribute a
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = ANY (?) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attrelid, a.attnum""";
    private static final String INDEXES = """
            SELECT i.indrelid, c.relname, i.indisunique, i.indisvalid, i.indisprimary,
                   ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                         WHERE k.ord <= array_length(i.indclass::oid[], 1) ORDER BY k.ord),
                   (""" + UniqueKey.PLAIN_ORDER_SQL + """
            ), (SELECT p.relname FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent WHERE h.inhrelid = i.indexrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = ANY (?)
            ORDER BY c.relname""";
    private static final String CONSTRAINTS = """
            SELECT conrelid, conname, contype, pg_get_constraintdef(oid), convalidated
            FROM pg_constraint WHERE conrelid = ANY (?) AND contype IN ('c', 'u', 'p', 'f', 'x', 'n')
            ORDER BY conname""";
    /** Every link of a table read to its parent (both read): a parent the role may not see leaves its child ordinary. */
    private static final String INHERITS = """
            SELECT i.inhrelid, i.inhparent, %s FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhrelid = ANY (?) AND i.inhparent = ANY (?)
            ORDER BY i.inhrelid, i.inhseqno""";
    /** The partition key's columns in order, null for an expression (attnum 0). */
    private static final String PARTITION_KEYS = """
            SELECT p.partrelid, ARRAY(SELECT a.attname FROM unnest(p.partattrs::int2[]) WITH ORDINALITY AS k(attnum, ord)
                                      LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k.attnum AND k.attnum > 0
                                      ORDER BY k.ord),
                   pg_get_expr(p.partexprs, p.partrelid),
                   ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = p.partrelid AND a.attnum > 0
                         AND NOT a.attisdropped)
            FROM pg_partitioned_table p WHERE p.partrelid = ANY (?)""";
    /** 'n': a column's NOT NULL, a named constraint from 18 (ServerVersion.notNullIsConstraint). */
    private static final Map<String, String> CONSTRAINT_TYPES = Map.of("c", "check", "u", "unique",
            "p", "primary_key", "f", "foreign_key", "x", "exclusion", "n", "not_null");

    /** 'i' < 's' < 'v': the greatest code is the strongest volatility over a name's overloads. */
    private static final String USER_FUNCTIONS = """
            SELECT p.proname, max(p.provolatile::text) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') GROUP BY p.proname""";
    /**
     * A type the search_path does not reach is found by a qualified name only: it is kept as "." + its
     * name, so that a bare name finds it no more than the server's type lookup does.
     */
    private static final String USER_TYPES = """
            SELECT DISTINCT CASE WHEN pg_type_is_visible(t.oid) THEN '' ELSE '.' END || t.typname
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')""";

    /** The same facts the PostgreSQL engine reads for a domain (PgCatalog.domain): a CHECK anywhere down its chain counts. */
    private static final String USER_DOMAINS = """
            WITH RECURSIVE chain(top, oid) AS (
                SELECT t.oid, t.oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE t.typtype = 'd' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                  AND pg_type_is_visible(t.oid)
                UNION ALL
                SELECT c.top, b.oid FROM chain c JOIN pg_type d ON d.oid = c.oid
                JOIN pg_type b ON b.oid = d.typbasetype AND b.typtype = 'd')
            SELECT t.typname, t.typdefault,
                   bool_or(x.typnotnull OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.contypid = x.oid))
            FROM chain c JOIN pg_type t ON t.oid = c.top JOIN pg_type x ON x.oid = c.oid
            GROUP BY t.typname, t.typdefault""";

    private CatalogReader() {
    }

    /** The schema of the database at {@code url}; {@code log} hears what was left out and why. */
    public static Schema read(String url, Consumer<String> log) throws SQLException {
        try (Connection c = SchemaSource.parse(url).connect()) {
            return readOnly(c, log);
        }
    }

    /**
     * The schema, read on {@code c} (a connection of its own, idle) in one READ ONLY transaction rolled
     * back at the end: nothing is written, which the transaction's id (none assigned) proves.
     */
    public static Schema readOnly(Connection c, Consumer<String> log) throws SQLException {
        c.setReadOnly(true);
        c.setAutoCommit(false);
        try {
            try (var s = c.createStatement()) {
                s.execute("SET TRANSACTION READ ONLY");
                s.execute("SET LOCAL statement_timeout = '60s'");
                s.execute("SET LOCAL lock_timeout = '5s'");
            }
            Schema schema = read(c, log);
            try (var s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT txid_current_if_assigned()")) {
                rs.next();
                if (rs.getObject(1) != null) {
                    // Only a write assigns a transaction id: this must never happen, so say it loudly if it does.
                    throw new IllegalStateException("the schema reader's transaction was assigned an id: it wrote");
                }
            }
            return schema;
        } finally {
            c.rollback();
        }
    }

    /** Reads with a connection the caller holds, inside its transaction. */
    public static Schema read(Connection c, Consumer<String> log) throws SQLException {
        int versionNum;
        try (var s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_setting('server_version_num')::int")) {
            rs.next();
            versionNum = rs.getInt(1);
        }
        // 90600 is 9.6, 150004 is 15.4: the major version is what the model's facts are keyed on.
        int major = versionNum / 10_000;

        List<String> searchPath = new ArrayList<>();
        try (var s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_schemas(false)")) {
            rs.next();
            searchPath.addAll(List.of((String[]) rs.getArray(1).getArray()));
        }
        Map<Long, SqlName> tableNames = new LinkedHashMap<>();
        Set<Long> foreign = new HashSet<>();
        Map<Long, List<String>> rightsLacking = new HashMap<>();
        Map<Long, Long> rows = new HashMap<>();
        Set<SqlName> others = new LinkedHashSet<>();
        try (var s = c.createStatement(); ResultSet rs = s.executeQuery(RELATIONS)) {
            while (rs.next()) {
                SqlName bare = plain(rs.getString(2), "relation", log);
                if (bare == null) {
                    continue;
                }
                String schema = rs.getString(6);
                // A search_path that names no schema there is (empty, or only a missing "$user"): every name qualified.
                SqlName name = !searchPath.isEmpty() && schema.equals(searchPath.get(0)) ? bare : SqlName.table(schema, bare.value());
                String kind = rs.getString(3);
                if (kind.equals("f")) {
                    // A foreign table is read as a table (a partition may be one), flagged so the planner refuses to walk it.
                    foreign.add(rs.getLong(1));
                }
                if (kind.equals("r") || kind.equals("p") || kind.equals("f")) {
                    // What the role may not do to it, as the real engine's PgCatalog asks before running.
                    List<String> lacking = new ArrayList<>();
                    if (!rs.getBoolean(7)) {
                        lacking.add("ownership");
                    }
                    if (!rs.getBoolean(8)) {
                        lacking.add("UPDATE");
                    }
                    if (!rs.getBoolean(9)) {
                        lacking.add("SELECT");
                    }
                    rightsLacking.put(rs.getLong(1), lacking);
                    tableNames.put(rs.getLong(1), name);
                    // reltuples is -1 (14+) or 0 on a table never vacuumed or analyzed; then the live tuples.
                    double reltuples = rs.getDouble(4);
                    rows.put(rs.getLong(1), reltuples > 0 ? Math.round(reltuples) : Math.max(0, rs.getLong(5)));
                } else if (!kind.equals("i") && !kind.equals("I")) {
                    others.add(name);
                }
            }
        }
        Long[] oids = tableNames.keySet().toArray(new Long[0]);
        Array oidArray = c.createArrayOf("oid", oids);

        Map<Long, Map<SqlName, Schema.Column>> columns = new HashMap<>();
        // attidentity since 10, attgenerated since 12: an older server has no such columns.
        String columnsSql = COLUMNS.formatted(major >= 10 ? "a.attidentity::text" : "''",
                major >= 12 ? "a.attgenerated::text" : "''");
        try (PreparedStatement ps = c.prepareStatement(columnsSql)) {
            ps.setArray(1, oidArray);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    SqlName name = plain(rs.getString(2), "column", log);
                    if (name != null) {
                        columns.computeIfAbsent(rs.getLong(1), k -> new LinkedHashMap<>()).put(name,
                                new Schema.Column(type(rs.getString(3)), rs.getString(5), !rs.getBoolean(4),
                                        ColumnGeneration.of(rs.getString(6), rs.getString(7))));
                    }
                }
            }
        }
        readColumnDependents(c, oidArray, columns);
        Map<Long, Map<SqlName, Schema.Index>> indexes = new HashMap<>();
        Map<Long, List<SqlName>> primaryKeys = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(INDEXES)) {
            ps.setArray(1, oidArray);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    SqlName name = plain(rs.getString(2), "index", log);
                    List<SqlName> on = new ArrayList<>();
                    for (String column : (String[]) rs.getArray(6).getArray()) {
                        SqlName n = plain(column, "column", log);
                        if (n != null) {
                            on.add(n);
                        }
                    }
                    if (name == null) {
                        continue;
                    }
                    if (rs.getBoolean(5)) {
                        primaryKeys.put(rs.getLong(1), on);
                    }
                    indexes.computeIfAbsent(rs.getLong(1), k -> new LinkedHashMap<>()).put(name,
                            new Schema.Index(on, rs.getBoolean(3), rs.getBoolean(4), rs.getBoolean(7),
                                    rs.getString(8) == null ? null : plain(rs.getString(8), "index", log)));
                }
            }
        }
        Map<Long, Map<SqlName, Schema.Constraint>> constraints = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(CONSTRAINTS)) {
            ps.setArray(1, oidArray);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    SqlName name = plain(rs.getString(2), "constraint", log);
                    if (name != null) {
                        constraints.computeIfAbsent(rs.getLong(1), k -> new LinkedHashMap<>()).put(name,
                                new Schema.Constraint(CONSTRAINT_TYPES.get(rs.getString(3)), rs.getString(4),
                                        rs.getBoolean(5)));
                    }
                }
            }
        }
        Map<Long, dev.zdm.pg.Lineage> lineage = lineage(c, major, oidArray, tableNames, log);
        for (Long oid : foreign) {
            dev.zdm.pg.Lineage l = lineage.getOrDefault(oid, dev.zdm.pg.Lineage.ORDINARY);
            lineage.put(oid, l.asForeign());
        }
        Map<Long, String> rowSecurity = rowSecurity(c, oidArray);
        Map<SqlName, Schema.Table> tables = new LinkedHashMap<>();
        tableNames.forEach((oid, name) -> tables.put(name, new Schema.Table(rows.get(oid),
                columns.getOrDefault(oid, Map.of()), primaryKeys.getOrDefault(oid, List.of()),
                indexes.getOrDefault(oid, Map.of()), constraints.getOrDefault(oid, Map.of()), lineage.get(oid),
                rightsLacking.get(oid), rowSecurity.get(oid))));
        return new Schema(major, tables, others, userObjects(c), searchPath);
    }

    /**
     * The tables whose row-level security applies to the reading role (row_security_active, the server's
     * own test), with why: the simulator refuses a job there as the engine does (PgCatalog.rowSecurity).
     */
    private static Map<Long, String> rowSecurity(Connection c, Array oids) throws SQLException {
        Map<Long, String> found = new HashMap<>();
        try (var ps = c.prepareStatement("SELECT c.oid, c.relforcerowsecurity, current_user FROM pg_class c"
                + " WHERE c.oid = ANY (?) AND c.relrowsecurity AND row_security_active(c.oid)")) {
            ps.setArray(1, oids);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.put(rs.getLong(1), "row-level security" + (rs.getBoolean(2) ? " (FORCE ROW LEVEL SECURITY)" : "")
                            + " applies to role " + rs.getString(3));
                }
            }
        }
        return found;
    }

    /**
     * Each table's parents and partition key (PostgreSQL 10+ partitions; inheritance on any version),
     * the children left for {@link Schema} to derive. A partitioned table whose key names a column zdm
     * cannot hold is left ordinary, with a word in the log.
     */
    private static Map<Long, dev.zdm.pg.Lineage> lineage(Connection c, int major, Array oids, Map<Long, SqlName> tableNames,
                                                         Consumer<String> log) throws SQLException {
        Map<Long, List<SqlName>> parents = new HashMap<>();
        Map<Long, Boolean> partition = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(INHERITS.formatted(major >= 10 ? "c.relispartition" : "false"))) {
            ps.setArray(1, oids);
            ps.setArray(2, oids);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    parents.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(tableNames.get(rs.getLong(2)));
                    partition.put(rs.getLong(1), rs.getBoolean(3));
                }
            }
        }
        Map<Long, List<SqlName>> keys = new HashMap<>();
        Map<Long, Set<SqlName>> keyExpressionColumns = new HashMap<>();
        if (major >= 10) {
            try (PreparedStatement ps = c.prepareStatement(PARTITION_KEYS)) {
                ps.setArray(1, oids);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        List<SqlName> key = new ArrayList<>();
                        for (String column : (String[]) rs.getArray(2).getArray()) {
                            key.add(column == null ? null : plain(column, "partition key column", log));
                        }
                        keys.put(rs.getLong(1), key);
                        keyExpressionColumns.put(rs.getLong(1), dev.zdm.pg.Lineage.columnsIn(rs.getString(3),
                                plainNames((String[]) rs.getArray(4).getArray())));
                    }
                }
            }
        }
        Map<Long, dev.zdm.pg.Lineage> lineage = new HashMap<>();
        for (Long oid : tableNames.keySet()) {
            if (parents.containsKey(oid) || keys.containsKey(oid)) {
                lineage.put(oid, new dev.zdm.pg.Lineage(parents.getOrDefault(oid, List.of()),
                        partition.getOrDefault(oid, false), keys.get(oid), List.of(), false,
                        keyExpressionColumns.getOrDefault(oid, Set.of())));
            }
        }
        return lineage;
    }

    /** The names zdm can spell; the others no expression of a request can set either. */
    private static List<SqlName> plainNames(String[] names) {
        List<SqlName> plain = new ArrayList<>();
        for (String name : names) {
            try {
                plain.add(new SqlName(name));
            } catch (RuntimeException unspellable) {
                // Not a name a request can set.
            }
        }
        return plain;
    }

    /** Functions and types outside pg_catalog and information_schema: an extension's, the user's. */
    private static Schema.UserObjects userObjects(Connection c) throws SQLException {
        Map<String, Character> functions = new HashMap<>();
        try (var s = c.createStatement(); ResultSet rs = s.executeQuery(USER_FUNCTIONS)) {
            while (rs.next()) {
                functions.put(rs.getString(1), rs.getString(2).charAt(0));
            }
        }
        Set<String> types = new LinkedHashSet<>();
        try (var s = c.createStatement(); ResultSet rs = s.executeQuery(USER_TYPES)) {
            while (rs.next()) {
                types.add(rs.getString(1));
            }
        }
        Map<String, Schema.Domain> domains = new HashMap<>();
        try (var s = c.createStatement(); ResultSet rs = s.executeQuery(USER_DOMAINS)) {
            while (rs.next()) {
                domains.put(rs.getString(1), new Schema.Domain(rs.getString(2), rs.getBoolean(3)));
            }
        }
        Set<String> schemas = new LinkedHashSet<>();
        try (var s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT nspname FROM pg_namespace")) {
            while (rs.next()) {
                schemas.add(rs.getString(1));
            }
        }
        return new Schema.UserObjects(functions, types, domains, schemas);
    }

    /** A type zdm can write (text, varchar(20), timestamp with time zone); else unknown. */
    private static DataType type(String formatted) {
        try {
            return DataType.of(formatted);
        } catch (ZdmException e) {
            return null;
        }
    }

    /** A name a message can use: any the server holds (a name is exact); the check stays as a guard. */
    private static SqlName plain(String name, String what, Consumer<String> log) {
        try {
            return new SqlName(name);
        } catch (ZdmException e) {
            log.accept("schema: the " + what + " \"" + name + "\" is not a name zdm can hold; left out");
            return null;
        }
    }

    /**
     * The generated columns' inputs and the views on each column (pg_depend, {@link
     * dev.zdm.pg.ColumnDependents}), written into {@code columns}: what a simulated DROP COLUMN names.
     */
    private static void readColumnDependents(Connection c, Array oids, Map<Long, Map<SqlName, Schema.Column>> columns)
            throws SQLException {
        Map<Long, Map<SqlName, List<SqlName>>> reads = new HashMap<>();
        Map<Long, Map<SqlName, List<SqlName>>> views = new HashMap<>();
        Map<Long, Map<SqlName, List<String>>> others = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(dev.zdm.pg.ColumnDependents.SQL)) {
            ps.setArray(1, oids);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String dependent = rs.getString(3);
                    SqlName column = quietName(rs.getString(2));
                    if (column == null) {
                        continue;
                    }
                    if (dependent.startsWith("generated column ")) {
                        SqlName generated = quietName(dependent.substring("generated column ".length()));
                        if (generated != null) {
                            reads.computeIfAbsent(rs.getLong(1), k -> new HashMap<>())
                                    .computeIfAbsent(generated, k -> new ArrayList<>()).add(column);
                        }
                    } else if (dependent.startsWith("view ")) {
                        SqlName view = quietName(dependent.substring("view ".length()));
                        if (view != null) {
                            views.computeIfAbsent(rs.getLong(1), k -> new HashMap<>())
                                    .computeIfAbsent(column, k -> new ArrayList<>()).add(view);
                        }
                    } else if (dependent.startsWith("trigger ") || dependent.startsWith("policy ")) {
                        others.computeIfAbsent(rs.getLong(1), k -> new HashMap<>())
                                .computeIfAbsent(column, k -> new ArrayList<>()).add(dependent);
                    }
                }
            }
        }
        columns.forEach((oid, named) -> named.replaceAll((name, column) -> column.withDependents(
                reads.getOrDefault(oid, Map.of()).getOrDefault(name, List.of()),
                views.getOrDefault(oid, Map.of()).getOrDefault(name, List.of()),
                others.getOrDefault(oid, Map.of()).getOrDefault(name, List.of()))));
    }

    /** A name zdm can express, or null (a name it cannot is not one a request can name either). */
    private static SqlName quietName(String name) {
        try {
            return new SqlName(name);
        } catch (dev.zdm.protocol.ZdmException e) {
            return null;
        }
    }
}
