package dev.zdm.pg;

import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns an operation into the statements that do it without taking the table away from the
 * application, for one server version. This is zdm's PostgreSQL knowledge in one place: both engines
 * run the plans it makes; the simulator predicts their effect, the PostgreSQL engine observes it.
 */
public final class Planner {

    /**
     * The most rows one batch of add_column's backfill takes. The engine sizes each batch by time below
     * it (a share of the lock budget), so this is a ceiling, not a size: at 1000, per-batch round trips
     * and commits cost the backfill a third of its time (bench/where-time-goes.md).
     */
    public static final int BACKFILL_BATCH_SIZE = 100_000;

    /** INDEX_MAX_KEYS, pg_config_manual.h: the most columns an index may have. */
    static final int INDEX_MAX_KEYS = 32;
    /** MaxHeapAttributeNumber, htup_details.h: the most attribute numbers a table may use, dropped ones too. */
    static final int MAX_HEAP_ATTRIBUTES = 1600;
    /** The system columns of every table from 12 on (heap.c, SystemAttributeByName); oid was one only WITH OIDS. */
    static final Set<String> SYSTEM_COLUMNS = SystemColumns.NAMES;

    private final ServerVersion version;
    private final CatalogView catalog;

    public Planner(ServerVersion version, CatalogView catalog) {
        this.version = version;
        this.catalog = catalog;
    }

    public record IndexSpec(SqlName table, List<SqlName> columns, SqlName name, boolean unique,
                            boolean concurrently) {
        public IndexSpec {
            columns = List.copyOf(columns);
        }

        /**
         * idx_email, idx_first_last: the name the course's examples use, cut to 63 characters as
         * PostgreSQL cuts a longer identifier (rather than refusing a legitimate long column name).
         */
        public static SqlName defaultName(List<SqlName> columns) {
            return SqlName.of(SqlName.truncate("idx_" + columns.stream().map(SqlName::value).collect(Collectors.joining("_"))));
        }

        /**
         * The default name, where two long column lists cut to the same 63 bytes would share one: a name
         * taken by an index of this table on these columns is this index's (the request sent again, or
         * resumed); one taken by another relation is passed over for the next, its end cut for a number
         * as PostgreSQL's ChooseRelationName numbers the names it picks. A name that fits whole names
         * its columns, and an index of that name is this request's to meet (21, or an INVALID leftover).
         */
        public static SqlName defaultName(SqlName table, List<SqlName> columns, CatalogView catalog) {
            String full = "idx_" + columns.stream().map(SqlName::value).collect(Collectors.joining("_"));
            if (SqlName.bytes(full) <= SqlName.MAX_LENGTH) {
                return SqlName.of(full);
            }
            for (int pass = 0; ; pass++) {
                String suffix = pass == 0 ? "" : String.valueOf(pass);
                SqlName name = SqlName.of(SqlName.clip(full, SqlName.MAX_LENGTH - suffix.length()) + suffix);
                SqlName there = new SqlName(catalog.schemaOf(table), name.value());
                if (!catalog.relationExists(there)) {
                    return name;
                }
                boolean own = catalog.indexTable(there).map(t -> t.value().equals(table.value())).orElse(false)
                        && catalog.indexColumns(there).map(columns::equals).orElse(false);
                if (own) {
                    return name;
                }
            }
        }
    }

    /**
     * {@code safe = false} asks for the one plain ALTER TABLE even where it rewrites (for comparison);
     * {@code sleepMs} paces the backfill of the safe way, giving the application room between batches.
     */
    public record ColumnSpec(SqlName table, SqlName column, DataType type, ColumnDefault defaultValue,
                             boolean nullable, boolean safe, long sleepMs) {
        public ColumnSpec(SqlName table, SqlName column, DataType type, ColumnDefault defaultValue,
                          boolean nullable, boolean safe) {
            this(table, column, type, defaultValue, nullable, safe, 0);
        }
    }

    public record MigrationSpec(SqlName table, Map<SqlName, SqlExpression> assignments, SqlExpression condition,
                                int batchSize, Long rowLimit, long sleepMs) {
        public MigrationSpec {
            assignments = Map.copyOf(assignments);
        }
    }

    public Plan createIndex(IndexSpec spec) {
        requireTable(spec.table());
        if (spec.columns().size() > INDEX_MAX_KEYS) {
            throw new ZdmException(ErrorCode.PRECONDITION_FAILED, "cannot use more than " + INDEX_MAX_KEYS
                    + " columns in an index (SQLSTATE 54011: PostgreSQL's INDEX_MAX_KEYS)");
        }
        requireColumns(spec.table(), spec.columns());
        requireIndexable(spec.table(), spec.columns());
        List<Step> steps = new ArrayList<>();
        // CREATE INDEX puts the index in its table's schema; every other statement names it there.
        SqlName index = inSchemaOf(spec.table(), spec.name());
        var existing = catalog.index(index);
        if (existing.isPresent() && existing.get() == CatalogView.IndexState.VALID) {
            throw ZdmException.exists("index " + spec.name());
        }
        if (existing.isEmpty() && catalog.relationExists(index)) {
            // Tables, indexes, views and sequences share pg_class's name space: "relation already exists".
            throw ZdmException.exists("relation " + spec.name());
        }
        if (catalog.lineage(spec.table()).foreign()) {
            refuseForeign(spec.table(), "builds an index on it");
        }
        if (catalog.lineage(spec.table()).partitioned()) {
            PartitionedIndex partitioned = new PartitionedIndex(version, catalog, this);
            partitioned.check(spec);
            if (spec.concurrently()) {
                refuseForeign(spec.table(), "builds the index partition by partition (CREATE INDEX CONCURRENTLY on each)");
                requireRights(spec.table(), descendants(spec.table()), List.of("ownership"),
                        "builds the index on each of them directly (CREATE INDEX CONCURRENTLY)");
                return partitioned.plan(spec, index, existing);
            }
        }
        if (existing.isPresent()) {
            // An INVALID index of that name is the leftover of a failed concurrent build: it costs
            // writes and serves no reads, so it goes before the new build.
            steps.add(new Statement(spec.table(), dropIndex(index, spec.concurrently()),
                    dropIndexLock(spec.concurrently()), TableWork.CATALOG_ONLY, !spec.concurrently(), null,
                    new CatalogChange.DropIndex(index), treeLocks(catalog, spec.table(), LockMode.ACCESS_EXCLUSIVE)));
        }
        String columns = spec.columns().stream().map(SqlName::quoted).collect(Collectors.joining(", "));
        String sql = "CREATE " + (spec.unique() ? "UNIQUE " : "") + "INDEX "
                + (spec.concurrently() ? "CONCURRENTLY " : "") + spec.name().quoted()
                + " ON " + spec.table().quoted() + " (" + columns + ")";
        var change = new CatalogChange.CreateIndex(index, spec.columns(), spec.unique());
        if (spec.concurrently()) {
            // A failed CIC leaves its INVALID index behind; dropping it is the undo.
            steps.add(new Statement(spec.table(), sql, LockMode.SHARE_UPDATE_EXCLUSIVE,
                    TableWork.BUILD_INDEX_CONCURRENTLY, false, dropIndex(index, true), change));
        } else {
            // On a partitioned table the build holds SHARE on every partition too (pg_locks on 15).
            steps.add(new Statement(spec.table(), sql, LockMode.SHARE, TableWork.BUILD_INDEX, true,
                    dropIndex(index, false), change, treeLocks(catalog, spec.table(), LockMode.SHARE)));
        }
        return new Plan(spec.table(), steps);
    }

