package dev.zdm.pg;

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
        requireColumns(spec.table(), spec.columns());
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
        if (existing.isPresent()) {
            // An INVALID index of that name is the leftover of a failed concurrent build: it costs
            // writes and serves no reads, so it goes before the new build.
            steps.add(new Statement(spec.table(), dropIndex(index, spec.concurrently()),
                    dropIndexLock(spec.concurrently()), TableWork.CATALOG_ONLY, !spec.concurrently(), null,
                    new CatalogChange.DropIndex(index)));
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
            steps.add(new Statement(spec.table(), sql, LockMode.SHARE, TableWork.BUILD_INDEX, true,
                    dropIndex(index, false), change));
        }
        return new Plan(spec.table(), steps);
    }

    public Plan addColumn(ColumnSpec spec) {
        requireTable(spec.table());
        if (catalog.column(spec.table(), spec.column()) == CatalogView.Presence.PRESENT) {
            throw ZdmException.exists("column " + spec.table() + "." + spec.column());
        }
        var serial = PgFacts.of(version).serialType(spec.type().sql());
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
        if (domain.isPresent() && (def instanceof ColumnDefault.None || domain.get().constrained()
                || version.constantDefaultRewrites() && domain.get().defaultSql() != null)) {
            // A constrained domain rewrites whatever the default (found by the fuzzer: DEFAULT 5 on a
            // domain with a CHECK changed relfilenode on 15 and 17, while the plan said catalog only).
            return domainColumn(spec, domain.get());
        }
        if (def instanceof ColumnDefault.None && !spec.nullable() && catalog.hasRows(spec.table())) {
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
        boolean hasRows = catalog.hasRows(t);
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

    public Plan migrateData(MigrationSpec spec) {
        SqlName t = spec.table();
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
        KeyWalk walk = walk(t, false, spec.assignments().keySet());
        Map<SqlName, SqlExpression> assignments = spec.assignments();
        if (assignments.isEmpty()) {
            // Without SET the job rewrites each row as it is (a new row version per row), which is
            // what a "touch" migration such as firing an UPDATE trigger wants.
            SqlName touched = touchedColumn(t, walk, generated);
            assignments = Map.of(touched, new SqlExpression(touched.quoted()));
        }
        String jobKey = "migrate:" + t + ":" + new Backfill(t, walk, assignments, spec.condition(), spec.batchSize(),
                spec.rowLimit(), spec.sleepMs(), "", false).sql() + ":limit=" + spec.rowLimit();
        return new Plan(t, List.of(new Backfill(t, walk, assignments, spec.condition(), spec.batchSize(),
                spec.rowLimit(), spec.sleepMs(), jobKey, false)));
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
        steps.add(new Backfill(t, walk(t, true, Set.of()), Map.of(c, value), new SqlExpression(c.quoted() + " IS NULL"),
                BACKFILL_BATCH_SIZE, null, spec.sleepMs(), "add_column:" + t + "." + c, true));
        if (!spec.nullable()) {
            steps.addAll(NotNullSteps.of(version, t, c, SqlName.of(SqlName.truncate(t.value() + "_" + c.value() + "_not_null"))));
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
     * The name PostgreSQL gives an object it names itself (indexcmds.c, ChooseRelationName and
     * makeObjectName): name1_name2_label, the longer of the two names shortened first so the whole fits
     * in 63 bytes, and if that relation exists, label1, label2, ... until one is free. A serial's
     * sequence is named so on the server; zdm names the one it creates the same way.
     */
    SqlName chooseRelationName(SqlName table, String name1, String name2, String label) {
        for (int pass = 0; ; pass++) {
            String modLabel = pass == 0 ? label : label + pass;
            // Checked on PostgreSQL 15: a 41- and a 31-character name give 29 + 29 characters and _seq.
            // Lengths are bytes, each name cut between characters (pg_mbcliplen).
            int available = SqlName.MAX_LENGTH - 1 - (SqlName.bytes(modLabel) + 1);
            String part1 = name1;
            String part2 = name2;
            while (SqlName.bytes(part1) + SqlName.bytes(part2) > available) {
                if (SqlName.bytes(part1) > SqlName.bytes(part2)) {
                    part1 = SqlName.clip(part1, SqlName.bytes(part1) - 1);
                } else {
                    part2 = SqlName.clip(part2, SqlName.bytes(part2) - 1);
                }
            }
            SqlName name = inSchemaOf(table, SqlName.of(part1 + "_" + part2 + "_" + modLabel));
            if (!catalog.relationExists(name)) {
                return name;
            }
        }
    }

    /**
     * A relation zdm names next to the table (its index, its serial's sequence), named with the table's
     * schema where an unqualified name would not find it there.
     */
    private SqlName inSchemaOf(SqlName table, SqlName name) {
        return new SqlName(catalog.schemaOf(table), name.value());
    }

}
