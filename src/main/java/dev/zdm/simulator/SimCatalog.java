package dev.zdm.simulator;

import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ColumnDefault;
import dev.zdm.pg.ColumnGeneration;
import dev.zdm.pg.ConstraintInfo;
import dev.zdm.pg.DataType;
import dev.zdm.pg.DomainType;
import dev.zdm.pg.KeyColumn;
import dev.zdm.pg.Lineage;
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
     * {@code hasNulls}: some row is known to hold NULL in this column (a column added without a default
     * to a table with rows), which NOT NULL and its CHECK must refuse. For a column the model did not
     * make it is false: whether its rows hold NULL is data, an assumption explain lists.
     * {@code type} null: a type zdm cannot name. {@code assumed}: the open world made it up.
     */
    public record Column(DataType type, String defaultSql, boolean notNull, boolean hasNulls, boolean assumed) {

        Column(DataType type, String defaultSql, boolean notNull, boolean hasNulls) {
            this(type, defaultSql, notNull, hasNulls, false);
        }

        /** A column the open world assumes: it exists, and nothing else about it is known. */
        static Column assumedToExist() {
            return new Column(null, null, false, false, true);
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
        /** Every other constraint: keys, foreign keys, CHECKs other than a column's IS NOT NULL. */
        final Map<SqlName, ConstraintInfo> constraints = new LinkedHashMap<>();
        /** Columns the run dropped: even an open world knows they are gone. */
        final Set<SqlName> dropped = new LinkedHashSet<>();
        /** Identity and generated columns: an UPDATE cannot set them. */
        final Map<SqlName, ColumnGeneration> generated = new LinkedHashMap<>();
        /** A generated column's inputs: the columns of this table its expression reads. */
        final Map<SqlName, List<SqlName>> reads = new LinkedHashMap<>();
        /** The views (as the schema read them) that use each column. */
        final Map<SqlName, List<SqlName>> views = new LinkedHashMap<>();
        /** Triggers and policies (as the server's read names them) that use each column. */
        final Map<SqlName, List<String>> others = new LinkedHashMap<>();
        List<SqlName> primaryKey = List.of();
        /** The index behind the primary key, null without one. */
        SqlName primaryIndex;
        long rows;
        long relfilenode;
        /** Made up by the open world, not read from a schema or created by the run. */
        boolean assumed;
        /** Why row-level security applies to the role the schema was read as; null where it does not. */
        String rowSecurity;
        /** Its partitions, parent and children, as the schema gave them; never changed by a run. */
        Lineage lineage = Lineage.ORDINARY;
        /** What the reading role may not do to it (--schema-from); never changed by a run. */
        List<String> rightsLacking = List.of();

        public Map<SqlName, Column> columns() {
            return Map.copyOf(columns);
        }

        public Map<SqlName, Constraint> checks() {
            return Map.copyOf(checks);
        }

        public Map<SqlName, ConstraintInfo> constraints() {
            return Map.copyOf(constraints);
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
    /** A partition's index → the partitioned index it is attached to (pg_inherits of indexes). */
    private final Map<SqlName, SqlName> attachedTo = new HashMap<>();
    /** Names taken in the relation name space by what the model has no other use for (views, sequences). */
    private final Set<SqlName> otherRelations = new LinkedHashSet<>();
    /** The schemas of a catalog read from a server, in search_path order; empty where none is known. */
    private List<String> searchPath = List.of();
    /** Null in a closed world; else the size of a table it has not seen. */
    private final Long defaultRows;
    private final Deque<Runnable> undo = new ArrayDeque<>();
    /** Indexes the plan built concurrently: committed by the build, kept by a rollback. */
    private final Map<SqlName, Index> built = new LinkedHashMap<>();
    private boolean recording;
    private long nextRelfilenode = 16384;
    private Consumer<SqlName> rowRead = table -> { };
    /** Function volatility and existence of the modelled server version, read from PostgreSQL itself. */
    private final ServerVersion version;
    /** The database's own functions and types; null where they are not known and are assumed. */
    private final Schema.UserObjects userObjects;
    /** The server --schema-from read, asked about a constant only its input function can judge; null without one. */
    private String constantServer;

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
            table.lineage = spec.lineage();
            table.rightsLacking = spec.rightsLacking();
            table.rowSecurity = spec.rowSecurity();
            spec.columns().forEach((column, c) -> {
                // A primary key's columns are NOT NULL whatever a hand-written schema says.
                boolean notNull = !c.nullable() || spec.primaryKey().contains(column);
                table.columns.put(column, new Column(c.type(), c.defaultSql(), notNull, false));
                if (c.generation() != ColumnGeneration.NONE) {
                    table.generated.put(column, c.generation());
                }
                if (!c.reads().isEmpty()) {
                    table.reads.put(column, c.reads());
                }
                if (!c.views().isEmpty()) {
                    table.views.put(column, c.views());
                }
                if (!c.others().isEmpty()) {
                    table.others.put(column, c.others());
                }
            });
            table.primaryKey = spec.primaryKey();
            // An index lives in its table's schema: keyed as the planner names it there.
            spec.indexes().forEach((index, i) -> {
                catalog.indexes.put(name.sibling(index), new Index(name, i.columns(), i.unique(), i.valid(), i.plainOrder()));
                // A partition's index attached to its parent's partitioned index, which lives in the parent's schema.
                if (i.attachedTo() != null && spec.lineage().parent() != null) {
                    catalog.attachedTo.put(name.sibling(index), spec.lineage().parent().sibling(i.attachedTo()));
                }
            });
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
                if (!c.type().equals("check") && !c.type().equals("foreign_key") && !c.type().equals("not_null")
                        && !catalog.indexes.containsKey(name.sibling(constraint))) {
                    catalog.otherRelations.add(name.sibling(constraint));
                }
                if (!table.checks.containsKey(constraint)) {
                    ConstraintInfo.Kind kind = ConstraintInfo.Kind.ofName(c.type());
                    Index index = catalog.indexes.get(constraint);
                    List<SqlName> columns = index != null ? index.columns()
                            : kind == ConstraintInfo.Kind.PRIMARY_KEY ? spec.primaryKey()
                            : c.notNullConstraintColumn().map(List::of).orElse(List.of());
                    var fk = kind == ConstraintInfo.Kind.FOREIGN_KEY ? dev.zdm.schema.ForeignKeyText.parse(c.definition())
                            : java.util.Optional.<dev.zdm.schema.ForeignKeyText>empty();
                    table.constraints.put(constraint, fk.map(f -> new ConstraintInfo(name, constraint, kind, f.columns(),
                            c.validated(), null, f.refTable(), f.refColumns(), f.onUpdate()))
                            .orElseGet(() -> new ConstraintInfo(name, constraint, kind, columns, c.validated(),
                                    index != null ? constraint : null, null, List.of())));
                }
            });
            if (!spec.primaryKey().isEmpty() && table.constraints.values().stream()
                    .noneMatch(c -> c.kind() == ConstraintInfo.Kind.PRIMARY_KEY)) {
                catalog.indexes.entrySet().stream()
                        .filter(e -> e.getValue().table().equals(name) && e.getValue().unique()
                                && e.getValue().columns().equals(spec.primaryKey()))
                        .findFirst().ifPresent(e -> table.constraints.put(e.getKey(), new ConstraintInfo(name, e.getKey(),
                                ConstraintInfo.Kind.PRIMARY_KEY, spec.primaryKey(), true, e.getKey(), null, List.of())));
            }
        });
        catalog.otherRelations.addAll(schema.otherRelations());
        catalog.searchPath = schema.searchPath();
        return catalog;
    }

    private void addUsers(long rows) {
        SqlName users = SqlName.of("users");
        Table table = newTable(users, rows);
        table.columns.put(ID, new Column(BIGINT, null, true, false));
        table.columns.put(SqlName.of("email"), new Column(DataType.TEXT, null, false, false));
        table.columns.put(SqlName.of("name"), new Column(DataType.TEXT, null, false, false));
        addPrimaryKey(users, table);
    }

    /** The primary key on id, and the index of the same name that backs it. */
    private void addPrimaryKey(SqlName name, Table table) {
        SqlName pkey = name.sibling(SqlName.of(SqlName.truncate(name.value() + "_pkey")));
        table.primaryKey = List.of(ID);
        table.primaryIndex = pkey;
        indexes.put(pkey, new Index(name, List.of(ID), true, true));
        table.constraints.put(pkey, new ConstraintInfo(name, pkey, ConstraintInfo.Kind.PRIMARY_KEY, List.of(ID), true,
                pkey, null, List.of()));
    }

    private Table newTable(SqlName name, long rows) {
        Table table = new Table();
        table.rows = rows;
        table.relfilenode = nextRelfilenode++;
        tables.put(name, table);
        return table;
    }

    /** Asks the server at {@code url} (read-only, a connection per question) what only a type's input function knows. */
    public SimCatalog askingConstantsOf(String url) {
        this.constantServer = url;
        return this;
    }

    @Override
    public Optional<ZdmException> constantRefusal(DataType type, String text) {
        return constantServer == null ? Optional.empty()
                : dev.zdm.schema.InputFunctionProbe.refusal(constantServer, type, text);
    }

    @Override
    public Optional<ZdmException> evaluationRefusal(dev.zdm.pg.SqlExpression expression) {
        return constantServer == null ? Optional.empty()
                : dev.zdm.schema.InputFunctionProbe.evaluationRefusal(constantServer, expression);
    }

    @Override
    public boolean asksServerAboutConstants() {
        return constantServer != null;
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
            t.constraints.putAll(table.constraints);
            t.dropped.addAll(table.dropped);
            t.generated.putAll(table.generated);
            t.reads.putAll(table.reads);
            t.views.putAll(table.views);
            t.others.putAll(table.others);
            t.primaryKey = table.primaryKey;
            t.primaryIndex = table.primaryIndex;
            t.rows = table.rows;
            t.relfilenode = table.relfilenode;
            t.assumed = table.assumed;
            t.lineage = table.lineage;
            t.rightsLacking = table.rightsLacking;
            copy.tables.put(name, t);
        });
        copy.indexes.putAll(indexes);
        copy.attachedTo.putAll(attachedTo);
        copy.otherRelations.addAll(otherRelations);
        copy.searchPath = searchPath;
        copy.nextRelfilenode = nextRelfilenode;
        copy.constantServer = constantServer;
        return copy;
    }

    // ---- a plan's changes: recorded with their inverse while it runs

    void begin() {
        undo.clear();
        built.clear();
        recording = true;
    }

    void commit() {
        undo.clear();
        built.clear();
        recording = false;
    }

    /**
     * Undoes the plan on {@code table}: as the PostgreSQL engine's undo (ObjectUndo), a concurrent build's
     * valid index on the table itself stays (a resend adopts it), a partition's stays only attached to a
     * partitioned index that stays.
     */
    void rollback(SqlName table) {
        recording = false;
        Map<SqlName, SqlName> parents = new HashMap<>();
        built.keySet().forEach(i -> {
            if (attachedTo.containsKey(i)) {
                parents.put(i, attachedTo.get(i));
            }
        });
        while (!undo.isEmpty()) {
            undo.pop().run();
        }
        // A partition's index attached to a partitioned index the undo dropped went with it (a plain DROP
        // INDEX of a partitioned index drops the indexes attached to it); one attached to an index that
        // stays is still attached: the ATTACH committed.
        built.forEach((index, state) -> {
            SqlName parent = parents.get(index);
            if (parent == null && state.table().equals(table)) {
                indexes.put(index, state);
            } else if (indexes.containsKey(parent)) {
                indexes.put(index, state);
                attachedTo.put(index, parent);
            } else {
                // Its first transaction's INVALID entry (not undone: a concurrent build commits it) goes too.
                indexes.remove(index);
            }
        });
        built.clear();
    }

    /**
     * A concurrent build commits its index itself: valid, it outlives the plan's rollback when a later
     * step loses its lock (the engine's undo drops an index only while it is INVALID; a resend adopts it).
     */
    void keepBuilt(SqlName namedIndex) {
        SqlName index = key(namedIndex);
        Index built = indexes.get(index);
        if (built != null && built.valid()) {
            this.built.put(index, built);
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
    public Table table(SqlName namedName) {
        SqlName name = key(namedName);
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
        addPrimaryKey(name, table);
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
    /**
     * What the server checks on the table itself before it locks a partition or child: an ALTER TABLE
     * whose one subcommand is ADD COLUMN looks the type and default up on the parent (ATExecAddColumn),
     * then recurses (find_inheritance_children) - an unknown type is 42704 while a child is held (10-18,
     * found by the fuzzer). A SET DEFAULT subcommand in the same ALTER locks every child first, in
     * ATPrepCmd (ATSimpleRecursion): there the holder comes first.
     */
    void checkBeforeChildren(dev.zdm.pg.Statement statement) {
        if (statement.change() instanceof CatalogChange.AddColumn add && statement.sql().startsWith("ALTER TABLE ")
                && !statement.sql().contains(", ALTER COLUMN ")) {
            requireKnown(add);
        }
    }

    private void requireKnown(CatalogChange.AddColumn add) {
        PgFacts facts = PgFacts.of(version);
        if (!facts.knowsType(add.type().sql()) && domain(add.type()).isEmpty() && !userType(add.type())) {
            throw ZdmException.missing("type " + add.type());
        }
        requireKnownDefault(add.defaultSql(), add.ownedSequence());
    }

    /**
     * What the server checks of a default when ALTER TABLE (ADD COLUMN, SET DEFAULT) or CREATE TABLE
     * analyses it: every function it calls, and in a closed world the sequence a nextval() names
     * ({@code ownedSequence}: the one the same statement makes, or null).
     */
    private void requireKnownDefault(String defaultSql, SqlName ownedSequence) {
        PgFacts facts = PgFacts.of(version);
        if (defaultSql == null) {
            return;
        }
        SqlExpression expression;
        try {
            expression = new SqlExpression(defaultSql);
        } catch (ZdmException quotedConstant) {
            // A constant zdm quoted itself (a backslash, a long text) is no expression a user wrote: it calls nothing.
            return;
        }
        facts.requireKnownFunctions(expression, name -> userFunction(name) != null);
        if (!isOpenWorld()) {
            for (SqlName relation : expression.sequencesNamed()) {
                if (!relation.equals(ownedSequence) && !relationExists(relation)) {
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
        return userObjects == null ? !PgFacts.of(version).builtInSomewhere(base)
                : type.qualified() ? userObjects.types().contains(type.typeName())
                        || userObjects.types().contains("." + type.typeName())
                : userObjects.types().contains(base) || userObjects.types().contains(type.typeName());
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

    /**
     * Known where the schema was read from a server (every schema of its database), or where a table of
     * the model lives in it; else assumed, as the open world assumes what it has not seen.
     */
    @Override
    public Presence schema(String name) {
        if (userObjects != null && userObjects.schemas() != null) {
            return userObjects.schemas().contains(name) ? Presence.PRESENT : Presence.ABSENT;
        }
        boolean seen = searchPath.contains(name) || tables.keySet().stream().anyMatch(t -> name.equals(t.schema()));
        return seen ? Presence.PRESENT : Presence.ASSUMED;
    }

    @Override
    public boolean tableExists(SqlName namedTable) {
        SqlName table = key(namedTable);
        return tables.containsKey(table) || (isOpenWorld() && !relationExists(table));
    }

    @Override
    public Set<SqlName> columns(SqlName namedTable) {
        SqlName table = key(namedTable);
        Table t = tables.get(table);
        return t == null ? Set.of() : new LinkedHashSet<>(t.columns.keySet());
    }

    @Override
    public Presence column(SqlName namedTable, SqlName column) {
        SqlName table = key(namedTable);
        Table t = tables.get(table);
        if (t != null && t.columns.containsKey(column)) {
            return Presence.PRESENT;
        }
        return isOpenWorld() && (t == null || !t.dropped.contains(column)) ? Presence.ASSUMED : Presence.ABSENT;
    }

    @Override
    public boolean relationExists(SqlName namedName) {
        SqlName name = key(namedName);
        return tables.containsKey(name) || indexes.containsKey(name) || otherRelations.contains(name);
    }

    @Override
    public List<String> rightsLacking(SqlName namedTable) {
        Table t = tables.get(key(namedTable));
        return t == null ? List.of() : t.rightsLacking;
    }

    @Override
    public Lineage lineage(SqlName namedTable) {
        SqlName table = key(namedTable);
        Table t = tables.get(table);
        return t == null ? Lineage.ORDINARY : t.lineage;
    }

    @Override
    public Optional<IndexState> index(SqlName namedName) {
        SqlName name = key(namedName);
        return Optional.ofNullable(indexes.get(name)).map(i -> i.valid() ? IndexState.VALID : IndexState.INVALID);
    }

    /** The table's unique, valid, plain-order indexes on columns that are all NOT NULL, as the server's catalog says. */
    @Override
    public List<UniqueKey> uniqueKeys(SqlName namedTableName) {
        SqlName tableName = key(namedTableName);
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
    public Map<SqlName, ColumnGeneration> generatedColumns(SqlName namedTable) {
        SqlName table = key(namedTable);
        return Map.copyOf(table(table).generated);
    }

    /** Called before the planner reads a table's rows, so the engine can take the read's lock. */
    void onRowRead(Consumer<SqlName> hook) {
        this.rowRead = hook;
    }

    /**
     * The rows a statement on {@code namedTable} reads or writes: the table's own (a partitioned table has
     * none, whatever ANALYZE set its reltuples to from 14 on) and those of each partition or child it also
     * locks, where the statement recurses (a plain CREATE INDEX on a partitioned table builds on every
     * partition; an ALTER without ONLY scans every child). The real engine counts them over the whole tree
     * (TableProbe): PostgreSQL 11-18 read the partitions' rows for a plain build on the parent.
     */
    public long rowsReached(SqlName namedTable, List<dev.zdm.pg.Statement.OtherLock> alsoLocked) {
        SqlName tableName = key(namedTable);
        long rows = lineage(tableName).partitioned() ? 0 : table(tableName).rows;
        java.util.Set<SqlName> below = new java.util.HashSet<>();
        dev.zdm.pg.Planner.descendants(this, tableName).forEach(t -> below.add(key(t)));
        java.util.Set<SqlName> counted = new java.util.HashSet<>();
        for (var other : alsoLocked) {
            SqlName t = key(other.table());
            if (below.contains(t) && counted.add(t) && !lineage(t).partitioned()) {
                rows += table(t).rows;
            }
        }
        return rows;
    }

    @Override
    public boolean hasRows(SqlName namedTable) {
        SqlName table = key(namedTable);
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

    @Override
    public Optional<ColumnFacts> columnFacts(SqlName namedTable, SqlName column) {
        SqlName table = key(namedTable);
        Table t = tables.get(table);
        Column c = t == null ? null : t.columns.get(column);
        if (c != null) {
            return Optional.of(new ColumnFacts(c.type(), c.defaultSql(), c.notNull()));
        }
        return isOpenWorld() && (t != null ? !t.dropped.contains(column) : tableExists(table))
                ? Optional.of(new ColumnFacts(null, null, false)) : Optional.empty();
    }

    @Override
    public boolean hasUniqueIndexOn(SqlName namedTable, Set<SqlName> columns) {
        SqlName table = key(namedTable);
        if (isOpenWorld() && !tables.containsKey(table)) {
            table(table);
        }
        return indexes.values().stream().anyMatch(i -> i.table().equals(table) && i.unique() && i.valid()
                && i.columns().size() == columns.size() && Set.copyOf(i.columns()).equals(columns));
    }

    @Override
    public Optional<List<SqlName>> indexColumns(SqlName namedIndex) {
        SqlName index = key(namedIndex);
        return Optional.ofNullable(indexes.get(index)).map(Index::columns);
    }

    @Override
    public Optional<String> rowSecurity(SqlName namedTable) {
        SqlName table = key(namedTable);
        return tables.containsKey(table) ? Optional.ofNullable(tables.get(table).rowSecurity) : Optional.empty();
    }

    @Override
    public Optional<Boolean> indexUnique(SqlName namedIndex) {
        return Optional.ofNullable(indexes.get(key(namedIndex))).map(Index::unique);
    }

    @Override
    public Optional<SqlName> indexTable(SqlName namedIndex) {
        SqlName index = key(namedIndex);
        return Optional.ofNullable(indexes.get(index)).map(Index::table);
    }

    @Override
    public List<ConstraintInfo> constraints(SqlName namedTable) {
        SqlName table = key(namedTable);
        // In an open world a table not seen yet is assumed with its primary key, which is a constraint.
        Table t = tables.containsKey(table) || !tableExists(table) ? tables.get(table) : table(table);
        if (t == null) {
            return List.of();
        }
        List<ConstraintInfo> all = new ArrayList<>(t.constraints.values());
        t.checks.forEach((name, check) -> all.add(new ConstraintInfo(table, name, ConstraintInfo.Kind.CHECK,
                List.of(check.column()), check.validated(), null, null, List.of())));
        return all;
    }

    @Override
    public List<ConstraintInfo> referencing(SqlName namedTable) {
        SqlName table = key(namedTable);
        List<ConstraintInfo> all = new ArrayList<>();
        for (Table t : tables.values()) {
            t.constraints.values().stream().filter(c -> table.equals(c.refTable())).forEach(all::add);
        }
        return all;
    }

    @Override
    public List<String> dependents(SqlName namedTable, SqlName column) {
        SqlName table = key(namedTable);
        List<String> all = new ArrayList<>();
        List<ConstraintInfo> constraints = constraints(table);
        Set<SqlName> keyIndexes = new java.util.HashSet<>();
        for (ConstraintInfo c : constraints) {
            if (c.index() != null) {
                keyIndexes.add(c.index());
            }
            // A column's own NOT NULL (a constraint from 18) goes with it, as the server's pg_depend read skips it.
            if (c.columns().contains(column) && c.kind() != ConstraintInfo.Kind.NOT_NULL) {
                all.add("constraint " + c.name());
            }
        }
        indexes.forEach((name, index) -> {
            if (index.table().equals(table) && index.columns().contains(column) && !keyIndexes.contains(name)) {
                all.add("index " + name);
            }
        });
        Table model = table(table);
        model.reads.forEach((generated, inputs) -> {
            if (inputs.contains(column) && model.columns.containsKey(generated)) {
                all.add("generated column " + generated);
            }
        });
        model.views.getOrDefault(column, List.of()).forEach(view -> all.add("view " + view));
        all.addAll(model.others.getOrDefault(column, List.of()));
        // Sorted as the server's read sorts them, so both engines name them in one order.
        java.util.Collections.sort(all);
        for (ConstraintInfo fk : referencing(table)) {
            if (!fk.table().equals(table) && fk.refColumns().contains(column)) {
                all.add("constraint " + fk.name() + " on table " + fk.table());
            }
        }
        return all;
    }

    @Override
    public boolean constraintExists(SqlName name) {
        return tables.values().stream().anyMatch(t -> t.checks.containsKey(name) || t.constraints.containsKey(name));
    }

    // ---- changing

    void apply(SqlName namedTable, CatalogChange namedChange) {
        CatalogChange change = keyed(namedChange);
        if (change instanceof CatalogChange.CreateTable create) {
            // CREATE with an unqualified name makes it in the first schema, whatever a later one holds.
            createTable(created(namedTable), create);
            return;
        }
        SqlName tableName = key(namedTable);
        Table table = table(tableName);
        if (change instanceof CatalogChange.AddColumn add) {
            requireKnown(add);
            if (add.ownedSequence() != null && otherRelations.add(add.ownedSequence()) && recording) {
                undo.push(() -> otherRelations.remove(add.ownedSequence()));
            }
            // Old rows read the column's own default, or else its domain's (which is not the column's own).
            String rowsRead = add.defaultSql() != null ? add.defaultSql()
                    : !version.domainDefaultFillsOldRows() ? null : domain(add.type()).map(DomainType::defaultSql).orElse(null);
            // A partitioned table holds no rows of its own: its reltuples (set by ANALYZE from 14 on) counts its
            // partitions', which get the column and their own backfills; its NULLs are theirs.
            boolean nullsLeft = table.rows > 0 && !table.lineage.partitioned() && (rowsRead == null || ColumnDefault.NULL.matcher(rowsRead).matches()
                    || !add.existingRowsGetDefault());
            if (add.notNull() && nullsLeft) {
                throw ZdmException.precondition("column " + add.column() + " of " + tableName + " contains null values");
            }
            put(table.columns, add.column(), new Column(add.type(), add.defaultSql(), add.notNull(), nullsLeft));
            if (add.notNull() && version.notNullIsConstraint()) {
                // 18+: ADD COLUMN ... NOT NULL makes the column's NOT NULL constraint, named as PostgreSQL names it.
                SqlName notNull = dev.zdm.pg.ObjectNames.choose(tableName.value(), add.column().value(), "not_null",
                        n -> constraintExists(tableName.sibling(n)));
                put(table.constraints, notNull, new ConstraintInfo(tableName, notNull, ConstraintInfo.Kind.NOT_NULL,
                        List.of(add.column()), true, null, null, List.of()));
            }
            if (table.dropped.remove(add.column()) && recording) {
                undo.push(() -> table.dropped.add(add.column()));
            }
        } else if (change instanceof CatalogChange.DropDefault drop) {
            Column column = columnOf(tableName, table, drop.column());
            put(table.columns, drop.column(), new Column(column.type(), null, column.notNull(), column.hasNulls(),
                    column.assumed()));
        } else if (change instanceof CatalogChange.AddNotNullCheck check) {
            columnOf(tableName, table, check.column());
            requireFreeConstraintName(tableName, table, check.constraint());
            put(table.checks, check.constraint(), new Constraint(check.column(), false));
        } else if (change instanceof CatalogChange.AddNotNullConstraint add) {
            // 18+: attnotnull is set at once (new rows are refused NULL); the old rows wait for VALIDATE.
            Column column = columnOf(tableName, table, add.column());
            requireFreeConstraintName(tableName, table, add.constraint());
            put(table.constraints, add.constraint(), new ConstraintInfo(tableName, add.constraint(),
                    ConstraintInfo.Kind.NOT_NULL, List.of(add.column()), false, null, null, List.of()));
            put(table.columns, add.column(), new Column(column.type(), column.defaultSql(), true, column.hasNulls(),
                    column.assumed()));
        } else if (change instanceof CatalogChange.ValidateConstraint validate
                && table.constraints.containsKey(validate.constraint())) {
            // Whether the rows satisfy it is data the model does not hold: explain lists it as an assumption.
            ConstraintInfo other = table.constraints.get(validate.constraint());
            if (other.kind() == ConstraintInfo.Kind.NOT_NULL && other.columns().stream()
                    .anyMatch(c -> table.columns.containsKey(c) && table.columns.get(c).hasNulls())) {
                throw ZdmException.precondition("column " + other.columns().get(0) + " of relation " + tableName
                        + " contains null values");
            }
            put(table.constraints, validate.constraint(), new ConstraintInfo(other.table(), other.name(), other.kind(),
                    other.columns(), true, other.index(), other.refTable(), other.refColumns()));
        } else if (change instanceof CatalogChange.ValidateConstraint validate) {
            Constraint check = table.checks.get(validate.constraint());
            if (check == null) {
                throw ZdmException.missing("constraint " + validate.constraint() + " of relation " + tableName);
            }
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
            ConstraintInfo other = table.constraints.get(drop.constraint());
            if (!table.checks.containsKey(drop.constraint()) && other == null) {
                throw ZdmException.missing("constraint " + drop.constraint() + " of relation " + tableName);
            }
            remove(table.checks, drop.constraint());
            remove(table.constraints, drop.constraint());
            if (other != null && other.index() != null) {
                // A key's index is the constraint's: it goes with it.
                remove(indexes, other.index());
            }
            if (other != null && other.kind() == ConstraintInfo.Kind.PRIMARY_KEY) {
                setPrimaryKey(table, List.of(), null);
            }
            if (other != null && other.kind() == ConstraintInfo.Kind.NOT_NULL) {
                // 18+: the constraint is the column's NOT NULL; dropping it makes the column nullable.
                for (SqlName c : other.columns()) {
                    Column column = table.columns.get(c);
                    if (column != null) {
                        put(table.columns, c, new Column(column.type(), column.defaultSql(), false, column.hasNulls(),
                                column.assumed()));
                    }
                }
            }
        } else if (change instanceof CatalogChange.CreateIndex create) {
            assumeColumns(tableName, create.columns());
            put(indexes, create.index(), new Index(tableName, create.columns(), create.unique(), true));
        } else if (change instanceof CatalogChange.CreateIndexOnOnly create) {
            assumeColumns(tableName, create.columns());
            put(indexes, create.index(), new Index(tableName, create.columns(), create.unique(), false));
            validate(create.index());
        } else if (change instanceof CatalogChange.AttachIndex attach) {
            Index index = indexes.get(attach.index());
            Index parent = indexes.get(attach.parentIndex());
            if (index == null || parent == null) {
                throw ZdmException.missing("index " + (index == null ? attach.index() : attach.parentIndex()));
            }
            if (attachedTo.containsKey(attach.index()) || attachedIndex(attach.parentIndex(), index.table()).isPresent()) {
                throw ZdmException.precondition("cannot attach index " + attach.index() + " as a partition of index "
                        + attach.parentIndex() + ": another index is already attached for partition " + index.table());
            }
            put(attachedTo, attach.index(), attach.parentIndex());
            validate(attach.parentIndex());
        } else if (change instanceof CatalogChange.SetDefault set) {
            Column column = columnOf(tableName, table, set.column());
            requireKnownDefault(set.defaultSql(), null);
            put(table.columns, set.column(), new Column(column.type(), set.defaultSql(), column.notNull(), column.hasNulls(),
                    column.assumed()));
        } else if (change instanceof CatalogChange.DropNotNull drop) {
            Column column = columnOf(tableName, table, drop.column());
            if (drop.column().equals(table.primaryKey) || constraints(tableName).stream().anyMatch(c ->
                    c.kind() == ConstraintInfo.Kind.PRIMARY_KEY && c.columns().contains(drop.column()))) {
                throw ZdmException.precondition("column " + drop.column() + " is in a primary key");
            }
            put(table.columns, drop.column(), new Column(column.type(), column.defaultSql(), false, column.hasNulls(),
                    column.assumed()));
            // 18+: DROP NOT NULL drops the column's NOT NULL constraint, valid or not.
            for (ConstraintInfo c : List.copyOf(table.constraints.values())) {
                if (c.kind() == ConstraintInfo.Kind.NOT_NULL && c.columns().equals(List.of(drop.column()))) {
                    remove(table.constraints, c.name());
                }
            }
        } else if (change instanceof CatalogChange.AddCheck check) {
            requireFreeConstraintName(tableName, table, check.constraint());
            assumeColumns(tableName, check.columns());
            put(table.constraints, check.constraint(), new ConstraintInfo(tableName, check.constraint(),
                    ConstraintInfo.Kind.CHECK, check.columns(), false, null, null, List.of()));
        } else if (change instanceof CatalogChange.AddForeignKey fk) {
            requireFreeConstraintName(tableName, table, fk.constraint());
            assumeColumns(tableName, fk.columns());
            Table referenced = table(fk.refTable());
            assumeColumns(fk.refTable(), fk.refColumns());
            if (!hasUniqueIndexOn(fk.refTable(), Set.copyOf(fk.refColumns()))) {
                throw ZdmException.precondition("there is no unique constraint matching given keys for referenced table "
                        + fk.refTable() + " (" + fk.refColumns().stream().map(SqlName::value)
                        .collect(java.util.stream.Collectors.joining(", ")) + ")");
            }
            for (int i = 0; i < fk.columns().size(); i++) {
                Column mine = table.columns.get(fk.columns().get(i));
                Column theirs = referenced.columns.get(fk.refColumns().get(i));
                if (mine.typeKnown() && theirs.typeKnown() && !dev.zdm.pg.KeyTypes.comparable(mine.type(), theirs.type())) {
                    throw ZdmException.precondition("foreign key constraint " + fk.constraint() + " cannot be implemented:"
                            + " key columns " + fk.columns().get(i) + " and " + fk.refColumns().get(i)
                            + " are of incompatible types: " + mine.type() + " and " + theirs.type());
                }
            }
            put(table.constraints, fk.constraint(), new ConstraintInfo(tableName, fk.constraint(),
                    ConstraintInfo.Kind.FOREIGN_KEY, fk.columns(), false, null, fk.refTable(), fk.refColumns()));
        } else if (change instanceof CatalogChange.AddKeyUsingIndex key) {
            requireFreeConstraintName(tableName, table, key.constraint());
            Index index = indexes.get(key.index());
            if (index == null || !index.valid() || !index.unique() || !index.table().equals(tableName)) {
                throw ZdmException.precondition("index " + key.index() + " is not a valid unique index of " + tableName);
            }
            if (constraints(tableName).stream().anyMatch(c -> key.index().equals(c.index()))) {
                throw ZdmException.precondition("index " + key.index() + " is already associated with a constraint");
            }
            if (key.primary()) {
                if (table.constraints.values().stream().anyMatch(c -> c.kind() == ConstraintInfo.Kind.PRIMARY_KEY)) {
                    throw ZdmException.precondition("multiple primary keys for table " + tableName + " are not allowed");
                }
                for (SqlName name : key.columns()) {
                    Column column = columnOf(tableName, table, name);
                    if (!column.notNull()) {
                        // The plan makes them NOT NULL first: a column that is not would be scanned under ACCESS EXCLUSIVE.
                        throw ZdmException.precondition("column " + name + " of " + tableName + " is not NOT NULL");
                    }
                }
                setPrimaryKey(table, key.columns(), key.constraint());
            }
            if (!key.index().equals(key.constraint())) {
                // USING INDEX renames the index to the constraint's name.
                remove(indexes, key.index());
                put(indexes, key.constraint(), index);
            }
            put(table.constraints, key.constraint(), new ConstraintInfo(tableName, key.constraint(),
                    key.primary() ? ConstraintInfo.Kind.PRIMARY_KEY : ConstraintInfo.Kind.UNIQUE, key.columns(), true,
                    key.constraint(), null, List.of()));
        } else if (change instanceof CatalogChange.DropConstraintCascade drop) {
            apply(tableName, new CatalogChange.DropConstraint(drop.constraint()));
            for (ConstraintInfo fk : drop.dependents()) {
                remove(table(fk.table()).constraints, fk.name());
            }
        } else if (change instanceof CatalogChange.DropColumn drop) {
            columnOf(tableName, table, drop.column());
            for (ConstraintInfo fk : referencing(tableName)) {
                if (!fk.table().equals(tableName) && fk.refColumns().contains(drop.column())) {
                    if (!drop.cascade()) {
                        throw ZdmException.precondition("cannot drop column " + drop.column() + " of table " + tableName
                                + " because constraint " + fk.name() + " on table " + fk.table() + " depends on it");
                    }
                    remove(table(fk.table()).constraints, fk.name());
                }
            }
            for (ConstraintInfo c : constraints(tableName)) {
                if (c.columns().contains(drop.column())) {
                    remove(table.checks, c.name());
                    remove(table.constraints, c.name());
                }
            }
            for (Map.Entry<SqlName, Index> index : Map.copyOf(indexes).entrySet()) {
                if (index.getValue().table().equals(tableName) && index.getValue().columns().contains(drop.column())) {
                    remove(indexes, index.getKey());
                }
            }
            if (table.primaryKey.contains(drop.column())) {
                setPrimaryKey(table, List.of(), null);
            }
            for (Map.Entry<SqlName, List<SqlName>> generated : Map.copyOf(table.reads).entrySet()) {
                if (generated.getValue().contains(drop.column()) && table.columns.containsKey(generated.getKey())) {
                    if (!drop.cascade()) {
                        throw ZdmException.precondition("cannot drop column " + drop.column() + " of table " + tableName
                                + " because generated column " + generated.getKey() + " depends on it");
                    }
                    // DROP COLUMN ... CASCADE drops the generated column with it.
                    remove(table.columns, generated.getKey());
                    remove(table.reads, generated.getKey());
                    remove(table.generated, generated.getKey());
                }
            }
            remove(table.views, drop.column());
            remove(table.others, drop.column());
            remove(table.columns, drop.column());
            if (table.dropped.add(drop.column()) && recording) {
                undo.push(() -> table.dropped.remove(drop.column()));
            }
        } else if (change instanceof CatalogChange.RemoveIndex drop) {
            if (!indexes.containsKey(drop.index())) {
                throw ZdmException.missing("index " + drop.index());
            }
            constraints(tableName).stream().filter(c -> drop.index().equals(c.index())).findFirst().ifPresent(c -> {
                throw ZdmException.precondition("cannot drop index " + drop.index() + " because " + c.kind()
                        + " constraint " + c.name() + " on table " + tableName + " requires it");
            });
            remove(indexes, drop.index());
            // A partitioned index takes the partitions' indexes attached to it along.
            for (SqlName attached : List.copyOf(attachedTo.keySet())) {
                if (drop.index().equals(attachedTo.get(attached)) && indexes.containsKey(attached)) {
                    apply(indexes.get(attached).table(), new CatalogChange.RemoveIndex(attached));
                    remove(attachedTo, attached);
                }
            }
        } else if (change instanceof CatalogChange.DropIndex drop) {
            Index index = indexes.get(drop.index());
            if (index != null && !index.valid()) {
                // A leftover's drop is for good: the server does not bring an INVALID index back.
                indexes.remove(drop.index());
            } else {
                remove(indexes, drop.index());
            }
            // A partitioned index takes the partitions' indexes attached to it along.
            for (SqlName attached : List.copyOf(attachedTo.keySet())) {
                Index partitionIndex = indexes.get(attached);
                if (drop.index().equals(attachedTo.get(attached)) && partitionIndex != null) {
                    apply(partitionIndex.table(), new CatalogChange.DropIndex(attached));
                }
            }
            remove(attachedTo, drop.index());
        } else {
            throw new IllegalArgumentException("no model for " + change);
        }
    }

    /**
     * CREATE TABLE: empty, its columns' types and defaults checked as ADD COLUMN checks them, its serials'
     * sequences and its key's index in the relation name space. IF NOT EXISTS of a table there is nothing.
     */
    private void createTable(SqlName tableName, CatalogChange.CreateTable create) {
        if (create.ifNotExists() && tables.containsKey(tableName)) {
            return;
        }
        if (relationExists(tableName)) {
            throw ZdmException.exists("relation " + tableName);
        }
        Table table = new Table();
        table.relfilenode = nextRelfilenode++;
        for (CatalogChange.NewColumn c : create.columns()) {
            requireKnown(new CatalogChange.AddColumn(c.name(), c.type(), c.defaultSql(), c.notNull(), true,
                    c.ownedSequence()));
            table.columns.put(c.name(), new Column(c.type(), c.defaultSql(), c.notNull(), false));
            if (c.ownedSequence() != null && otherRelations.add(c.ownedSequence()) && recording) {
                undo.push(() -> otherRelations.remove(c.ownedSequence()));
            }
        }
        put(tables, tableName, table);
        if (create.primaryIndex() != null) {
            put(indexes, create.primaryIndex(), new Index(tableName, create.primaryKey(), true, true));
            table.primaryKey = create.primaryKey();
            table.primaryIndex = create.primaryIndex();
            table.constraints.put(create.primaryIndex(), new ConstraintInfo(tableName, create.primaryIndex(),
                    ConstraintInfo.Kind.PRIMARY_KEY, create.primaryKey(), true, create.primaryIndex(), null, List.of()));
        }
        if (version.notNullIsConstraint()) {
            // 18+: each NOT NULL column (a primary key's too) has its NOT NULL constraint, named as PostgreSQL names it.
            for (CatalogChange.NewColumn c : create.columns()) {
                if (c.notNull() || create.primaryKey().contains(c.name())) {
                    SqlName notNull = dev.zdm.pg.ObjectNames.choose(tableName.value(), c.name().value(), "not_null",
                            n -> constraintExists(tableName.sibling(n)));
                    table.constraints.put(notNull, new ConstraintInfo(tableName, notNull, ConstraintInfo.Kind.NOT_NULL,
                            List.of(c.name()), true, null, null, List.of()));
                }
            }
        }
    }

    /** The table's primary key and its index, undone with the plan. */
    private void setPrimaryKey(Table table, List<SqlName> key, SqlName index) {
        List<SqlName> beforeKey = table.primaryKey;
        SqlName beforeIndex = table.primaryIndex;
        table.primaryKey = key;
        table.primaryIndex = index;
        if (recording) {
            undo.push(() -> {
                table.primaryKey = beforeKey;
                table.primaryIndex = beforeIndex;
            });
        }
    }

    /** The column a change names: known, or assumed in an open world; else error 20. */
    private Column columnOf(SqlName tableName, Table table, SqlName name) {
        assumeColumns(tableName, List.of(name));
        Column column = table.columns.get(name);
        if (column == null) {
            throw ZdmException.missing("column " + tableName + "." + name);
        }
        return column;
    }

    /** A constraint's name is unique per table (42710, "constraint ... for relation ... already exists"). */
    private void requireFreeConstraintName(SqlName tableName, Table table, SqlName name) {
        if (table.checks.containsKey(name) || table.constraints.containsKey(name)) {
            throw ZdmException.exists("constraint " + name + " for relation " + tableName);
        }
    }

    /** In an open world, columns a request names exist: remember them, so adding one later is error 21. */
    void assumeColumns(SqlName namedTableName, Iterable<SqlName> columns) {
        SqlName tableName = key(namedTableName);
        if (!isOpenWorld()) {
            return;
        }
        Table table = table(tableName);
        for (SqlName column : columns) {
            if (!table.dropped.contains(column)) {
                table.columns.putIfAbsent(column, Column.assumedToExist());
            }
        }
    }

    /** In an open world, a job that names more rows than assumed says how big the table is. */
    void assumeAtLeast(SqlName namedTableName, long rows) {
        SqlName tableName = key(namedTableName);
        Table table = table(tableName);
        if (isOpenWorld() && rows > table.rows) {
            table.rows = rows;
        }
    }

    /**
     * A partitioned index becomes valid once every partition of its table has a valid index attached to
     * it, and then so may the index it is itself attached to (indexcmds.c, validatePartitionedIndex).
     */
    private void validate(SqlName partitioned) {
        Index index = indexes.get(partitioned);
        if (index == null || index.valid()) {
            return;
        }
        for (SqlName partition : lineage(index.table()).children()) {
            Optional<SqlName> own = attachedIndex(partitioned, partition);
            if (own.isEmpty() || !indexes.get(own.get()).valid()) {
                return;
            }
        }
        put(indexes, partitioned, new Index(index.table(), index.columns(), index.unique(), true, index.plainOrder()));
        SqlName parent = attachedTo.get(partitioned);
        if (parent != null) {
            validate(parent);
        }
    }

    @Override
    public Optional<SqlName> parentIndex(SqlName index) {
        return Optional.ofNullable(attachedTo.get(key(index))).filter(indexes::containsKey);
    }

    @Override
    public Optional<SqlName> attachedIndex(SqlName namedParentIndex, SqlName partition) {
        SqlName parentIndex = key(namedParentIndex);
        return attachedTo.entrySet().stream()
                .filter(e -> e.getValue().equals(parentIndex) && indexes.containsKey(e.getKey())
                        && indexes.get(e.getKey()).table().equals(key(partition)))
                .map(Map.Entry::getKey).findFirst();
    }

    /**
     * The partition's index a plain CREATE INDEX on its parent adopts rather than builds (DefineIndex:
     * CompareIndexInfo, and attached to no other index): same columns and uniqueness, valid, plain. A
     * constraint's index is left out: the model does not know which parent index the server attached it to.
     */
    Optional<SqlName> adoptableIndex(SqlName partition, List<SqlName> columns, boolean unique) {
        Set<SqlName> constraintIndexes = new java.util.HashSet<>();
        constraints(partition).forEach(c -> {
            if (c.index() != null) {
                constraintIndexes.add(c.index());
            }
        });
        return indexes.entrySet().stream()
                .filter(e -> e.getValue().table().equals(partition) && e.getValue().columns().equals(columns)
                        && e.getValue().unique() == unique && e.getValue().valid() && e.getValue().plainOrder()
                        && !attachedTo.containsKey(e.getKey()) && !constraintIndexes.contains(e.getKey()))
                .map(Map.Entry::getKey).sorted(java.util.Comparator.comparing(SqlName::value)).findFirst();
    }

    /**
     * 18+: a child's NOT NULL constraint that came down from its parent's ADD COLUMN ... NOT NULL bears the
     * parent's name, not one chosen for the child.
     */
    void inheritNotNullName(SqlName tableName, SqlName column, SqlName name) {
        Table table = table(tableName);
        for (ConstraintInfo c : List.copyOf(table.constraints.values())) {
            if (c.kind() == ConstraintInfo.Kind.NOT_NULL && c.columns().equals(List.of(column)) && !c.name().equals(name)) {
                remove(table.constraints, c.name());
                put(table.constraints, name, new ConstraintInfo(tableName, name, ConstraintInfo.Kind.NOT_NULL,
                        c.columns(), c.validated(), null, null, List.of()));
            }
        }
    }

    /** A concurrent build that failed after its first transaction leaves its index INVALID, for good. */
    void addInvalidIndex(SqlName namedTableName, CatalogChange.CreateIndex create) {
        SqlName tableName = key(namedTableName);
        indexes.put(key(create.index()), new Index(tableName, create.columns(), create.unique(), false));
    }

    /** After a backfill of these columns no row holds NULL in them. */
    void filled(SqlName namedTableName, Set<SqlName> columns) {
        SqlName tableName = key(namedTableName);
        Table table = table(tableName);
        for (SqlName name : columns) {
            Column column = table.columns.get(name);
            if (column != null) {
                put(table.columns, name, new Column(column.type(), column.defaultSql(), column.notNull(), false, column.assumed()));
            }
        }
    }

    void rewrite(SqlName namedTableName) {
        SqlName tableName = key(namedTableName);
        Table table = table(tableName);
        long before = table.relfilenode;
        table.relfilenode = nextRelfilenode++;
        if (recording) {
            undo.push(() -> table.relfilenode = before);
        }
    }

    /**
     * The relation a name means, as the model keys it: as the server's search_path resolves it, its bare
     * name where the first schema has it (or nothing is known of the path: the open world, a file), else
     * the first later schema's that has it. A name qualified with the first schema is its bare name.
     * Requests keep the name as they spelled it (so the SQL says what the PostgreSQL engine's says, and
     * the server resolves it as it does there); every lookup goes through here.
     */
    public SqlName key(SqlName name) {
        if (name == null || searchPath.isEmpty()) {
            return name;
        }
        if (name.schema() != null) {
            return created(name);
        }
        if (tables.containsKey(name)) {
            return name;
        }
        for (String schema : searchPath.subList(1, searchPath.size())) {
            SqlName qualified = SqlName.table(schema, name.value());
            if (tables.containsKey(qualified)) {
                return qualified;
            }
        }
        return name;
    }

    /** Where a name makes a relation: an unqualified one in the first schema, which the model keys bare. */
    private SqlName created(SqlName name) {
        return name.schema() != null && !searchPath.isEmpty() && name.schema().equals(searchPath.get(0))
                ? name.unqualified() : name;
    }

    /** The change with every relation it names (indexes, sequences, a referenced table) as the model keys it. */
    private CatalogChange keyed(CatalogChange change) {
        if (change instanceof CatalogChange.AddColumn a && a.ownedSequence() != null) {
            return new CatalogChange.AddColumn(a.column(), a.type(), a.defaultSql(), a.notNull(), a.existingRowsGetDefault(),
                    created(a.ownedSequence()));
        } else if (change instanceof CatalogChange.CreateTable c) {
            return new CatalogChange.CreateTable(c.columns().stream().map(n -> new CatalogChange.NewColumn(n.name(), n.type(),
                    n.defaultSql(), n.notNull(), n.ownedSequence() == null ? null : created(n.ownedSequence()))).toList(),
                    c.primaryKey(), c.primaryIndex() == null ? null : created(c.primaryIndex()), c.ifNotExists());
        } else if (change instanceof CatalogChange.CreateIndex c) {
            return new CatalogChange.CreateIndex(created(c.index()), c.columns(), c.unique());
        } else if (change instanceof CatalogChange.DropIndex d) {
            return new CatalogChange.DropIndex(created(d.index()));
        } else if (change instanceof CatalogChange.CreateIndexOnOnly c) {
            return new CatalogChange.CreateIndexOnOnly(created(c.index()), c.columns(), c.unique());
        } else if (change instanceof CatalogChange.AttachIndex a) {
            return new CatalogChange.AttachIndex(created(a.parentIndex()), created(a.index()));
        } else if (change instanceof CatalogChange.RemoveIndex r) {
            return new CatalogChange.RemoveIndex(created(r.index()));
        } else if (change instanceof CatalogChange.AddKeyUsingIndex k) {
            return new CatalogChange.AddKeyUsingIndex(k.constraint(), created(k.index()), k.columns(), k.primary());
        } else if (change instanceof CatalogChange.AddForeignKey f) {
            return new CatalogChange.AddForeignKey(f.constraint(), f.columns(), key(f.refTable()), f.refColumns());
        }
        return change;
    }

    /**
     * As the PostgreSQL engine's: the schema the request named, or where the table is when an unqualified
     * name finds it in a later schema of the search_path (null in the first one, where it is found bare).
     */
    @Override
    public String schemaOf(SqlName table) {
        return table.schema() != null ? table.schema() : key(table).schema();
    }

    @Override
    public String tableSchema(SqlName table) {
        return key(table).schema();
    }
}