    public Plan addColumn(ColumnSpec spec) {
        requireTable(spec.table());
        Lineage lineage = catalog.lineage(spec.table());
        if (lineage.partition()) {
            // ATExecAddColumn refuses before anything else (SQLSTATE 42809): a partition has its parent's columns.
            throw ZdmException.precondition("cannot add column to a partition: " + spec.table() + " is a partition of "
                    + lineage.parent() + "; add the column to " + root(spec.table()) + ", which adds it to every partition");
        }
        return lockingTheTree(addColumnPlan(spec));
    }

    /**
     * ADD COLUMN reaches every inheritance child: one that has a column of the name already takes the
     * parent's as its own (merged, and the recursion stops there) if the type is the same, type modifier
     * included; another type is refused (ATExecAddColumn, 42804, on every version). Partitions have no
     * columns of their own to differ.
     */
    private void requireMergeableChildren(SqlName table, SqlName column, DataType type) {
        PgFacts facts = PgFacts.of(version);
        for (SqlName child : catalog.lineage(table).children()) {
            if (!catalog.lineage(child).inheritanceChild()) {
                continue;
            }
            if (catalog.column(child, column) == CatalogView.Presence.PRESENT) {
                DataType theirs = catalog.columnType(child, column);
                if (theirs != null && !canonicalType(theirs, facts).equals(canonicalType(type, facts))) {
                    throw ZdmException.precondition("child table " + child + " has different type for column " + column
                            + " (" + theirs + ", not " + type + "; SQLSTATE 42804): ADD COLUMN on " + table + " would merge"
                            + " it with the child's; give the column another name, or the child's type");
                }
                continue;
            }
            requireMergeableChildren(child, column, type);
        }
    }

    /** The type as format_type names it: int4 and int are integer, varchar(20) is character varying(20). */
    private static String canonicalType(DataType type, PgFacts facts) {
        String base = PgFacts.baseTypeName(type.sql());
        String rest = type.sql().substring(base.length()).replace(" ", "");
        return facts.canonicalType(base).orElse(base) + rest;
    }

    /** The top of the partition tree the table is in. */
    private SqlName root(SqlName table) {
        SqlName at = table;
        for (int depth = 0; depth <= MAX_TREE_DEPTH; depth++) {
            Lineage lineage = catalog.lineage(at);
            if (!lineage.partition()) {
                return at;
            }
            at = lineage.parent();
        }
        return at;
    }

    private Plan addColumnPlan(ColumnSpec spec) {
        if (catalog.column(spec.table(), spec.column()) == CatalogView.Presence.PRESENT) {
            throw ZdmException.exists("column " + spec.table() + "." + spec.column());
        }
        SystemColumns.require(spec.column());
        if (catalog.attributeNumbers(spec.table()) >= MAX_HEAP_ATTRIBUTES) {
            throw new ZdmException(ErrorCode.PRECONDITION_FAILED, "tables can have at most " + MAX_HEAP_ATTRIBUTES
                    + " columns, and " + spec.table() + " has used " + catalog.attributeNumbers(spec.table())
                    + " attribute numbers (dropped columns keep theirs; SQLSTATE 54011): only a rewrite of the"
                    + " table into a new one frees them");
        }
        var serial = PgFacts.of(version).serialType(spec.type().sql());
        requireMergeableChildren(spec.table(), spec.column(), serial.map(DataType::new).orElse(spec.type()));
        if (serial.isPresent()) {
            return serialColumn(spec, new DataType(serial.get()));
        }
        var domain = catalog.domain(spec.type());
        ColumnDefault def = spec.defaultValue();
        if (domain.isEmpty() && !(def instanceof ColumnDefault.None) && def.isNull()) {
            // PostgreSQL stores no default that is a NULL constant, cast or not (heap.c, AddRelationNewConstraints):
            // the column has none, and NOT NULL on a table with rows fails as it does without a default.
            // Not for a domain, where DEFAULT NULL overrides the domain's own default.
            def = new ColumnDefault.None();
            spec = new ColumnSpec(spec.table(), spec.column(), spec.type(), def, spec.nullable(), spec.safe(), spec.sleepMs());
        }
        DefaultCheck.check(version, catalog, spec.type(), def);
        if (def instanceof ColumnDefault.Expression e && !e.volatile_()) {
            catalog.evaluationRefusal(e.expression()).ifPresent(refusal -> {
                throw refusal;
            });
        }
        if (domain.isPresent() && (def instanceof ColumnDefault.None || domain.get().constrained()
                || version.constantDefaultRewrites() && domain.get().defaultSql() != null)) {
            // A constrained domain rewrites whatever the default (found by the fuzzer: DEFAULT 5 on a
            // domain with a CHECK changed relfilenode on 15 and 17, while the plan said catalog only).
            return domainColumn(spec, domain.get());
        }
        if (def instanceof ColumnDefault.None && !spec.nullable() && treeHasRows(spec.table())) {
            throw ZdmException.precondition("a NOT NULL column without a default cannot be added to "
                    + spec.table() + ", which has rows: give it a default");
        }
        boolean rewrites = directAddRewrites(def);
        if (rewrites && spec.safe()) {
            return new Plan(spec.table(), safeAddColumn(spec));
        }
        return new Plan(spec.table(), List.of(new Statement(spec.table(), addColumnSql(spec),
                LockMode.ACCESS_EXCLUSIVE, rewrites ? TableWork.REWRITE : TableWork.CATALOG_ONLY, true,
                dropColumn(spec), new CatalogChange.AddColumn(spec.column(), spec.type(), def.sql(),
                        !spec.nullable(), true))));
    }

