package dev.zdm.simulator;

import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ColumnDefault;
import dev.zdm.pg.ColumnGeneration;
import dev.zdm.pg.DataType;
import dev.zdm.pg.DomainType;
import dev.zdm.pg.KeyColumn;
import dev.zdm.pg.PgFacts;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.UniqueKey;
import dev.zdm.protocol.ZdmException;
import dev.zdm.schema.Schema;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The simulator's schema: tables with their columns, row counts, constraints and heap file number, and
 * the indexes, in one name space per schema as PostgreSQL's pg_class has them. It applies
 * {@link CatalogChange}s as PostgreSQL would, refusing what PostgreSQL refuses (e.g. SET NOT NULL over
 * NULLs).
 *
 * <p><b>Open or closed world.</b> Given a schema ({@code --schema}, {@code --schema-from}) it knows
 * every table and column there is: anything else does not exist (error 20). Without one it is open, as
 * the course harness expects: a table it has not seen exists, with {@link #defaultRows} rows and a
 * bigint primary key {@code id}; a column it has not seen exists with a type it does not know. What it
 * assumed is remembered and marked as assumed, so explain can say what a prediction rests on, and what
 * the run itself changes is remembered exactly (a column added twice is error 21).
 *
 * <p><b>Rollback.</b> While a plan runs, every change is recorded with its inverse; an aborted plan
 * undoes them in reverse. The cost is that of the plan, never that of the catalog. A concurrent build's
 * INVALID leftover is not part of the undo: like on the server, it stays until it is dropped.
 */
public final class SimCatalog implements CatalogView {

    /**
     * {@code hasNulls}: some row holds NULL in this column, which NOT NULL and its CHECK must refuse.
     * {@code type} null: a type zdm cannot name. {@code assumed}: the open world made it up.
     */
    public record Column(DataType type, String defaultSql, boolean notNull, boolean hasNulls, boolean assumed) {

        Column(DataType type, String defaultSql, boolean notNull, boolean hasNulls) {
            this(type, defaultSql, notNull, hasNulls, false);
        }

        /** A column the open world assumes: it exists, and nothing else about it is known. */
        static Column assumedToExist() {
            return new Column(null, null, false, true, true);
        }

        public boolean typeKnown() {
            return type != null;
        }
    }

    public record Constraint(SqlName column, boolean validated) {
    }

    /** {@code plainOrder}: as {@link Schema.Index#plainOrder()}; every index zdm builds is one. */
    public record Index(SqlName table, List<SqlName> columns, boolean unique, boolean valid, boolean plainOrder) {
        Index(SqlName table, List<SqlName> columns, boolean unique, boolean valid) {
            this(table, columns, unique, valid, true);
        }
    }

    public static final class Table {
        final Map<SqlName, Column> columns = new LinkedHashMap<>();
        final Map<SqlName, Constraint> checks = new LinkedHashMap<>();
        /** Identity and generated columns: an UPDATE cannot set them. */
        final Map<SqlName, ColumnGeneration> generated = new LinkedHashMap<>();
        List<SqlName> primaryKey = List.of();
        /** The index behind the primary key, null without one. */
        SqlName primaryIndex;
        long rows;
        long relfilenode;
        /** Made up by the open world, not read from a schema or created by the run. */
        boolean assumed;

        public Map<SqlName, Column> columns() {
            return Map.copyOf(columns);
        }

        public Map<SqlName, Constraint> checks() {
            return Map.copyOf(checks);
        }

        public long rows() {
            return rows;
        }

        public long relfilenode() {
            return relfilenode;
        }

        public boolean assumed() {
            return assumed;
        }

        public List<SqlName> primaryKey() {
            return primaryKey;
        }
    }

    private static final SqlName ID = SqlName.of("id");
    private static final DataType BIGINT = new DataType("bigint");

    private final Map<SqlName, Table> tables = new HashMap<>();
    private final Map<SqlName, Index> indexes = new HashMap<>();
    /** Names taken in the relation name space by what the model has no other use for (views, sequences). */
    private final Set<SqlName> otherRelations = new LinkedHashSet<>();
    /** The schemas of a catalog read from a server, in search_path order; empty where none is known. */
    private List<String> searchPath = List.of();
    /** Null in a closed world; else the size of a table it has not seen. */
    private final Long defaultRows;
    private final Deque<Runnable> undo = new ArrayDeque<>();
    private boolean recording;
    private long nextRelfilenode = 16384;
    private Consumer<SqlName> rowRead = table -> { };
    /** Function volatility and existence of the modelled server version, read from PostgreSQL itself. */
    private final ServerVersion version;
    /** The database's own functions and types; null where they are not known and are assumed. */
    private final Schema.UserObjects userObjects;

    private SimCatalog(Long defaultRows, ServerVersion version, Schema.UserObjects userObjects) {
        this.defaultRows = defaultRows;
        this.version = version;
        this.userObjects = userObjects;
    }

    /** An open world whose tables have {@code rows} rows, with the course's users (id, email, name). */
    public static SimCatalog openWorld(long rows, ServerVersion version) {
        SimCatalog catalog = new SimCatalog(rows, version, null);
        catalog.addUsers(rows);
        return catalog;
    }

    /** users (id bigint primary key, email text, name text) and nothing else: a closed world. */
    public static SimCatalog withUsersTable(long rows, ServerVersion version) {
        SimCatalog catalog = new SimCatalog(null, version, Schema.UserObjects.NONE);
        catalog.addUsers(rows);
        return catalog;
    }

    /** Exactly the schema given: a closed world. */
    public static SimCatalog of(Schema schema, ServerVersion version) {
        SimCatalog catalog = new SimCatalog(null, version, schema.userObjects());
        schema.tables().forEach((name, spec) -> {
            Table table = catalog.newTable(name, spec.rows());
            spec.columns().forEach((column, c) -> {
                // A primary key's columns are NOT NULL whatever a hand-written schema says.
                boolean notNull = !c.nullable() || spec.primaryKey().contains(column);
                table.columns.put(column, new Column(c.type(), c.defaultSql(), notNull, !notNull && spec.rows() > 0));
                if (c.generation() != ColumnGeneration.NONE) {
                    table.generated.put(column, c.generation());
                }
            });
            table.primaryKey = spec.primaryKey();
            // An index lives in its table's schema: keyed as the planner names it there.
            spec.indexes().forEach((index, i) -> catalog.indexes.put(name.sibling(index),
                    new Index(name, i.columns(), i.unique(), i.valid(), i.plainOrder())));
            if (!table.primaryKey.isEmpty()) {
                table.primaryIndex = spec.indexes().entrySet().stream()
                        .filter(i -> i.getValue().unique() && i.getValue().columns().equals(spec.primaryKey()))
                        .map(i -> name.sibling(i.getKey())).findFirst().orElse(null);
                if (table.primaryIndex == null) {
                    table.primaryIndex = name.sibling(SqlName.of(SqlName.truncate(name.value() + "_pkey")));
                    catalog.indexes.put(table.primaryIndex, new Index(name, spec.primaryKey(), true, true));
                }
            }
            spec.checks().forEach((check, c) -> table.checks.put(check, new Constraint(c.column(), c.validated())));
            // A unique, primary key or exclusion constraint is backed by an index of its own name.
            spec.constraints().forEach((constraint, c) -> {
                if (!c.type().equals("check") && !c.type().equals("foreign_key")
                        && !catalog.indexes.containsKey(name.sibling(constraint))) {
                    catalog.otherRelations.add(name.sibling(constraint));
                }
            });
        });
        catalog.otherRelations.addAll(schema.otherRelations());
        catalog.searchPath = schema.searchPath();
        return catalog;
    }

    private void addUsers(long rows) {
        SqlName users = SqlName.of("users");
        Table table = newTable(users, rows);
        table.columns.put(ID, new Column(BIGINT, null, true, false));
        table.columns.put(SqlName.of("email"), new Column(DataType.TEXT, null, false, rows > 0));
        table.columns.put(SqlName.of("name"), new Column(DataType.TEXT, null, false, rows > 0));
        table.primaryKey = List.of(ID);
        table.primaryIndex = SqlName.of("users_pkey");
        indexes.put(table.primaryIndex, new Index(users, List.of(ID), true, true));
    }

    private Table newTable(SqlName name, long rows) {
        Table table = new Table();
        table.rows = rows;
        table.relfilenode = nextRelfilenode++;
        tables.put(name, table);
        return table;
    }

    public boolean isOpenWorld() {
        return defaultRows != null;
    }

    /** A deep copy, for tests that compare a state before and after. */
    public SimCatalog copy() {
        SimCatalog copy = new SimCatalog(defaultRows, version, userObjects);
        tables.forEach((name, table) -> {
            Table t = new Table();
            t.columns.putAll(table.columns);
            t.checks.putAll(table.checks);
            t.generated.putAll(table.generated);
            t.primaryKey = table.primaryKey;
            t.primaryIndex = table.primaryIndex;
            t.rows = table.rows;
            t.relfilenode = table.relfilenode;
            t.assumed = table.assumed;
            copy.tables.put(name, t);
        });
        copy.indexes.putAll(indexes);
        copy.otherRelations.addAll(otherRelations);
        copy.searchPath = searchPath;
        copy.nextRelfilenode = nextRelfilenode;
        return copy;
    }

    // ---- a plan's changes: recorded with their inverse while it runs

    void begin() {
        undo.clear();
        recording = true;
    }

    void commit() {
        undo.clear();
        recording = false;
    }

    void rollback() {
        recording = false;
        while (!undo.isEmpty()) {
            undo.pop().run();
        }
    }

    private <K, V> void put(Map<K, V> map, K key, V value) {
        V before = map.put(key, value);
        if (recording) {
            undo.push(() -> restore(map, key, before));
        }
    }

    private <K, V> void remove(Map<K, V> map, K key) {
        V before = map.remove(key);
        if (recording && before != null) {
            undo.push(() -> map.put(key, before));
        }
    }

    private static <K, V> void restore(Map<K, V> map, K key, V before) {
        if (before == null) {
            map.remove(key);
        } else {
            map.put(key, before);
        }
    }

    // ---- reading

    /** The table; in an open world one not seen yet is assumed into being. */
    public Table table(SqlName name) {
        Table table = tables.get(name);
        if (table != null) {
            return table;
        }
        if (!isOpenWorld() || indexes.containsKey(name) || otherRelations.contains(name)) {
            throw ZdmException.missing("table " + name);
        }
        table = newTable(name, defaultRows);
        table.columns.put(ID, new Column(BIGINT, null, true, false));
        table.primaryKey = List.of(ID);
        table.primaryIndex = name.sibling(SqlName.of(SqlName.truncate(name.value() + "_pkey")));
        table.assumed = true;
        indexes.put(table.primaryIndex, new Index(name, List.of(ID), true, true));
        return table;
    }

    public Map<SqlName, Index> indexes() {
        return Map.copyOf(indexes);
    }

    /**
     * What the server checks when ALTER TABLE runs, under its lock: the type exists, every function the
     * default calls (the facts of the modelled version; a schema's domains count as types), and in a
     * closed world the sequence a nextval() names.
     */
    private void requireKnown(CatalogChange.AddColumn add) {
        PgFacts facts = PgFacts.of(version);
        if (!facts.knowsType(add.type().sql()) && domain(add.type()).isEmpty() && !userType(add.type())) {
            throw ZdmException.missing("type " + add.type());
        }
        if (add.defaultSql() == null) {
            return;
        }
        SqlExpression expression;
        try {
            expression = new SqlExpression(add.defaultSql());
        } catch (ZdmException quotedConstant) {
            // A constant zdm quoted itself (a backslash, a long text) is no expression a user wrote: it calls nothing.
            return;
        }
        facts.requireKnownFunctions(expression, name -> userFunction(name) != null);
        if (!isOpenWorld()) {
            for (SqlName relation : expression.sequencesNamed()) {
                if (!relation.equals(add.ownedSequence()) && !relationExists(relation)) {
                    // The regclass literal is resolved when the ALTER is analysed, under its lock.
                    throw ZdmException.missing("relation " + relation);
                }
            }
        }
    }

    /**
     * The database's own function of that name (an extension's, the user's): its volatility code, or
     * null. Where the catalog does not know them, a name no PostgreSQL version has is assumed to be one,
     * and volatile: the safe way costs time, a wrong "not volatile" would rewrite the table.
     */
    Character userFunction(String name) {
        if (userObjects == null) {
            return PgFacts.of(version).builtInSomewhere(name) ? null : 'v';
        }
        return userObjects.functions().get(name);
    }

    /** Whether the type is the database's own, known or (where the catalog does not know them) assumed. */
    boolean userType(DataType type) {
        String base = PgFacts.baseTypeName(type.sql());
        return userObjects == null ? !PgFacts.of(version).builtInSomewhere(base) : userObjects.types().contains(base);
    }

    ServerVersion version() {
        return version;
    }

    /**
     * A domain of the schema read from a server: its default's volatility judged as any default's (a
     * default zdm could not re-use as an expression counts as volatile, as on the engine).
     */
    @Override
    public Optional<DomainType> domain(DataType type) {
        // Only the bare name is the domain: dom[] is an array of it, as to_regtype reads it on the engine.
        String name = type.sql();
        Schema.Domain d = userObjects == null || name.contains("[") || name.contains("(") ? null
                : userObjects.domains().get(name.trim());
        if (d == null) {
            return Optional.empty();
        }
        boolean volatileDefault = false;
        if (d.defaultSql() != null) {
            try {
                volatileDefault = isVolatile(new SqlExpression(d.defaultSql()));
            } catch (ZdmException notReusable) {
                volatileDefault = true;
            }
        }
        return Optional.of(new DomainType(d.defaultSql(), volatileDefault, d.constrained()));
    }

    /** Whether the database's own functions and types are known (a schema read from a server), not assumed. */
    boolean knowsUserObjects() {
        return userObjects != null;
    }

    @Override
    public boolean tableExists(SqlName table) {
        return tables.containsKey(table) || (isOpenWorld() && !relationExists(table));
    }

    @Override
    public Set<SqlName> columns(SqlName table) {
        Table t = tables.get(table);
        return t == null ? Set.of() : new LinkedHashSet<>(t.columns.keySet());
    }

    @Override
    public Presence column(SqlName table, SqlName column) {
        Table t = tables.get(table);
        if (t != null && t.columns.containsKey(column)) {
            return Presence.PRESENT;
        }
        return isOpenWorld() ? Presence.ASSUMED : Presence.ABSENT;
    }

    @Override
    public boolean relationExists(SqlName name) {
        return tables.containsKey(name) || indexes.containsKey(name) || otherRelations.contains(name);
    }

    @Override
    public Optional<IndexState> index(SqlName name) {
        return Optional.ofNullable(indexes.get(name)).map(i -> i.valid() ? IndexState.VALID : IndexState.INVALID);
    }

    /** The table's unique, valid, plain-order indexes on columns that are all NOT NULL, as the server's catalog says. */
    @Override
    public List<UniqueKey> uniqueKeys(SqlName tableName) {
        Table table = table(tableName);
        List<UniqueKey> keys = new ArrayList<>();
        indexes.entrySet().stream().sorted(Map.Entry.comparingByKey(Comparator.comparing(SqlName::value))).forEach(e -> {
            Index index = e.getValue();
            if (!index.table().equals(tableName) || !index.unique() || !index.valid() || !index.plainOrder()) {
                return;
            }
            List<KeyColumn> columns = new ArrayList<>();
            for (SqlName name : index.columns()) {
                Column column = table.columns.get(name);
                if (column == null || !column.notNull()) {
                    return;
                }
                columns.add(new KeyColumn(name, column.type()));
            }
            keys.add(new UniqueKey(e.getKey(), columns, e.getKey().equals(table.primaryIndex)));
        });
        return keys;
    }

    @Override
    public Map<SqlName, ColumnGeneration> generatedColumns(SqlName table) {
        return Map.copyOf(table(table).generated);
    }

    /** Called before the planner reads a table's rows, so the engine can take the read's lock. */
    void onRowRead(Consumer<SqlName> hook) {
        this.rowRead = hook;
    }

    @Override
    public boolean hasRows(SqlName table) {
        Table t = table(table);
        rowRead.accept(table);
        return t.rows > 0;
    }

    @Override
    public boolean isVolatile(SqlExpression expression) {
        PgFacts facts = PgFacts.of(version);
        if (facts.isVolatile(expression)) {
            return true;
        }
        for (String name : expression.functionNames()) {
            Character code = facts.callable(name) ? null : userFunction(name);
            if (code != null && code == 'v') {
                return true;
            }
        }
        return false;
    }

    // ---- changing

    void apply(SqlName tableName, CatalogChange change) {
        Table table = table(tableName);
        if (change instanceof CatalogChange.AddColumn add) {
            requireKnown(add);
            if (add.ownedSequence() != null && otherRelations.add(add.ownedSequence()) && recording) {
                undo.push(() -> otherRelations.remove(add.ownedSequence()));
            }
            // Old rows read the column's own default, or else its domain's (which is not the column's own).
            String rowsRead = add.defaultSql() != null ? add.defaultSql()
                    : !version.domainDefaultFillsOldRows() ? null : domain(add.type()).map(DomainType::defaultSql).orElse(null);
            boolean nullsLeft = table.rows > 0 && (rowsRead == null || ColumnDefault.NULL.matcher(rowsRead).matches()
                    || !add.existingRowsGetDefault());
            if (add.notNull() && nullsLeft) {
                throw ZdmException.precondition("column " + add.column() + " of " + tableName + " contains null values");
            }
            put(table.columns, add.column(), new Column(add.type(), add.defaultSql(), add.notNull(), nullsLeft));
        } else if (change instanceof CatalogChange.DropDefault drop) {
            Column column = table.columns.get(drop.column());
            put(table.columns, drop.column(), new Column(column.type(), null, column.notNull(), column.hasNulls(),
                    column.assumed()));
        } else if (change instanceof CatalogChange.AddNotNullCheck check) {
            put(table.checks, check.constraint(), new Constraint(check.column(), false));
        } else if (change instanceof CatalogChange.ValidateConstraint validate) {
            Constraint check = table.checks.get(validate.constraint());
            if (table.columns.get(check.column()).hasNulls()) {
                throw ZdmException.precondition("check constraint " + validate.constraint() + " of " + tableName
                        + " is violated by some row");
            }
            put(table.checks, validate.constraint(), new Constraint(check.column(), true));
        } else if (change instanceof CatalogChange.SetNotNull set) {
            Column column = table.columns.get(set.column());
            if (column.hasNulls()) {
                throw ZdmException.precondition("column " + set.column() + " of " + tableName + " contains null values");
            }
            put(table.columns, set.column(), new Column(column.type(), column.defaultSql(), true, false, column.assumed()));
        } else if (change instanceof CatalogChange.DropConstraint drop) {
            remove(table.checks, drop.constraint());
        } else if (change instanceof CatalogChange.CreateIndex create) {
            assumeColumns(tableName, create.columns());
            put(indexes, create.index(), new Index(tableName, create.columns(), create.unique(), true));
        } else if (change instanceof CatalogChange.DropIndex drop) {
            Index index = indexes.get(drop.index());
            if (index != null && !index.valid()) {
                // A leftover's drop is for good: the server does not bring an INVALID index back.
                indexes.remove(drop.index());
            } else {
                remove(indexes, drop.index());
            }
        } else {
            throw new IllegalArgumentException("no model for " + change);
        }
    }

    /** In an open world, columns a request names exist: remember them, so adding one later is error 21. */
    void assumeColumns(SqlName tableName, Iterable<SqlName> columns) {
        if (!isOpenWorld()) {
            return;
        }
        Table table = table(tableName);
        for (SqlName column : columns) {
            table.columns.putIfAbsent(column, Column.assumedToExist());
        }
    }

    /** In an open world, a job that names more rows than assumed says how big the table is. */
    void assumeAtLeast(SqlName tableName, long rows) {
        Table table = table(tableName);
        if (isOpenWorld() && rows > table.rows) {
            table.rows = rows;
        }
    }

    /** A concurrent build that failed after its first transaction leaves its index INVALID, for good. */
    void addInvalidIndex(SqlName tableName, CatalogChange.CreateIndex create) {
        indexes.put(create.index(), new Index(tableName, create.columns(), create.unique(), false));
    }

    /** After a backfill of these columns no row holds NULL in them. */
    void filled(SqlName tableName, Set<SqlName> columns) {
        Table table = table(tableName);
        for (SqlName name : columns) {
            Column column = table.columns.get(name);
            if (column != null) {
                put(table.columns, name, new Column(column.type(), column.defaultSql(), column.notNull(), false, column.assumed()));
            }
        }
    }

    void rewrite(SqlName tableName) {
        Table table = table(tableName);
        long before = table.relfilenode;
        table.relfilenode = nextRelfilenode++;
        if (recording) {
            undo.push(() -> table.relfilenode = before);
        }
    }

    /**
     * The table an unqualified name means, as the server's search_path resolves it: its bare name where
     * the first schema has it (or nothing is known of the path: the open world, a file), else the
     * first later schema's that has it. A name qualified with the first schema is its bare name.
     */
    @Override
    public SqlName resolve(SqlName table) {
        if (searchPath.isEmpty()) {
            return table;
        }
        if (table.schema() != null) {
            return table.schema().equals(searchPath.get(0)) ? table.unqualified() : table;
        }
        if (tables.containsKey(table)) {
            return table;
        }
        for (String schema : searchPath.subList(1, searchPath.size())) {
            SqlName qualified = SqlName.table(schema, table.value());
            if (tables.containsKey(qualified)) {
                return qualified;
            }
        }
        return table;
    }
}
