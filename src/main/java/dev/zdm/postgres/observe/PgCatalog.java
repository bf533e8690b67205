package dev.zdm.postgres.observe;

import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ColumnGeneration;
import dev.zdm.pg.ConstraintInfo;
import dev.zdm.pg.DataType;
import dev.zdm.pg.DomainType;
import dev.zdm.pg.KeyColumn;
import dev.zdm.pg.Lineage;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.UniqueKey;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The catalog as the server has it, read from pg_catalog. A table is the relation PostgreSQL finds for
 * the name on this connection ({@code to_regclass} of the quoted name: through the search_path, or
 * in the schema the request named), the same one zdm's statements then reach. Every answer is a fresh
 * query: another client may change the schema between two requests.
 */
public final class PgCatalog implements CatalogView {

    /**
     * How a read of the table's rows runs: under the lock budget with the lock observer live, a lost
     * lock race answered as error 14 (the engine supplies it; catalog reads take no table lock).
     */
    public interface Guard {
        <T> T read(SqlName table, String doing, Query<T> query);
    }

    private final Backend backend;
    private final Guard guard;

    public PgCatalog(Backend backend, Guard guard) {
        this.backend = backend;
        this.guard = guard;
    }

    @Override
    public Presence schema(String name) {
        return query("looking up schema " + name, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_namespace WHERE nspname = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Presence.PRESENT : Presence.ABSENT;
                }
            }
        });
    }

    @Override
    public boolean tableExists(SqlName table) {
        return query("looking up table " + table, c -> tableOid(c, table).isPresent());
    }

    @Override
    public Set<SqlName> columns(SqlName table) {
        return query("reading the columns of " + table, c -> {
            Set<SqlName> columns = new LinkedHashSet<>();
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT a.attname FROM pg_attribute a
                    WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum""")) {
                ps.setString(1, table.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        plainName(rs.getString(1)).ifPresent(columns::add);
                    }
                }
            }
            return columns;
        });
    }

    /** row_security_active is the server's own test (check_enable_rls), for this role and its row_security setting. */
    @Override
    public Optional<String> rowSecurity(SqlName table) {
        return query("reading whether row security applies to " + table, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT row_security_active(c.oid), c.relforcerowsecurity, current_user
                    FROM pg_class c WHERE c.oid = to_regclass(?) AND c.relrowsecurity""")) {
                ps.setString(1, table.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || !rs.getBoolean(1)) {
                        return Optional.<String>empty();
                    }
                    return Optional.of("row-level security" + (rs.getBoolean(2) ? " (FORCE ROW LEVEL SECURITY)" : "")
                            + " applies to role " + rs.getString(3));
                }
            }
        });
    }

    @Override
    public Optional<Boolean> indexUnique(SqlName index) {
        return query("reading whether index " + index + " is unique", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT i.indisunique FROM pg_index i"
                    + " JOIN pg_class x ON x.oid = i.indexrelid WHERE x.relnamespace = " + NAMESPACE + " AND x.relname = ?")) {
                bindNamespace(ps, index);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getBoolean(1)) : Optional.<Boolean>empty();
                }
            }
        });
    }

    @Override
    public Optional<List<SqlName>> indexColumns(SqlName index) {
        return query("reading the columns of index " + index, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
                                 LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o)
                    FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
                    WHERE x.relnamespace = """ + NAMESPACE + " AND x.relname = ?")) {
                bindNamespace(ps, index);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<List<SqlName>>empty();
                    }
                    List<SqlName> columns = new java.util.ArrayList<>();
                    for (String name : (String[]) rs.getArray(1).getArray()) {
                        columns.add(name == null ? null : plainName(name).orElse(null));
                    }
                    return Optional.of(columns);
                }
            }
        });
    }

    /** The engine asks its own server before running, so a refused constant leaves no half-done operation. */
    @Override
    public Optional<dev.zdm.protocol.ZdmException> constantRefusal(DataType type, String text) {
        return query("checking a constant of type " + type, c -> dev.zdm.schema.InputFunctionProbe.refusal(c, type, text));
    }

    @Override
    public Optional<dev.zdm.protocol.ZdmException> evaluationRefusal(dev.zdm.pg.SqlExpression expression) {
        return query("evaluating the default " + expression.text(),
                c -> dev.zdm.schema.InputFunctionProbe.evaluationRefusal(c, expression));
    }

    @Override
    public boolean asksServerAboutConstants() {
        return true;
    }

    /** max(attnum): a dropped column keeps its number, and the 1,600-column limit counts numbers. */
    @Override
    public int attributeNumbers(SqlName table) {
        return query("counting the attribute numbers of " + table, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT coalesce(max(a.attnum), 0) FROM pg_attribute a WHERE a.attrelid = to_regclass(?) AND a.attnum > 0""")) {
                ps.setString(1, table.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        });
    }

    @Override
    public Optional<IndexState> index(SqlName name) {
        return query("looking up index " + name, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT i.indisvalid FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
                    WHERE x.relnamespace = """ + NAMESPACE + " AND x.relname = ?")) {
                bindNamespace(ps, name);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getBoolean(1) ? IndexState.VALID : IndexState.INVALID)
                            : Optional.empty();
                }
            }
        });
    }

    /**
     * Any relation of the name's schema (the current one, where an unqualified CREATE puts it): tables,
     * indexes, sequences, views share pg_class's name space.
     */
    /** As the statement will resolve it: to_regclass under this connection's search_path. */
    @Override
    public Presence relationNamed(SqlName name) {
        return query("looking up relation " + name, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
                ps.setString(1, name.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1) ? Presence.PRESENT : Presence.ABSENT;
                }
            }
        });
    }

    @Override
    public boolean relationExists(SqlName name) {
        return query("looking up relation " + name, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = """ + NAMESPACE
                    + " AND relname = ?)")) {
                bindNamespace(ps, name);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            }
        });
    }

    @Override
    public List<UniqueKey> uniqueKeys(SqlName table) {
        return query("reading the unique keys of " + table, c -> {
            List<UniqueKey> keys = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT x.relname, i.indisprimary,
                           ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                                 WHERE k.ord <= array_length(i.indclass::oid[], 1) ORDER BY k.ord),
                           ARRAY(SELECT format_type(a.atttypid, a.atttypmod)
                                 FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                                 WHERE k.ord <= array_length(i.indclass::oid[], 1) ORDER BY k.ord)
                    FROM pg_index i
                    JOIN pg_class t ON t.oid = i.indrelid
                    JOIN pg_class x ON x.oid = i.indexrelid
                    WHERE i.indrelid = to_regclass(?) AND i.indisvalid
                      AND NOT EXISTS (SELECT 1 FROM unnest(i.indkey::int2[]) AS n(attnum)
                                      JOIN pg_attribute na ON na.attrelid = i.indrelid AND na.attnum = n.attnum
                                      WHERE NOT na.attnotnull)
                    """ + " AND (" + UniqueKey.PLAIN_ORDER_SQL + ") ORDER BY x.relname")) {
                ps.setString(1, table.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        keyOf(rs.getString(1), rs.getBoolean(2), (String[]) rs.getArray(3).getArray(),
                                (String[]) rs.getArray(4).getArray()).ifPresent(keys::add);
                    }
                }
            }
            return keys;
        });
    }

    /** A key zdm can name (every column a plain name); a type it cannot write is cast by the server's inference. */
    private static Optional<UniqueKey> keyOf(String index, boolean primary, String[] names, String[] types) {
        List<KeyColumn> columns = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            Optional<SqlName> name = plainName(names[i]);
            if (name.isEmpty()) {
                return Optional.empty();
            }
            columns.add(new KeyColumn(name.get(), dataType(types[i])));
        }
        Optional<SqlName> indexName = plainName(index);
        return columns.isEmpty() || indexName.isEmpty() ? Optional.empty()
                : Optional.of(new UniqueKey(indexName.get(), columns, primary));
    }

    /** The type as zdm can write it, or null (the server infers the parameter's type from the column). */
    public static DataType dataType(String formatted) {
        try {
            return DataType.of(formatted);
        } catch (ZdmException e) {
            return null;
        }
    }

    /**
     * attidentity (10+) and attgenerated (12+); an older server has neither column, and no such
     * columns either.
     */
    @Override
    public Map<SqlName, ColumnGeneration> generatedColumns(SqlName table) {
        return query("reading the identity and generated columns of " + table, c -> {
            Map<SqlName, ColumnGeneration> columns = new LinkedHashMap<>();
            int version = c.getMetaData().getDatabaseMajorVersion();
            if (version < 10) {
                return columns;
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT a.attname, a.attidentity::text, "
                    + (version >= 12 ? "a.attgenerated::text" : "''") + """
                     FROM pg_attribute a
                    WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum""")) {
                ps.setString(1, table.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ColumnGeneration kind = ColumnGeneration.of(rs.getString(2), rs.getString(3));
                        if (kind != ColumnGeneration.NONE) {
                            plainName(rs.getString(1)).ifPresent(n -> columns.put(n, kind));
                        }
                    }
                }
            }
            return columns;
        });
    }

    @Override
    public boolean hasRows(SqlName table) {
        return guard.read(table, "checking whether " + table + " has rows", c -> {
            // The name is a checked SqlName, always quoted: nothing else can reach this statement. ONLY: the
            // table's own rows, as the model counts them (children count apart), and no lock on a child.
            try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM ONLY " + table.quoted() + ")");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        });
    }

    @Override
    public List<String> rightsLacking(SqlName table) {
        return query("checking the role's rights on " + table, c -> {
            // Ownership as PostgreSQL checks it (a member of the owning role owns); a superuser has all three.
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT pg_has_role(relowner, 'USAGE'), has_table_privilege(oid, 'UPDATE'),
                           has_table_privilege(oid, 'SELECT')
                    FROM pg_class WHERE oid = to_regclass(?)""")) {
                ps.setString(1, table.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    List<String> lacking = new ArrayList<>();
                    if (rs.next()) {
                        if (!rs.getBoolean(1)) {
                            lacking.add("ownership");
                        }
                        if (!rs.getBoolean(2)) {
                            lacking.add("UPDATE");
                        }
                        if (!rs.getBoolean(3)) {
                            lacking.add("SELECT");
                        }
                    }
                    return lacking;
                }
            }
        });
    }

    /**
     * True when any function the expression calls has a volatile overload (pg_proc.provolatile = 'v'):
     * PostgreSQL then evaluates the DEFAULT per row, which rewrites the table. Checking every overload
     * errs towards the safe path, which is correct whatever the expression means.
     */
    @Override
    public boolean isVolatile(SqlExpression expression) {
        Set<String> names = expression.functionNames();
        if (names.isEmpty()) {
            return false;
        }
        return query("checking the volatility of " + names, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = ANY (?) AND provolatile = 'v')")) {
                ps.setArray(1, c.createArrayOf("text", names.toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            }
        });
    }

    /**
     * pg_type's row for a domain of that name: its default as the server prints it (typdefault, which a
     * domain over a domain inherits when it names none) and whether it or any domain it is built on
     * carries NOT NULL or a CHECK (the typcache checks the whole chain). The default's volatility is pg_proc's, as for any default.
     */
    @Override
    public Optional<DomainType> domain(DataType type) {
        Optional<String[]> row = query("looking up type " + type, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    WITH RECURSIVE chain(oid, depth) AS (
                        SELECT t.oid, 0 FROM pg_type t WHERE t.oid = to_regtype(?) AND t.typtype = 'd'
                        UNION ALL
                        SELECT b.oid, c.depth + 1 FROM chain c JOIN pg_type d ON d.oid = c.oid
                        JOIN pg_type b ON b.oid = d.typbasetype AND b.typtype = 'd')
                    SELECT max(x.typdefault) FILTER (WHERE c.depth = 0),
                           bool_or(x.typnotnull OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.contypid = x.oid))
                    FROM chain c JOIN pg_type x ON x.oid = c.oid HAVING count(*) > 0""")) {
                ps.setString(1, type.sql());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new String[] {rs.getString(1), Boolean.toString(rs.getBoolean(2))})
                            : Optional.<String[]>empty();
                }
            }
        });
        return row.map(r -> new DomainType(r[0], r[0] != null && defaultIsVolatile(r[0]), Boolean.parseBoolean(r[1])));
    }

    /** A default zdm could not re-use as an expression is taken as volatile: the safe side. */
    private boolean defaultIsVolatile(String defaultSql) {
        try {
            return isVolatile(new SqlExpression(defaultSql));
        } catch (ZdmException e) {
            return true;
        }
    }

    /**
     * The first read of a request (the handler checks the schema before the engine runs anything): a
     * connection that died while the node was idle is replaced and the read made again, as the
     * engine's own first statement would be, rather than costing the request an error.
     */
    @Override
    public String tableSchema(SqlName table) {
        if (table.schema() != null) {
            return table.schema();
        }
        try {
            return tableSchemaOnce(table);
        } catch (ZdmException e) {
            if (e.code() != dev.zdm.protocol.ErrorCode.CRASH) {
                throw e;
            }
            return tableSchemaOnce(table);
        }
    }

    private String tableSchemaOnce(SqlName table) {
        return query("looking up the schema of " + table, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT n.nspname FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
                    WHERE t.oid = to_regclass(?)""")) {
                ps.setString(1, table.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
    }

    /**
     * The schema of the table's own relations, named only where an unqualified name would not reach it:
     * the table is not in the current schema (a role's own schema comes first on its search_path).
     */
    @Override
    public String schemaOf(SqlName table) {
        if (table.schema() != null) {
            return table.schema();
        }
        return query("looking up the schema of " + table, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT n.nspname FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
                    WHERE t.oid = to_regclass(?) AND n.nspname IS DISTINCT FROM current_schema()""")) {
                ps.setString(1, table.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
    }

    @Override
    public Optional<ColumnFacts> columnFacts(SqlName table, SqlName column) {
        return query("reading column " + table + "." + column, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT pg_get_expr(d.adbin, d.adrelid), a.attnotnull, format_type(a.atttypid, a.atttypmod)
                    FROM pg_attribute a
                    JOIN pg_class t ON t.oid = a.attrelid
                    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                    WHERE t.oid = to_regclass(?) AND t.relkind IN ('r', 'p')
                      AND a.attname = ? AND a.attnum > 0 AND NOT a.attisdropped""")) {
                ps.setString(1, table.quoted());
                ps.setString(2, column.value());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new ColumnFacts(typeOrNull(rs.getString(3)), rs.getString(1),
                            rs.getBoolean(2))) : Optional.<ColumnFacts>empty();
                }
            }
        });
    }

    /** pg_attribute alone (pg_get_expr would open the table, and wait behind ACCESS EXCLUSIVE). */
    @Override
    public DataType columnType(SqlName table, SqlName column) {
        return query("reading the type of " + table + "." + column, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                    WHERE a.attrelid = to_regclass(?) AND a.attname = ? AND a.attnum > 0 AND NOT a.attisdropped""")) {
                ps.setString(1, table.quoted());
                ps.setString(2, column.value());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? typeOrNull(rs.getString(1)) : null;
                }
            }
        });
    }

    @Override
    public Optional<SqlName> indexTable(SqlName index) {
        return query("looking up the table of index " + index, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT t.relname FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
                    JOIN pg_class t ON t.oid = i.indrelid
                    WHERE x.relnamespace = """ + NAMESPACE + " AND x.relname = ?")) {
                bindNamespace(ps, index);
                try (ResultSet rs = ps.executeQuery()) {
                    // The index lives in its table's schema: the table is named in the index's.
                    return rs.next() ? plainName(rs.getString(1)).map(index::sibling) : Optional.<SqlName>empty();
                }
            }
        });
    }

    /**
     * A key's index is conindid; a foreign key's conindid is the referenced key's index, which is not
     * the foreign key's own, so it is left out. Constraints whose names zdm cannot express are skipped.
     */
    private static final String CONSTRAINTS = """
            SELECT t.relname, c.conname, c.contype, c.convalidated,
              ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),
              CASE WHEN c.contype IN ('u', 'p', 'x') THEN ix.relname END, rt.relname,
              ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o),
              c.confupdtype
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            LEFT JOIN pg_class ix ON ix.oid = c.conindid
            LEFT JOIN pg_class rt ON rt.oid = c.confrelid
            WHERE %s = to_regclass(?) ORDER BY c.conname""";

    @Override
    public List<ConstraintInfo> constraints(SqlName table) {
        return constraintsWhere("t.oid", table, "reading the constraints of " + table);
    }

    @Override
    public List<ConstraintInfo> referencing(SqlName table) {
        return constraintsWhere("c.contype = 'f' AND rt.oid", table, "reading the foreign keys to " + table);
    }

    private List<ConstraintInfo> constraintsWhere(String column, SqlName value, String doing) {
        return query(doing, c -> {
            List<ConstraintInfo> all = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(String.format(CONSTRAINTS, column))) {
                ps.setString(1, value.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        // A table's own constraints are on the table as named (its schema kept).
                        Optional<SqlName> owner = column.equals("t.oid") ? Optional.of(value) : plainName(rs.getString(1));
                        Optional<SqlName> name = plainName(rs.getString(2));
                        if (owner.isEmpty() || name.isEmpty()) {
                            continue;
                        }
                        all.add(new ConstraintInfo(owner.get(), name.get(), ConstraintInfo.Kind.ofContype(rs.getString(3)),
                                names(rs.getArray(5)), rs.getBoolean(4), plainName(rs.getString(6)).orElse(null),
                                plainName(rs.getString(7)).orElse(null), names(rs.getArray(8)),
                                ConstraintInfo.Action.ofCode(String.valueOf(rs.getString(9)))));
                    }
                }
            }
            return all;
        });
    }

    private static List<SqlName> names(java.sql.Array array) throws SQLException {
        List<SqlName> names = new ArrayList<>();
        if (array != null) {
            for (Object name : (Object[]) array.getArray()) {
                plainName(String.valueOf(name)).ifPresent(names::add);
            }
        }
        return names;
    }

    /** A type zdm can name, or null (another schema's, a quoted name). */
    private static DataType typeOrNull(String formatted) {
        try {
            return DataType.of(formatted);
        } catch (ZdmException e) {
            return null;
        }
    }

    @Override
    public boolean hasUniqueIndexOn(SqlName table, Set<SqlName> columns) {
        return query("looking for a unique index of " + table, c -> {
            // indnkeyatts (the key's columns, without INCLUDE's) from 11; before, every column is the key's.
            String keyAtts = c.getMetaData().getDatabaseMajorVersion() >= 11 ? "i.indnkeyatts" : "i.indnatts";
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
                      WHERE t.oid = to_regclass(?)
                        AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
                        AND KEYATTS = cardinality(?::text[])
                        AND (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a
                             WHERE a.attrelid = t.oid AND a.attnum = ANY (i.indkey[0:KEYATTS - 1]))
                            = (SELECT array_agg(x ORDER BY x) FROM unnest(?::text[]) x))""".replace("KEYATTS", keyAtts))) {
                ps.setString(1, table.quoted());
                java.sql.Array names = c.createArrayOf("text", columns.stream().map(SqlName::value).toArray());
                ps.setArray(2, names);
                ps.setArray(3, names);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            }
        });
    }

    /**
     * pg_depend on the column (refobjsubid = its attnum): indexes (a partitioned table's are relkind 'I',
     * and DROP COLUMN drops them and every partition's with them), constraints and views (their rewrite
     * rules), but not the column's own NOT NULL, a constraint from 18 that goes with it as it always did;
     * and the foreign keys of other tables whose referenced columns include it (they depend on
     * the key's index, not on the column).
     */
    @Override
    public List<String> dependents(SqlName table, SqlName column) {
        List<String> all = query("reading what depends on " + table + "." + column, c -> {
            List<String> found = new ArrayList<>();
            Optional<Long> oid = tableOid(c, table);
            if (oid.isEmpty()) {
                return found;
            }
            try (PreparedStatement ps = c.prepareStatement(dev.zdm.pg.ColumnDependents.SQL)) {
                ps.setArray(1, c.createArrayOf("oid", new Long[] {oid.get()}));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        if (rs.getString(2).equals(column.value())) {
                            found.add(rs.getString(3));
                        }
                    }
                }
            }
            // Sorted here, not by the database's collation, so both engines name them in one order.
            java.util.Collections.sort(found);
            return found;
        });
        for (ConstraintInfo fk : referencing(table)) {
            if (!fk.table().equals(table) && fk.refColumns().contains(column)) {
                all.add("constraint " + fk.name() + " on table " + fk.table());
            }
        }
        return all;
    }

    @Override
    public boolean constraintExists(SqlName name) {
        return query("looking up constraint " + name, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE connamespace = """ + NAMESPACE
                    + " AND conname = ?)")) {
                bindNamespace(ps, name);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            }
        });
    }

    /**
     * Partitioning and inheritance as the catalog has them (pg_partitioned_table, pg_inherits,
     * relispartition: all since PostgreSQL 10; an older server has inheritance only). A key column
     * numbered 0 is an expression, named by no column.
     */
    private static final String PARTITION_KEY = """
            ARRAY(SELECT a.attname FROM pg_partitioned_table p
                  CROSS JOIN LATERAL unnest(p.partattrs::int2[]) WITH ORDINALITY AS k(attnum, ord)
                  LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k.attnum AND k.attnum > 0
                  WHERE p.partrelid = t.oid ORDER BY k.ord)""";
    /** The partition key's expressions as text, and the table's columns, of which they may name some. */
    private static final String KEY_EXPRESSIONS = """
            (SELECT pg_get_expr(p.partexprs, p.partrelid) FROM pg_partitioned_table p WHERE p.partrelid = t.oid),
              ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped)""";
    private static final String LINEAGE = """
            SELECT %s, %s,
              ARRAY(SELECT n.nspname FROM pg_inherits i JOIN pg_class r ON r.oid = i.inhparent
                    JOIN pg_namespace n ON n.oid = r.relnamespace WHERE i.inhrelid = t.oid ORDER BY i.inhseqno),
              ARRAY(SELECT r.relname FROM pg_inherits i JOIN pg_class r ON r.oid = i.inhparent
                    WHERE i.inhrelid = t.oid ORDER BY i.inhseqno),
              ARRAY(SELECT n.nspname FROM pg_inherits i JOIN pg_class r ON r.oid = i.inhrelid
                    JOIN pg_namespace n ON n.oid = r.relnamespace WHERE i.inhparent = t.oid ORDER BY r.oid),
              ARRAY(SELECT r.relname FROM pg_inherits i JOIN pg_class r ON r.oid = i.inhrelid
                    WHERE i.inhparent = t.oid ORDER BY r.oid),
              %s, current_schema(), t.relkind = 'f', %s
            FROM pg_class t WHERE t.oid = to_regclass(?) AND t.relkind IN ('r', 'p', 'f')""";

    @Override
    public Lineage lineage(SqlName table) {
        return query("reading the partitions and children of " + table, c -> {
            boolean ten = c.getMetaData().getDatabaseMajorVersion() >= 10;
            String sql = ten ? LINEAGE.formatted("t.relkind = 'p'", PARTITION_KEY, "t.relispartition", KEY_EXPRESSIONS)
                    : LINEAGE.formatted("false", "ARRAY[]::name[]", "false", "NULL::text, ARRAY[]::name[]");
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, table.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Lineage.ORDINARY;
                    }
                    String current = rs.getString(8);
                    List<SqlName> key = null;
                    if (rs.getBoolean(1)) {
                        key = new ArrayList<>();
                        for (String column : (String[]) rs.getArray(2).getArray()) {
                            key.add(column == null ? null : plainName(column).orElse(null));
                        }
                    }
                    return new Lineage(tables((String[]) rs.getArray(3).getArray(), (String[]) rs.getArray(4).getArray(), current),
                            rs.getBoolean(7), key,
                            tables((String[]) rs.getArray(5).getArray(), (String[]) rs.getArray(6).getArray(), current),
                            rs.getBoolean(9), keyExpressionColumns(rs.getString(10), (String[]) rs.getArray(11).getArray()));
                }
            }
        });
    }

    private static Set<SqlName> keyExpressionColumns(String expressions, String[] columns) {
        List<SqlName> names = new ArrayList<>();
        for (String column : columns) {
            plainName(column).ifPresent(names::add);
        }
        return Lineage.columnsIn(expressions, names);
    }

    @Override
    public Optional<SqlName> attachedIndex(SqlName parentIndex, SqlName partition) {
        return query("looking up the index of " + partition + " attached to " + parentIndex, c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT x.relname FROM pg_inherits h JOIN pg_index i ON i.indexrelid = h.inhrelid
                    JOIN pg_class x ON x.oid = i.indexrelid
                    WHERE h.inhparent = (SELECT oid FROM pg_class WHERE relnamespace = """ + NAMESPACE + """
                     AND relname = ?) AND i.indrelid = to_regclass(?)""")) {
                bindNamespace(ps, parentIndex);
                ps.setString(3, partition.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    // An index lives in its table's schema: named as the partition is.
                    return rs.next() ? plainName(rs.getString(1)).map(partition::sibling) : Optional.<SqlName>empty();
                }
            }
        });
    }

    @Override
    public Optional<SqlName> parentIndex(SqlName index) {
        return query("looking up the index " + index + " is attached to", c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT p.relname, n.nspname, p.relnamespace = x.relnamespace
                    FROM pg_class x JOIN pg_inherits h ON h.inhrelid = x.oid
                    JOIN pg_class p ON p.oid = h.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
                    WHERE x.relnamespace = """ + NAMESPACE + " AND x.relname = ? AND x.relkind IN ('i', 'I')")) {
                bindNamespace(ps, index);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<SqlName>empty();
                    }
                    // A partition's index lives in the partition's schema, which may not be its parent's.
                    boolean sameSchema = rs.getBoolean(3);
                    String schema = rs.getString(2);
                    return plainName(rs.getString(1)).map(n -> sameSchema ? index.sibling(n) : SqlName.table(schema, n.value()));
                }
            }
        });
    }

    /** Tables named as the planner names them: bare in the current schema, where a bare name finds them first. */
    private static List<SqlName> tables(String[] schemas, String[] names, String current) {
        List<SqlName> tables = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            String schema = schemas[i].equals(current) ? null : schemas[i];
            if (SqlName.valid(names[i])) {
                tables.add(SqlName.table(schema, names[i]));
            }
        }
        return tables;
    }

    /**
     * The table's oid: the relation PostgreSQL resolves the name to on this connection, as the
     * statements will. It survives a rewrite, unlike relfilenode.
     */
    public static Optional<Long> tableOid(Connection c, SqlName table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT oid FROM pg_class WHERE oid = to_regclass(?) AND relkind IN ('r', 'p')""")) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
            }
        }
    }

    /** The namespace of a name: its schema if it has one, else the current schema (where CREATE puts it). */
    private static final String NAMESPACE =
            "(SELECT oid FROM pg_namespace WHERE nspname = coalesce(?::text, current_schema()::text))";

    private static void bindNamespace(PreparedStatement ps, SqlName name) throws SQLException {
        ps.setString(1, name.schema());
        ps.setString(2, name.value());
    }

    /** Columns created outside zdm may have names zdm cannot express; they are skipped, not fatal. */
    private static Optional<SqlName> plainName(String name) {
        try {
            return Optional.of(new SqlName(name));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    public interface Query<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T query(String doing, Query<T> query) {
        try {
            return query.run(backend.connection());
        } catch (SQLException e) {
            if (PgErrors.connectionLost(e)) {
                backend.discard();
            }
            throw PgErrors.toReply(e, doing);
        }
    }
}