    /**
     * serial, bigserial, smallserial are parser sugar (parse_utilcmd.c, transformColumnDefinition): an
     * integer column, a sequence it owns, DEFAULT nextval() and NOT NULL. That default is volatile, so
     * the one-statement ADD COLUMN rewrites the table under ACCESS EXCLUSIVE. The safe way spells the
     * sugar out: the sequence, the bare column with the nextval() default for new rows and the
     * sequence owned by it, in one short transaction; the old rows numbered in batches; NOT NULL
     * through the validated CHECK. Dropping the column (the undo) drops the sequence it owns.
     */
    private Plan serialColumn(ColumnSpec spec, DataType integerType) {
        if (!(spec.defaultValue() instanceof ColumnDefault.None)) {
            throw ZdmException.malformed(spec.type() + " brings its own default (nextval of its sequence): give none");
        }
        SqlName t = spec.table();
        SqlName c = spec.column();
        SqlName sequence = chooseRelationName(t, t.value(), c.value(), "seq");
        SqlExpression nextval = new SqlExpression("nextval(" + SqlLiteral.of(sequence.quoted()) + "::regclass)");
        ColumnSpec spelled = new ColumnSpec(t, c, integerType, new ColumnDefault.Expression(nextval, true),
                false, spec.safe(), spec.sleepMs());
        if (!spec.safe()) {
            return new Plan(t, List.of(new Statement(t, addColumnSql(spec), LockMode.ACCESS_EXCLUSIVE,
                    TableWork.REWRITE, true, dropColumn(spec),
                    new CatalogChange.AddColumn(c, integerType, nextval.sql(), true, true, sequence))));
        }
        String first = "CREATE SEQUENCE " + sequence.quoted() + " AS " + integerType.sql() + "; "
                + addBareWithDefault(spelled, "") + "; "
                + "ALTER SEQUENCE " + sequence.quoted() + " OWNED BY " + t.quoted() + "." + c.quoted();
        return new Plan(t, safeAddColumn(spelled, first, sequence, null));
    }

    /**
     * A column of a domain takes the domain's default. A volatile one rewrites the table, so the
     * column is added with an explicit DEFAULT NULL (which, unlike no default, is not the domain's)
     * and the domain's expression set for new rows in the same ALTER; the old rows are filled in
     * batches; the column's own default is dropped at the end, leaving the domain's in charge as the
     * plain ADD COLUMN would. A constrained domain rewrites whatever the default: no safe way.
     */
    private Plan domainColumn(ColumnSpec spec, DomainType domain) {
        SqlName t = spec.table();
        boolean given = !(spec.defaultValue() instanceof ColumnDefault.None);
        boolean hasRows = treeHasRows(t);
        // Before 11 any default rewrites, and a column of a domain with a default has one even when
        // DEFAULT NULL is written (the NULL is coerced to the domain: no plain NULL constant).
        boolean oldDefault = version.constantDefaultRewrites() && domain.defaultSql() != null;
        if ((domain.constrained() || oldDefault) && spec.safe() && hasRows) {
            throw ZdmException.precondition("a column of domain " + spec.type() + (domain.constrained()
                    ? ", which has constraints, is added by rewriting " + t + " under ACCESS EXCLUSIVE (each row is checked)"
                    : ", which has a default, is added by rewriting " + t + " under ACCESS EXCLUSIVE before PostgreSQL 11")
                    + ": no safe way; add it as the domain's base type and convert it in a maintenance window, or send"
                    + " safe: false");
        }
        // On 11 and 12 ADD COLUMN does not apply a domain's default to the old rows at all: no rewrite even
        // for a volatile one (seen by the fuzzer), and the old rows stay NULL.
        boolean rewrites = domain.constrained() || oldDefault || !given && domain.defaultSql() != null
                && domain.defaultVolatile() && version.domainDefaultFillsOldRows();
        if (!rewrites || !spec.safe() || !hasRows && (domain.constrained() || oldDefault)) {
            boolean rowsFilled = given || domain.defaultSql() != null && version.domainDefaultFillsOldRows();
            if (!spec.nullable() && !rowsFilled && hasRows) {
                throw ZdmException.precondition("a NOT NULL column without a default cannot be added to " + t
                        + ", which has rows: give it a default" + (domain.defaultSql() == null ? ""
                        : " (on PostgreSQL " + version + " the old rows do not read the domain's default)"));
            }
            // The column's own default is only one given here; the domain's applies without being the column's.
            return new Plan(t, List.of(new Statement(t, addColumnSql(spec), LockMode.ACCESS_EXCLUSIVE,
                    rewrites ? TableWork.REWRITE : TableWork.CATALOG_ONLY, true, dropColumn(spec),
                    new CatalogChange.AddColumn(spec.column(), spec.type(), given ? spec.defaultValue().sql() : null,
                            !spec.nullable(), true))));
        }
        SqlExpression value;
        try {
            value = new SqlExpression(domain.defaultSql());
        } catch (ZdmException e) {
            throw ZdmException.precondition("the default of domain " + spec.type() + " (" + domain.defaultSql()
                    + ") rewrites " + t + " and cannot be re-used for a backfill: " + e.getMessage());
        }
        ColumnSpec spelled = new ColumnSpec(t, spec.column(), spec.type(), new ColumnDefault.Expression(value, true),
                spec.nullable(), true, spec.sleepMs());
        String alter = "ALTER TABLE " + t.quoted() + " ";
        Statement dropOwnDefault = new Statement(t, alter + "ALTER COLUMN " + spec.column().quoted() + " DROP DEFAULT",
                LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true, null,
                new CatalogChange.DropDefault(spec.column(), domain.defaultSql()));
        return new Plan(t, safeAddColumn(spelled, addBareWithDefault(spelled, " DEFAULT NULL"), null, dropOwnDefault));
    }

    /**
     * migrate_data over a table with partitions or inheritance children does what an UPDATE of it does:
     * every row of the tree, counted as PostgreSQL counts them (an UPDATE of a parent reaches its
     * children; a partitioned table has no rows of its own). Each table that holds rows is a job of its
     * own, walked along its own key (a partition's or a child's key is its own index), in the order
     * {@link Lineage} lists them, the parent's own rows first; a job on a table that has children takes
     * its own rows only (UPDATE ONLY). Each job's checkpoint is bound to its table.
     */
    public Plan migrateData(MigrationSpec spec) {
        SqlName t = spec.table();
        refuseForeign(t, "updates the rows in batches along each table's key");
        refuseRowMovement(spec);
        List<SqlName> tables = rowTables(t);
        if (tables.size() == 1 && tables.get(0).equals(t) || tables.isEmpty()) {
            return new Plan(t, List.of(migrationJob(spec, t, false)));
        }
        requireColumns(t, List.copyOf(spec.assignments().keySet()));
        if (spec.rowLimit() != null) {
            throw ZdmException.precondition("total_rows limits one job, and " + t + " is walked as " + tables.size()
                    + " (" + tables.stream().map(SqlName::toString).collect(Collectors.joining(", ")) + "), each along"
                    + " its own key: send the request for each of them with its own total_rows");
        }
        requireRights(t, tables, List.of("UPDATE", "SELECT"), "updates each of them directly");
        List<Step> steps = new ArrayList<>();
        for (SqlName table : tables) {
            boolean only = !catalog.lineage(table).children().isEmpty();
            steps.add(migrationJob(new MigrationSpec(table, spec.assignments(), spec.condition(), spec.batchSize(),
                    spec.rowLimit(), spec.sleepMs()), table, only));
        }
        return new Plan(t, steps);
    }

