package dev.zdm.schema;

import dev.zdm.pg.ColumnGeneration;
import dev.zdm.pg.DataType;
import dev.zdm.pg.Lineage;
import dev.zdm.pg.SqlName;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A database's schema as far as planning needs it: tables with their row counts, columns (type, default,
 * NOT NULL), primary key, indexes and constraints, and the other names taken in the relation name space
 * (views, sequences). Read from a file a user wrote ({@link SchemaFile}) or from a live server's catalog
 * ({@link CatalogReader}); the simulator then knows exactly this and nothing more.
 */
public record Schema(Integer serverVersion, Map<SqlName, Table> tables, Set<SqlName> otherRelations,
                     UserObjects userObjects, List<String> searchPath) {

    /**
     * {@code searchPath}: the schemas an unqualified name is looked up in, in order (the server's
     * current_schemas); empty where it is not known (a file). Tables of its first schema, and of a file's
     * "tables", are keyed by their bare name; a table of any other schema by its qualified name, as are
     * its indexes and the other relations there.
     */
    public Schema {
        tables = java.util.Collections.unmodifiableMap(withChildren(tables));
        otherRelations = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(otherRelations));
        searchPath = searchPath == null ? List.of() : List.copyOf(searchPath);
    }

    /** Each table's children, from every table's parents: a child whose parent is not a table here is an error. */
    private static Map<SqlName, Table> withChildren(Map<SqlName, Table> tables) {
        Map<SqlName, List<SqlName>> children = new LinkedHashMap<>();
        tables.forEach((name, table) -> table.lineage().parents().forEach(parent -> {
            if (!tables.containsKey(parent)) {
                throw new IllegalArgumentException("table " + name + ": its parent " + parent + " is not in the schema");
            }
            children.computeIfAbsent(parent, p -> new java.util.ArrayList<>()).add(name);
        }));
        Map<SqlName, Table> complete = new LinkedHashMap<>();
        tables.forEach((name, table) -> complete.put(name, table.withChildren(children.getOrDefault(name, List.of()))));
        return complete;
    }

    public Schema(Integer serverVersion, Map<SqlName, Table> tables, Set<SqlName> otherRelations,
                  UserObjects userObjects) {
        this(serverVersion, tables, otherRelations, userObjects, List.of());
    }

    /** A schema that says nothing of the database's own functions and types (a hand-written file). */
    public Schema(Integer serverVersion, Map<SqlName, Table> tables, Set<SqlName> otherRelations) {
        this(serverVersion, tables, otherRelations, null);
    }

    /**
     * The functions and types the database has beyond PostgreSQL's own (extensions, the user's): each
     * function by name with its strongest volatility over its overloads ('i', 's', 'v'), each type by
     * name. Null in a schema that does not know them; then any name no PostgreSQL version has is
     * assumed to be one of them.
     */
    /** {@code schemas}: every schema of the database (pg_namespace); null where they are not known. */
    public record UserObjects(Map<String, Character> functions, Set<String> types, Map<String, Domain> domains,
                              Set<String> schemas) {
        public UserObjects {
            functions = Map.copyOf(functions);
            types = Set.copyOf(types);
            domains = Map.copyOf(domains);
            schemas = schemas == null ? null : Set.copyOf(schemas);
        }

        public UserObjects(Map<String, Character> functions, Set<String> types, Map<String, Domain> domains) {
            this(functions, types, domains, null);
        }

        public static final UserObjects NONE = new UserObjects(Map.of(), Set.of(), Map.of());
    }

    /** A domain: its default as the server prints it (null: none), whether it carries NOT NULL or a CHECK. */
    public record Domain(String defaultSql, boolean constrained) {
    }

    /**
     * {@code primaryKey} empty where the table has none. {@code lineage}: its parents and partition key
     * as the source states them (null: an ordinary table); its children are filled in by {@link Schema}
     * from the other tables' parents, so a file names each link once.
     */
    public record Table(long rows, Map<SqlName, Column> columns, List<SqlName> primaryKey, Map<SqlName, Index> indexes,
                        Map<SqlName, Constraint> constraints, Lineage lineage, List<String> rightsLacking,
                        String rowSecurity) {

        /** {@code rowSecurity}: why row-level security applies to the reading role (null: it does not, or unknown). */
        public Table(long rows, Map<SqlName, Column> columns, List<SqlName> primaryKey, Map<SqlName, Index> indexes,
                     Map<SqlName, Constraint> constraints, Lineage lineage, List<String> rightsLacking) {
            this(rows, columns, primaryKey, indexes, constraints, lineage, rightsLacking, null);
        }

        public Table {
            rightsLacking = rightsLacking == null ? List.of() : List.copyOf(rightsLacking);
            columns = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(columns));
            primaryKey = List.copyOf(primaryKey);
            indexes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(indexes));
            constraints = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(constraints));
            lineage = lineage == null ? Lineage.ORDINARY : lineage;
        }

        /** {@code rightsLacking}: what the reading role may not do to it (CatalogView#rightsLacking); a file says none. */
        public Table(long rows, Map<SqlName, Column> columns, List<SqlName> primaryKey, Map<SqlName, Index> indexes,
                     Map<SqlName, Constraint> constraints, Lineage lineage) {
            this(rows, columns, primaryKey, indexes, constraints, lineage, List.of());
        }

        public Table(long rows, Map<SqlName, Column> columns, List<SqlName> primaryKey, Map<SqlName, Index> indexes,
                     Map<SqlName, Constraint> constraints) {
            this(rows, columns, primaryKey, indexes, constraints, null);
        }

        Table withChildren(List<SqlName> children) {
            return new Table(rows, columns, primaryKey, indexes, constraints, lineage.withChildren(children), rightsLacking,
                    rowSecurity);
        }

        /** The CHECK (col IS NOT NULL) constraints, the ones the model follows through validation. */
        public Map<SqlName, NotNullCheck> checks() {
            Map<SqlName, NotNullCheck> checks = new LinkedHashMap<>();
            constraints.forEach((name, c) -> c.notNullColumn().ifPresent(column ->
                    checks.put(name, new NotNullCheck(column, c.validated()))));
            return checks;
        }
    }

    /**
     * {@code type} null where it is not a type zdm can name (a type of another schema, say);
     * {@code generation}: identity or generated, which an UPDATE cannot set; {@code reads}: for a
     * generated column, the columns of its table its expression reads (DROP COLUMN of one of them drops
     * it, or is refused); {@code views}: the views that use the column; {@code others}: the other objects
     * DROP COLUMN would refuse for, as replies name them ("trigger t", "policy p"), read from a server only.
     */
    public record Column(DataType type, String defaultSql, boolean nullable, ColumnGeneration generation,
                         List<SqlName> reads, List<SqlName> views, List<String> others) {
        public Column {
            generation = generation == null ? ColumnGeneration.NONE : generation;
            reads = reads == null ? List.of() : List.copyOf(reads);
            views = views == null ? List.of() : List.copyOf(views);
            others = others == null ? List.of() : List.copyOf(others);
        }

        public Column(DataType type, String defaultSql, boolean nullable, ColumnGeneration generation,
                      List<SqlName> reads, List<SqlName> views) {
            this(type, defaultSql, nullable, generation, reads, views, List.of());
        }

        public Column(DataType type, String defaultSql, boolean nullable, ColumnGeneration generation) {
            this(type, defaultSql, nullable, generation, List.of(), List.of());
        }

        /** The same column, also known to be read by a generated column's expression or by views. */
        public Column withDependents(List<SqlName> reads, List<SqlName> views, List<String> others) {
            return new Column(type, defaultSql, nullable, generation, reads, views, others);
        }

        public Column(DataType type, String defaultSql, boolean nullable) {
            this(type, defaultSql, nullable, ColumnGeneration.NONE);
        }
    }

    /**
     * {@code plainOrder}: the index orders rows as a plain ORDER BY of its columns does (no predicate, no
     * expression, ascending, the columns' own collations and default operator classes; see
     * {@link dev.zdm.pg.UniqueKey}), so a unique one on NOT NULL columns is a key a batched job walks.
     */
    public record Index(List<SqlName> columns, boolean unique, boolean valid, boolean plainOrder, SqlName attachedTo) {
        public Index {
            columns = List.copyOf(columns);
        }

        /** {@code attachedTo}: the partitioned index (on the table's parent) this one is attached to, or null. */
        public Index(List<SqlName> columns, boolean unique, boolean valid, boolean plainOrder) {
            this(columns, unique, valid, plainOrder, null);
        }

        public Index(List<SqlName> columns, boolean unique, boolean valid) {
            this(columns, unique, valid, true);
        }
    }

    /**
     * {@code type}: check, unique, primary_key, foreign_key, exclusion, not_null (a column's NOT NULL, a
     * constraint from PostgreSQL 18); {@code definition} as pg_get_constraintdef.
     */
    public record Constraint(String type, String definition, boolean validated) {

        /** pg_get_constraintdef of a NOT NULL (18+): {@code NOT NULL col}, the name quoted as quote_ident does. */
        private static final java.util.regex.Pattern NOT_NULL = java.util.regex.Pattern.compile(
                "NOT NULL (\"(?:[^\"]|\"\")+\"|[^\" ]+)( NOT VALID)?");

        /** The column of a NOT NULL constraint (18+); empty for any other constraint. */
        public java.util.Optional<SqlName> notNullConstraintColumn() {
            if (!"not_null".equals(type) || definition == null) {
                return java.util.Optional.empty();
            }
            var m = NOT_NULL.matcher(definition.trim());
            if (!m.matches()) {
                return java.util.Optional.empty();
            }
            String name = m.group(1);
            return java.util.Optional.of(SqlName.of(name.startsWith("\"")
                    ? name.substring(1, name.length() - 1).replace("\"\"", "\"") : name));
        }

        private static final java.util.regex.Pattern NOT_NULL_CHECK = java.util.regex.Pattern.compile(
                "(?i)CHECK\\s*\\(+\\s*\"?([a-z_][a-z0-9_]*)\"?\\s+IS\\s+NOT\\s+NULL\\s*\\)+(\\s+NOT\\s+VALID)?");

        java.util.Optional<SqlName> notNullColumn() {
            if (!"check".equals(type) || definition == null) {
                return java.util.Optional.empty();
            }
            var m = NOT_NULL_CHECK.matcher(definition.trim());
            return m.matches() ? java.util.Optional.of(SqlName.of(m.group(1))) : java.util.Optional.empty();
        }
    }

    public record NotNullCheck(SqlName column, boolean validated) {
    }
}