    /**
     * A foreign table (a partition served by a foreign data wrapper) has its rows on another server: no
     * index zdm could build there, no key to walk it by, no ctid to batch on. Refused before running,
     * naming it, for the table itself or any partition or child below it.
     */
    private void refuseForeign(SqlName table, String how) {
        List<SqlName> all = new ArrayList<>();
        all.add(table);
        all.addAll(descendants(table));
        for (SqlName t : all) {
            if (catalog.lineage(t).foreign()) {
                throw ZdmException.precondition(t + (t.equals(table) ? " is a foreign table" : " (under " + table
                        + ") is a foreign table") + ": its rows live on another server, and zdm " + how
                        + ", which it cannot do on a foreign table. Run the statement on the foreign server's table"
                        + " and by hand on " + table + ", or detach " + t + " first");
            }
        }
    }

    /**
     * zdm's steps on a tree act on each partition or child directly, and PostgreSQL checks that table's
     * own rights there, where a statement on the parent checks the parent's only (a partition owned by
     * another role, pg_partman-style, passes an UPDATE of the parent and fails zdm's mid-way). Each is
     * checked before running; a model, which knows no rights, takes them as held.
     */
    private void requireRights(SqlName named, List<SqlName> tables, List<String> needed, String how) {
        for (SqlName table : tables) {
            if (table.equals(named)) {
                continue;
            }
            List<String> lacking = new ArrayList<>(catalog.rightsLacking(table));
            lacking.retainAll(needed);
            if (!lacking.isEmpty()) {
                throw ZdmException.precondition("the role lacks " + String.join(" and ", lacking) + " on " + table
                        + " (under " + named + "): zdm " + how + ", where PostgreSQL checks each table's own rights"
                        + " (a statement on " + named + " checks " + named + "'s only). Grant it on " + table
                        + (lacking.contains("ownership") ? " (ALTER TABLE ... OWNER TO, or membership in its owner)" : "")
                        + ", or run as its owner");
            }
        }
    }

    /**
     * A set that assigns a partition key column would move rows to another partition. zdm updates each
     * partition directly (its own key, its own checkpoint), and PostgreSQL moves rows only for an UPDATE
     * through the parent: an UPDATE of the partition fails "violates partition constraint" (23514) after
     * earlier batches committed; and a row moved into a partition not yet walked would be met again, not
     * exactly once. So refused before running, for the key of every partitioned table the rows live
     * under: the table's ancestors' (a partition's bound) and its own and its descendants' (where the
     * tree routes them). A key expression's columns count as key columns: setting one may change the
     * value it computes (lower(email) for a new email), whether or not it would for these rows.
     */
    private void refuseRowMovement(MigrationSpec spec) {
        SqlName t = spec.table();
        List<SqlName> partitioned = new ArrayList<>();
        SqlName at = t;
        for (int depth = 0; depth <= MAX_TREE_DEPTH; depth++) {
            Lineage lineage = catalog.lineage(at);
            if (lineage.partitioned()) {
                partitioned.add(at);
            }
            if (!lineage.partition()) {
                break;
            }
            at = lineage.parent();
        }
        for (SqlName below : descendants(t)) {
            if (catalog.lineage(below).partitioned()) {
                partitioned.add(below);
            }
        }
        for (SqlName tree : partitioned) {
            for (SqlName used : catalog.lineage(tree).keyExpressionColumns()) {
                if (spec.assignments().containsKey(used)) {
                    throw ZdmException.precondition("set assigns " + used + ", a column the partition key of " + tree
                            + " computes from (an expression of it): rows may move between partitions, which zdm cannot"
                            + " do batch by batch (it updates each partition directly, and PostgreSQL moves rows only for"
                            + " an UPDATE through the parent; a moved row could also be met twice). Move them per"
                            + " partition by hand (INSERT into the parent and DELETE from the partition), or leave "
                            + used + " alone");
                }
            }
            for (SqlName key : catalog.lineage(tree).partitionKey()) {
                if (key == null) {
                    continue;
                }
                for (SqlName column : spec.assignments().keySet()) {
                    if (column.value().equals(key.value())) {
                        throw ZdmException.precondition("set assigns " + column + ", a partition key column of " + tree
                                + ": rows would move between partitions, which zdm cannot do batch by batch (it updates"
                                + " each partition directly, and PostgreSQL moves rows only for an UPDATE through the"
                                + " parent; a moved row could also be met twice). Move them per partition by hand"
                                + " (INSERT into the parent and DELETE from the partition), or leave the key alone");
                    }
                }
            }
        }
    }

    /**
     * The tables whose rows an UPDATE of {@code table} reaches, in the order the jobs run: the table
     * itself unless it is partitioned (no rows of its own), then each child's tree, depth first, in
     * {@link Lineage}'s order; a table reached twice (multiple inheritance) once.
     */
    List<SqlName> rowTables(SqlName table) {
        java.util.LinkedHashSet<SqlName> all = new java.util.LinkedHashSet<>();
        collectRowTables(table, all, 0);
        return List.copyOf(all);
    }

    private void collectRowTables(SqlName table, java.util.Set<SqlName> into, int depth) {
        Lineage lineage = catalog.lineage(table);
        if (!lineage.partitioned()) {
            into.add(table);
        }
        if (depth > MAX_TREE_DEPTH) {
            return;
        }
        for (SqlName child : lineage.children()) {
            collectRowTables(child, into, depth + 1);
        }
    }

    /**
     * Whether an ALTER of the table meets rows: its own or those of any partition or child (a
     * partitioned table has none of its own; a model counts each table's rows apart).
     */
    private boolean treeHasRows(SqlName table) {
        List<SqlName> tables = rowTables(table);
        if (tables.size() == 1 && tables.get(0).equals(table) || tables.isEmpty()) {
            return catalog.hasRows(table);
        }
        return tables.stream().anyMatch(catalog::hasRows);
    }

    /** One change a statement makes on another table than its own: {@code change} applies to {@code table}. */
    public record Cascaded(SqlName table, CatalogChange change) {
    }

    /**
     * What PostgreSQL makes below a partitioned table when a plain CREATE INDEX {@code index} runs on it: an
     * index on every partition (or a matching one adopted, as {@code adoptable} finds it), attached to it.
     */
    public List<Cascaded> plainIndexRecursion(SqlName table, SqlName index, List<SqlName> columns, boolean unique,
                                              java.util.function.Function<SqlName, Optional<SqlName>> adoptable) {
        return new PartitionedIndex(version, catalog, this).cascade(table, index, columns, unique, adoptable);
    }

    /** Every table below {@code table} (partitions, inheritance children), at every level, each once. */
    public List<SqlName> descendants(SqlName table) {
        return descendants(catalog, table);
    }

    /** Every table below {@code table} in that catalog, at every level, each once. */
    public static List<SqlName> descendants(CatalogView catalog, SqlName table) {
        java.util.LinkedHashSet<SqlName> all = new java.util.LinkedHashSet<>();
        collectDescendants(catalog, table, all, 0);
        return List.copyOf(all);
    }

    /**
     * The same lock on every partition below {@code table}: what a statement on a partitioned table (or one
     * whose triggers live on one) takes on each partition, as pg_locks shows on 15. Only partitions: a
     * plain CREATE INDEX (DefineIndex recurses only for relkind 'p'; seen on 10-18 by the fuzzer: a build
     * on an inheritance parent goes on while a child is held ACCESS EXCLUSIVE), a DROP INDEX of the
     * parent's index and a foreign key's triggers on a referenced parent stay on the parent. ALTER TABLE
     * and UPDATE, which do reach inheritance children, are {@link #lockingTheTree} and {@link #rowTables}.
     */
    public static List<Statement.OtherLock> treeLocks(CatalogView catalog, SqlName table, LockMode mode) {
        return partitionsBelow(catalog, table).stream().map(t -> new Statement.OtherLock(t, mode)).toList();
    }

    /** Every partition below {@code table} at every level; none below a table that is not partitioned. */
    public static List<SqlName> partitionsBelow(CatalogView catalog, SqlName table) {
        // A partitioned table's children are all partitions, at every level (a partition cannot be
        // inherited from); any other table's children are inheritance children.
        return catalog.lineage(table).partitioned() ? descendants(catalog, table) : List.of();
    }

    private static void collectDescendants(CatalogView catalog, SqlName table, java.util.Set<SqlName> into, int depth) {
        if (depth > MAX_TREE_DEPTH) {
            return;
        }
        for (SqlName child : catalog.lineage(table).children()) {
            if (into.add(child)) {
                collectDescendants(catalog, child, into, depth + 1);
            }
        }
    }

    /** A guard against a catalog that loops (none should): deeper than any real tree. */
    private static final int MAX_TREE_DEPTH = 64;

    /**
     * An ALTER TABLE of a table with partitions or children takes its lock on each of them too: without
     * ONLY it recurses with the same mode (find_all_inheritors; checked on 15 in pg_locks for ADD COLUMN,
     * VALIDATE CONSTRAINT, SET NOT NULL, while a statement on a partition locks no parent), so a holder
     * on any of them stops it. Every plan of ALTERs (add_column's, a recipe's) goes through here.
     */
    public Plan lockingTheTree(Plan plan) {
        List<SqlName> below = descendants(plan.table());
        if (below.isEmpty()) {
            return plan;
        }
        String alter = "ALTER TABLE " + plan.table().quoted() + " ";
        boolean partitioned = catalog.lineage(plan.table()).partitioned();
        java.util.Set<String> foreignKeys = new java.util.HashSet<>();
        List<Step> steps = new ArrayList<>();
        for (Step step : plan.steps()) {
            if (step instanceof Statement s && s.change() instanceof CatalogChange.AddForeignKey fk) {
                foreignKeys.add(fk.constraint().value());
            }
            if (step instanceof Statement s && s.table().equals(plan.table()) && s.sql().contains(alter)
                    && (partitioned || reachesInheritanceChildren(plan.table(), s, foreignKeys))) {
                List<Statement.OtherLock> locks = new ArrayList<>(s.otherLocks());
                below.forEach(child -> locks.add(new Statement.OtherLock(child, s.lock())));
                steps.add(new Statement(s.table(), s.sql(), s.lock(), s.work(), s.transactional(), s.undoSql(),
                        s.change(), locks));
            } else {
                steps.add(step);
            }
        }
        return new Plan(plan.table(), steps);
    }

    /**
     * Whether an ALTER of an inheritance parent locks its children: constraints that are inherited (CHECK,
     * 18's NOT NULL) and columns' defaults are, a key or foreign key is not - DROP and VALIDATE of one stay
     * on the parent, and before 18 so does ADD CONSTRAINT FOREIGN KEY / UNIQUE USING INDEX (measured on
     * 10, 12, 15, 17, 18 with the child held ACCESS EXCLUSIVE). {@code foreignKeys}: those the plan adds.
     */
    private boolean reachesInheritanceChildren(SqlName table, Statement s, java.util.Set<String> foreignKeys) {
        CatalogChange change = s.change();
        if (change instanceof CatalogChange.AddForeignKey || change instanceof CatalogChange.AddKeyUsingIndex) {
            return version.keyAddLocksInheritanceChildren();
        }
        SqlName named = change instanceof CatalogChange.DropConstraint d ? d.constraint()
                : change instanceof CatalogChange.DropConstraintCascade d ? d.constraint()
                : change instanceof CatalogChange.ValidateConstraint v ? v.constraint() : null;
        if (named == null) {
            return true;
        }
        if (foreignKeys.contains(named.value())) {
            return false;
        }
        return catalog.constraints(table).stream().filter(c -> c.name().value().equals(named.value()))
                .map(ConstraintInfo::kind).findFirst()
                .map(kind -> kind == ConstraintInfo.Kind.CHECK || kind == ConstraintInfo.Kind.NOT_NULL).orElse(true);
    }

    /**
     * A job's UPDATE under row-level security changes only the rows the policies show the role, and
     * would be reported done: "every row, exactly once" would silently not hold. Refused before anything runs.
     */
    private void requireAllRowsVisible(SqlName table, String job) {
        catalog.rowSecurity(table).ifPresent(why -> {
            throw ZdmException.precondition(job + " on " + table + " would change only the rows its policies show: "
                    + why + ". Run it as a role with BYPASSRLS (or a superuser), or as the table's owner without"
                    + " FORCE ROW LEVEL SECURITY (ALTER TABLE " + table.quoted() + " NO FORCE ROW LEVEL SECURITY)");
        });
    }

    private Backfill migrationJob(MigrationSpec spec, SqlName t, boolean only) {
        requireAllRowsVisible(t, "migrate_data");
        requireColumns(t, List.copyOf(spec.assignments().keySet()));
        Map<SqlName, ColumnGeneration> generated = catalog.generatedColumns(t);
        for (SqlName column : spec.assignments().keySet()) {
            ColumnGeneration kind = generated.getOrDefault(column, ColumnGeneration.NONE);
            if (!kind.assignable()) {
                // The server refuses the UPDATE as it is analysed (SQLSTATE 428C9), before any row.
                throw ZdmException.malformed("column " + t + "." + column + " is " + kind.describe()
                        + ": PostgreSQL updates it only to DEFAULT, so set cannot name it");
            }
        }
        for (Map.Entry<SqlName, SqlExpression> set : spec.assignments().entrySet()) {
            ExpressionRefusals.check(version, set.getValue(), ExpressionRefusals.Place.UPDATE);
            requireReferencedColumns(t, set.getValue());
            String literal = set.getValue().text().strip();
            if (SqlLiteral.valueOf(literal) != null || literal.matches("-?\\d+(\\.\\d+)?")) {
                // An untyped constant is converted to the column's type as the UPDATE is analysed: no row needed.
                DataType type = catalog.columnType(t, set.getKey());
                if (type != null) {
                    DefaultCheck.constant(version, catalog, type, literal);
                }
            }
        }
        if (spec.condition() != null) {
            ExpressionRefusals.check(version, spec.condition(), ExpressionRefusals.Place.WHERE);
            requireReferencedColumns(t, spec.condition());
        }
        KeyWalk walk = walk(t, false, spec.assignments().keySet());
        Map<SqlName, SqlExpression> assignments = spec.assignments();
        if (assignments.isEmpty()) {
            // Without SET the job rewrites each row as it is (a new row version per row), which is
            // what a "touch" migration such as firing an UPDATE trigger wants.
            SqlName touched = touchedColumn(t, walk, generated);
            assignments = Map.of(touched, new SqlExpression(touched.quoted()));
        }
        String jobKey = "migrate:" + t + ":" + new Backfill(t, walk, assignments, spec.condition(), spec.batchSize(),
                spec.rowLimit(), spec.sleepMs(), "", false, List.of(), only).sql() + ":limit=" + spec.rowLimit();
        // A touch sets a column to its own value: no key changes, so no foreign key's trigger fires.
        return new Backfill(t, walk, assignments, spec.condition(), spec.batchSize(),
                spec.rowLimit(), spec.sleepMs(), jobKey, false, merged(foreignKeyLocks(t, spec.assignments().keySet()),
                readLocks(t, spec)), only);
    }

    /**
     * What the job's subqueries read: every batch's UPDATE takes ACCESS SHARE on each table a FROM or
     * JOIN in set or where names (and, as a scan of a parent does, on its partitions and children), held
     * to the batch's commit, so an ACCESS EXCLUSIVE holder there stops the batch as one on the table
     * would. Each name resolves as the server resolves it (the catalog's search_path); one that finds
     * nothing is refused as the server refuses it (42P01). A name in pg_catalog (pg_class, unqualified
     * pg_*) is the server's: its catalog locks stop no application. A view or another relation that is
     * not a table is locked by the server with its underlying tables, which zdm does not read; nor does it
     * see what a function in the expression reads: those locks are not predicted (explain says so).
     */
    List<Statement.OtherLock> readLocks(SqlName table, MigrationSpec spec) {
        List<SqlExpression> expressions = new ArrayList<>(spec.assignments().values());
        if (spec.condition() != null) {
            expressions.add(spec.condition());
        }
        Map<SqlName, LockMode> locks = new java.util.LinkedHashMap<>();
        for (SqlExpression expression : expressions) {
            for (SqlName named : expression.relationsRead()) {
                if (serversOwn(named)) {
                    continue;
                }
                CatalogView.Presence found = catalog.relationNamed(named);
                if (found == CatalogView.Presence.ABSENT) {
                    throw new ZdmException(ErrorCode.KEY_DOES_NOT_EXIST, "relation " + named + " does not exist (read"
                            + " in " + expression.text() + "; SQLSTATE 42P01)");
                }
                if (!catalog.tableExists(named)) {
                    continue;
                }
                SqlName read = catalog.resolve(named);
                if (sameTable(read, table) || sameTable(named, table)) {
                    // The batch's ROW EXCLUSIVE on its own table is stronger already.
                    continue;
                }
                locks.merge(read, LockMode.ACCESS_SHARE, Planner::stronger);
                for (SqlName below : descendants(read)) {
                    if (!sameTable(below, table)) {
                        locks.merge(below, LockMode.ACCESS_SHARE, Planner::stronger);
                    }
                }
            }
        }
        return locks.entrySet().stream().map(e -> new Statement.OtherLock(e.getKey(), e.getValue())).toList();
    }

    /** A name the server finds in pg_catalog before any schema of the search_path (or one qualified so). */
    private static boolean serversOwn(SqlName name) {
        return name.schema() == null ? name.value().startsWith("pg_")
                : name.schema().equals("pg_catalog") || name.schema().equals("information_schema");
    }

    /** Each table once, with the stronger of its two modes; the foreign keys' first, in their order. */
    private static List<Statement.OtherLock> merged(List<Statement.OtherLock> first, List<Statement.OtherLock> then) {
        Map<SqlName, LockMode> locks = new java.util.LinkedHashMap<>();
        for (List<Statement.OtherLock> list : List.of(first, then)) {
            list.forEach(l -> locks.merge(l.table(), l.mode(), Planner::stronger));
        }
        return locks.entrySet().stream().map(e -> new Statement.OtherLock(e.getKey(), e.getValue())).toList();
    }

    /**
     * What an UPDATE of {@code assigned} also locks through foreign keys (ri_triggers.c, checked on 15 in
     * pg_locks), when a row's key value changes: a foreign key of the table on an assigned column checks
     * the new value with SELECT ... FOR KEY SHARE on the referenced table (ROW SHARE, RI_FKey_check); a
     * foreign key of another table that references an assigned column looks for, or updates, its rows
     * there (ROW SHARE for NO ACTION and RESTRICT, ROW EXCLUSIVE for CASCADE, SET NULL, SET DEFAULT).
     * A CASCADE, SET NULL or SET DEFAULT changes the referencing table's key columns in turn, with the
     * same consequences there, table after table (orders, order_items, shipments, ...): pg_locks on 15
     * shows each level's locks once a row of it changes, which the model takes to happen (it does not
     * see the rows). A partitioned table in the chain is locked with every partition: the RI queries name
     * the parent, and a generic plan locks all its partitions (a custom plan prunes some; zdm's LOCK TABLE
     * of the parent takes them all). The strongest mode per table; the job's own table is under its own
     * ROW EXCLUSIVE already.
     */
    List<Statement.OtherLock> foreignKeyLocks(SqlName table, Set<SqlName> assigned) {
        Map<SqlName, LockMode> locks = new java.util.LinkedHashMap<>();
        if (assigned.isEmpty()) {
            return List.of();
        }
        keyChangeLocks(table, assigned, false, locks, new java.util.HashSet<>(), 0);
        locks.keySet().removeIf(t -> sameTable(t, table));
        return locks.entrySet().stream().map(e -> new Statement.OtherLock(e.getKey(), e.getValue())).toList();
    }

    /** The locks a change of {@code changed} in {@code table}'s rows takes; {@code toNull}: the new values are NULL (nothing to check). */
    private void keyChangeLocks(SqlName table, Set<SqlName> changed, boolean toNull, Map<SqlName, LockMode> locks,
                                Set<String> followed, int depth) {
        if (!toNull) {
            for (ConstraintInfo fk : catalog.constraints(table)) {
                if (fk.kind() == ConstraintInfo.Kind.FOREIGN_KEY && fk.refTable() != null
                        && !sameTable(fk.refTable(), table) && fk.columns().stream().anyMatch(changed::contains)) {
                    lockTree(fk.refTable(), LockMode.ROW_SHARE, locks);
                }
            }
        }
        for (ConstraintInfo fk : catalog.referencing(table)) {
            if (sameTable(fk.table(), table) || fk.refColumns().stream().noneMatch(changed::contains)) {
                continue;
            }
            lockTree(fk.table(), fk.onUpdate().lockOnReferencing(), locks);
            ConstraintInfo.Action action = fk.onUpdate();
            boolean changesThem = action == ConstraintInfo.Action.CASCADE || action == ConstraintInfo.Action.SET_NULL
                    || action == ConstraintInfo.Action.SET_DEFAULT;
            // Each constraint followed once: a cycle of cascades ends where it began.
            if (changesThem && depth < MAX_TREE_DEPTH && followed.add(fk.table() + "/" + fk.name())) {
                keyChangeLocks(fk.table(), Set.copyOf(fk.columns()), action == ConstraintInfo.Action.SET_NULL, locks,
                        followed, depth + 1);
            }
        }
    }

    /** The table, and every partition of a partitioned one (an inheritance parent's RI query says ONLY). */
    private void lockTree(SqlName table, LockMode mode, Map<SqlName, LockMode> locks) {
        locks.merge(table, mode, Planner::stronger);
        if (!catalog.lineage(table).partitioned()) {
            return;
        }
        for (SqlName below : descendants(table)) {
            locks.merge(below, mode, Planner::stronger);
        }
    }

    private static LockMode stronger(LockMode a, LockMode b) {
        return a.isStrongerThan(b) ? a : b;
    }

    private static boolean sameTable(SqlName a, SqlName b) {
        return a.value().equals(b.value()) && (a.schema() == null || b.schema() == null || a.schema().equals(b.schema()));
    }

    /**
     * The column a touch sets to itself: the key's first column, as always, unless an UPDATE cannot set
     * it (an identity key GENERATED ALWAYS); then the first column that can be set.
     */
    private SqlName touchedColumn(SqlName table, KeyWalk walk, Map<SqlName, ColumnGeneration> generated) {
        List<SqlName> candidates = new ArrayList<>();
        if (walk instanceof KeyWalk.Keyset k) {
            candidates.add(k.columns().get(0).name());
        }
        candidates.addAll(catalog.columns(table));
        return candidates.stream()
                .filter(c -> generated.getOrDefault(c, ColumnGeneration.NONE).assignable())
                .findFirst()
                .orElseThrow(() -> ZdmException.precondition("migrate_data without set rewrites each row by setting a"
                        + " column to itself, and no column of " + table + " can be set (" + generated.entrySet().stream()
                        .map(e -> e.getKey() + " is " + e.getValue().describe()).sorted().collect(Collectors.joining(", "))
                        + "): name the change in set"));
    }

    /**
     * How a batched job walks the table: along the primary key, else along the unique index on NOT NULL
     * columns with the fewest columns (then by name); with neither, a job that only fills NULLs walks
     * block ranges, and any other is refused: without a key a batch cannot be named, so a job resumed
     * after a crash could not tell the rows it did from those it did not.
     */
    private KeyWalk walk(SqlName table, boolean fillsNulls, Set<SqlName> assigned) {
        List<UniqueKey> all = catalog.uniqueKeys(table);
        // A batch that moves its rows along the key it walks meets them again in a later batch and
        // updates them again (id+1 walked by id moves a row up to the end), so only a key set leaves alone is walked.
        List<UniqueKey> keys = all.stream()
                .filter(k -> k.columns().stream().noneMatch(c -> assigned.contains(c.name())))
                .toList();
        Optional<UniqueKey> key = keys.stream().filter(UniqueKey::primary).findFirst()
                .or(() -> keys.stream().min(Comparator.<UniqueKey>comparingInt(k -> k.columns().size())
                        .thenComparing(k -> k.index().value())));
        if (key.isPresent()) {
            return new KeyWalk.Keyset(key.get());
        }
        if (!all.isEmpty()) {
            UniqueKey walked = all.stream().filter(UniqueKey::primary).findFirst().orElse(all.get(0));
            throw ZdmException.precondition("set assigns " + walked.columns().stream().map(KeyColumn::name)
                    .filter(assigned::contains).map(SqlName::toString).sorted().collect(Collectors.joining(", "))
                    + ", a column of the key " + walked.index() + " that migrate_data walks " + table + " along, in"
                    + " batches: a row moved along the key would be met again by a later batch and updated again."
                    + " Walk another key: add a unique index on NOT NULL columns that set leaves alone (or a"
                    + " primary key over them), or migrate into a new column and swap it in afterwards");
        }
        if (fillsNulls) {
            return new KeyWalk.Blocks();
        }
        throw ZdmException.precondition("table " + table + " has no primary key and no unique index on NOT NULL"
                + " columns: migrate_data runs in batches along a key, so that a job resumed after a crash updates"
                + " each row exactly once; add a primary key (or a unique index on NOT NULL columns) to " + table);
    }

    /**
     * The one-statement ADD COLUMN rewrites the table for a volatile default always and for any default
     * before 11; those are the cases that need the long way round.
     */
    private boolean directAddRewrites(ColumnDefault def) {
        if (def instanceof ColumnDefault.Expression e && e.volatile_()) {
            return true;
        }
        return !(def instanceof ColumnDefault.None) && version.constantDefaultRewrites();
    }

    /**
     * Add the column bare with its default for new rows (catalog only), fill the old rows in batches,
     * then NOT NULL through a CHECK that is validated under SHARE UPDATE EXCLUSIVE. From 12 on, SET NOT
     * NULL trusts that validated CHECK and skips its scan, so the CHECK can go; before 12 SET NOT NULL
     * would scan under ACCESS EXCLUSIVE, so the validated CHECK stays as the guarantee. From 18 the NOT
     * NULL constraint itself is added NOT VALID and validated, under the name PostgreSQL gives it.
     */
    private List<Step> safeAddColumn(ColumnSpec spec) {
        return safeAddColumn(spec, addBareWithDefault(spec, ""), null, null);
    }

    /**
     * The safe way with {@code first} as the statement that adds the column (and {@code sequence}, if it
     * makes one), {@code last} (or null) after the rest.
     */
    private List<Step> safeAddColumn(ColumnSpec spec, String first, SqlName sequence, Statement last) {
        SqlName t = spec.table();
        SqlName c = spec.column();
        String alter = "ALTER TABLE " + t.quoted() + " ";
        List<Step> steps = new ArrayList<>();
        steps.add(new Statement(t, first,
                LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true, dropColumn(spec),
                new CatalogChange.AddColumn(c, spec.type(), spec.defaultValue().sql(), false, false, sequence)));
        SqlExpression value = spec.defaultValue() instanceof ColumnDefault.Expression e
                ? e.expression() : new SqlExpression(spec.defaultValue().sql());
        // The old rows of every table the column reaches (partitions, children), each along its own key.
        refuseForeign(t, "fills the old rows in batches along each table's key");
        List<SqlName> tables = rowTables(t);
        if (!(tables.size() == 1 && tables.get(0).equals(t))) {
            requireRights(t, tables, List.of("UPDATE", "SELECT"), "fills the old rows of each of them directly");
        }
        for (SqlName table : tables.isEmpty() ? List.of(t) : tables) {
            requireAllRowsVisible(table, "add_column's backfill of " + c);
        }
        for (SqlName table : tables.isEmpty() ? List.of(t) : tables) {
            boolean only = !catalog.lineage(table).children().isEmpty();
            steps.add(new Backfill(table, walk(table, true, Set.of()), Map.of(c, value),
                    new SqlExpression(c.quoted() + " IS NULL"), BACKFILL_BATCH_SIZE, null, spec.sleepMs(),
                    "add_column:" + table + "." + c, true, List.of(), only));
        }
        if (!spec.nullable()) {
            // Named as PostgreSQL names a constraint it names itself: a name taken (by a check the user made)
            // would fail the ADD CONSTRAINT after the backfill, and the column would be undone. From 18 it is
            // the NOT NULL constraint's own name; before, the temporary CHECK's.
            steps.addAll(NotNullSteps.of(version, t, c, ObjectNames.choose(t.value(), c.value(), "not_null",
                    n -> catalog.constraintExists(t.sibling(n)))));
        }
        if (last != null) {
            steps.add(last);
        }
        return steps;
    }

    /** ADD COLUMN without a rewrite: the column bare ({@code clause} after its type), its default for new rows only. */
    private static String addBareWithDefault(ColumnSpec spec, String clause) {
        SqlName c = spec.column();
        return "ALTER TABLE " + spec.table().quoted() + " ADD COLUMN " + c.quoted() + " " + spec.type().sql() + clause
                + ", ALTER COLUMN " + c.quoted() + " SET DEFAULT " + spec.defaultValue().sql();
    }

    private static String addColumnSql(ColumnSpec spec) {
        StringBuilder sql = new StringBuilder("ALTER TABLE ").append(spec.table().quoted())
                .append(" ADD COLUMN ").append(spec.column().quoted()).append(' ').append(spec.type().sql());
        if (!(spec.defaultValue() instanceof ColumnDefault.None)) {
            sql.append(" DEFAULT ").append(spec.defaultValue().sql());
        }
        if (!spec.nullable()) {
            sql.append(" NOT NULL");
        }
        return sql.toString();
    }

    private static String dropColumn(ColumnSpec spec) {
        return "ALTER TABLE " + spec.table().quoted() + " DROP COLUMN IF EXISTS " + spec.column().quoted();
    }

    private static String dropIndex(SqlName name, boolean concurrently) {
        return "DROP INDEX " + (concurrently ? "CONCURRENTLY " : "") + "IF EXISTS " + name.quoted();
    }

    /** DROP INDEX takes ACCESS EXCLUSIVE on the table; CONCURRENTLY only SHARE UPDATE EXCLUSIVE. */
    private static LockMode dropIndexLock(boolean concurrently) {
        return concurrently ? LockMode.SHARE_UPDATE_EXCLUSIVE : LockMode.ACCESS_EXCLUSIVE;
    }

    private void requireTable(SqlName table) {
        if (!catalog.tableExists(table)) {
            throw ZdmException.missing("table " + table);
        }
    }

    private void requireColumns(SqlName table, List<SqlName> columns) {
        requireTable(table);
        for (SqlName column : columns) {
            if (catalog.column(table, column) == CatalogView.Presence.ABSENT) {
                throw ZdmException.missing("column " + table + "." + column);
            }
        }
    }

    /**
     * A name in the expression that can only be a column of the table and that the catalog knows is not
     * one: the server refuses the statement as it analyses it (42703).
     */
    private void requireReferencedColumns(SqlName table, SqlExpression expression) {
        ColumnReferences.require(version, catalog, table, expression);
    }

    /**
     * A column of a built-in type without a default btree operator class cannot be indexed by CREATE
     * INDEX (42704): xml, point, json. A type the facts do not know is the server's to judge.
     */
    private void requireIndexable(SqlName table, List<SqlName> columns) {
        PgFacts facts = PgFacts.of(version);
        for (SqlName column : columns) {
            DataType type = catalog.columnType(table, column);
            if (type == null || type.isArray() || catalog.domain(type).isPresent()) {
                continue;
            }
            String canonical = facts.canonicalType(type.lookupName()).orElse(null);
            if (canonical != null && !facts.btreeIndexable(canonical)) {
                throw new ZdmException(ErrorCode.KEY_DOES_NOT_EXIST, "data type " + canonical + " has no default"
                        + " operator class for access method \"btree\" (column " + column + "; SQLSTATE 42704):"
                        + " CREATE INDEX cannot index it");
            }
        }
    }

    /**
     * The name PostgreSQL gives an object it names itself (indexcmds.c, ChooseRelationName and
     * makeObjectName): name1_name2_label, the longer of the two names shortened first so the whole fits
     * in 63 bytes, and if that relation exists, label1, label2, ... until one is free. A serial's
     * sequence is named so on the server; zdm names the one it creates the same way.
     */
    SqlName chooseRelationName(SqlName table, String name1, String name2, String label) {
        return chooseRelationName(table, name1, name2, label, Set.of());
    }

    /** The same, also avoiding {@code alsoTaken}: names a plan chose before it runs, as PostgreSQL's pending names. */
    SqlName chooseRelationName(SqlName table, String name1, String name2, String label, Set<SqlName> alsoTaken) {
        return inSchemaOf(table, ObjectNames.choose(name1, name2, label,
                n -> catalog.relationExists(inSchemaOf(table, n)) || alsoTaken.contains(inSchemaOf(table, n))));
    }

    /**
     * A relation zdm names next to the table (its index, its serial's sequence), named with the table's
     * schema where an unqualified name would not find it there.
     */
    private SqlName inSchemaOf(SqlName table, SqlName name) {
        return new SqlName(catalog.schemaOf(table), name.value());
    }

}
