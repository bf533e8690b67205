package dev.zdm.recipes;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zdm.engine.Outcome;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ColumnReferences;
import dev.zdm.pg.ConstraintInfo;
import dev.zdm.pg.DataType;
import dev.zdm.pg.ExpressionRefusals;
import dev.zdm.pg.KeyTypes;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.NotNullSteps;
import dev.zdm.pg.ObjectNames;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.pg.Step;
import dev.zdm.pg.TableWork;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * add_constraint {table, constraint, constraint_type: check | foreign_key | unique | primary_key, check
 * (an expression) | columns, references {table, columns}, on_delete?, on_update?, validate = true} →
 * constraint_added {constraint, duration_seconds, table_locked, validated}. A key is built as
 * {@link #keySteps} says.
 *
 * <p>A CHECK added plainly scans the table under ACCESS EXCLUSIVE; a foreign key scans both tables
 * under SHARE ROW EXCLUSIVE, which stops writes to both. The safe way adds it NOT VALID (catalog only:
 * new and updated rows are checked from then on) and validates it in a second statement under SHARE
 * UPDATE EXCLUSIVE (ROW SHARE on the referenced table), which lets reads and writes go on. If the
 * validation cannot get its lock within the budget, the NOT VALID constraint is dropped again.
 */
public final class AddConstraint implements Recipe<AddConstraint.Spec> {

    /** ON DELETE / ON UPDATE as SQL spells them. */
    private static final Set<String> ACTIONS = Set.of("CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT", "NO ACTION");
    /** PostgreSQL refuses a subquery in a CHECK (0A000); an expression that holds one is malformed here. */
    private static final Pattern SUBQUERY = Pattern.compile("(?i)\\bselect\\b");
    private static final Pattern IDENTIFIER = Pattern.compile("\"([a-z_][a-z0-9_]*)\"|\\b([A-Za-z_][A-Za-z0-9_]*)\\b");

    public record Spec(SqlName table, SqlName constraint, ConstraintInfo.Kind kind, SqlExpression check,
                       List<SqlName> columns, SqlName refTable, List<SqlName> refColumns, String onDelete,
                       String onUpdate, boolean validate) {
    }

    @Override
    public String type() {
        return "add_constraint";
    }

    @Override
    public Set<String> fields() {
        return Set.of("table", "schema", "constraint", "constraint_type", "check", "columns", "references", "on_delete",
                "on_update", "validate");
    }

    @Override
    public Spec parse(Request request, CatalogView catalog) {
        SqlName table = Alter.tableOf(request, catalog);
        SqlName name = SqlName.of(request.string("constraint"));
        String type = request.string("constraint_type");
        boolean validate = request.bool("validate", true);
        switch (type) {
            case "check" -> {
                SqlExpression check = new SqlExpression(request.string("check"));
                if (SUBQUERY.matcher(check.text()).find()) {
                    throw ZdmException.malformed("a check constraint cannot hold a subquery");
                }
                return new Spec(table, name, ConstraintInfo.Kind.CHECK, check, List.of(), null, List.of(), null, null,
                        validate);
            }
            case "foreign_key" -> {
                List<SqlName> columns = names(request.strings("columns"), "columns");
                JsonNode references = request.raw("references");
                if (references == null || !references.isObject() || !references.path("table").isTextual()) {
                    throw ZdmException.malformed("references must be {\"table\": ..., \"columns\": [...]}");
                }
                // The referenced table is in the request's schema unless references names its own.
                String refSchema = references.path("schema").isTextual() ? references.get("schema").asText()
                        : request.has("schema") ? request.string("schema") : null;
                SqlName refTable = catalog.resolve(SqlName.table(refSchema, references.get("table").asText()));
                List<SqlName> refColumns = new ArrayList<>();
                JsonNode given = references.get("columns");
                if (given == null || !given.isArray()) {
                    throw ZdmException.malformed("references.columns must be a list of column names");
                }
                given.forEach(c -> {
                    if (!c.isTextual()) {
                        throw ZdmException.malformed("references.columns must be a list of column names");
                    }
                    refColumns.add(SqlName.of(c.asText()));
                });
                if (refColumns.size() != columns.size()) {
                    throw ZdmException.malformed("a foreign key of " + columns.size() + " column(s) references "
                            + refColumns.size() + " column(s)");
                }
                return new Spec(table, name, ConstraintInfo.Kind.FOREIGN_KEY, null, columns, refTable,
                        List.copyOf(refColumns), action(request, "on_delete"), action(request, "on_update"), validate);
            }
            case "unique", "primary_key" -> {
                return new Spec(table, name, ConstraintInfo.Kind.ofName(type), null,
                        names(request.strings("columns"), "columns"), null, List.of(), null, null, true);
            }
            default -> throw ZdmException.malformed("constraint_type must be check, foreign_key, unique or primary_key,"
                    + " not " + type);
        }
    }

    private static List<SqlName> names(List<String> given, String field) {
        if (given == null || given.isEmpty()) {
            throw ZdmException.malformed(field + " must name at least one column");
        }
        List<SqlName> names = given.stream().map(SqlName::of).toList();
        if (new LinkedHashSet<>(names).size() != names.size()) {
            throw ZdmException.malformed(field + " names a column twice");
        }
        return names;
    }

    private static String action(Request request, String field) {
        if (!request.has(field)) {
            return null;
        }
        String action = request.string(field).trim().replaceAll("\\s+", " ").toUpperCase(Locale.ROOT);
        if (!ACTIONS.contains(action)) {
            throw ZdmException.malformed(field + " must be one of " + ACTIONS);
        }
        return action;
    }

    @Override
    public SqlName table(Spec spec) {
        return spec.table();
    }

    @Override
    public Plan plan(Spec spec, ServerVersion version, CatalogView catalog) {
        SqlName t = spec.table();
        Alter.requireTable(catalog, t);
        if (spec.kind() == ConstraintInfo.Kind.CHECK) {
            // AddRelationNewConstraints analyses the expression before it looks at the name.
            ExpressionRefusals.check(version, spec.check(), ExpressionRefusals.Place.CHECK);
            ColumnReferences.require(version, catalog, t, spec.check());
        }
        SqlName name = spec.constraint();
        if (Alter.constraint(catalog, t, name).isPresent()) {
            throw ZdmException.exists("constraint " + name + " for relation " + t);
        }
        boolean partitioned = catalog.lineage(t).partitioned();
        if (spec.kind().isKeyKind() && partitioned) {
            // CREATE INDEX CONCURRENTLY refuses a partitioned table (0A000), and so does ADD CONSTRAINT ...
            // USING INDEX; a plain ADD builds every partition's index under SHARE. What is safe (seen on 15):
            // each partition's key the safe way, then the parent's ADD CONSTRAINT adopts them without a build.
            String what = spec.kind() == ConstraintInfo.Kind.PRIMARY_KEY ? "PRIMARY KEY" : "UNIQUE";
            throw ZdmException.precondition("cannot add a " + spec.kind() + " constraint to the partitioned table " + t
                    + " without blocking writes: PostgreSQL builds no index concurrently on a partitioned table and"
                    + " attaches none to its constraint (USING INDEX); send add_constraint " + spec.kind().name()
                    .toLowerCase(Locale.ROOT) + " on each partition (" + Alter.names(Planner.descendants(catalog, t))
                    + "), then run ALTER TABLE " + t.quoted() + " ADD CONSTRAINT " + name.quoted() + " " + what + " ("
                    + Alter.columns(spec.columns()) + "): it adopts the partitions' keys without a build, under an"
                    + " instant of ACCESS EXCLUSIVE on the table and its partitions");
        }
        if (spec.kind().isKeyKind()) {
            return new Plan(t, keySteps(spec, version, catalog));
        }
        List<Step> steps = new ArrayList<>();
        String alter = Alter.table(t);
        String drop = alter + "DROP CONSTRAINT IF EXISTS " + name.quoted();
        ConstraintInfo added;
        if (spec.kind() == ConstraintInfo.Kind.CHECK) {
            List<SqlName> columns = columnsNamed(spec.check(), catalog.columns(t));
            steps.add(new Statement(t, alter + "ADD CONSTRAINT " + name.quoted() + " CHECK " + spec.check().sql()
                    + " NOT VALID", LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true, drop,
                    new CatalogChange.AddCheck(name, spec.check().sql(), columns)));
            added = new ConstraintInfo(t, name, ConstraintInfo.Kind.CHECK, columns, false, null, null, List.of());
        } else {
            checkForeignKey(spec, catalog);
            if (partitioned && !version.notValidForeignKeyOnPartitioned()) {
                // ATAddForeignKeyConstraint before 18: "cannot add NOT VALID foreign key on partitioned table" (0A000).
                throw ZdmException.precondition("cannot add the foreign key " + name + " to the partitioned table " + t
                        + " without a scan under SHARE ROW EXCLUSIVE on PostgreSQL " + version.major() + ": NOT VALID foreign"
                        + " keys on partitioned tables come with PostgreSQL 18; send add_constraint foreign_key on each"
                        + " partition (" + Alter.names(Planner.descendants(catalog, t)) + "), then run ALTER TABLE "
                        + t.quoted() + " ADD CONSTRAINT " + name.quoted() + " FOREIGN KEY (" + Alter.columns(spec.columns())
                        + ") REFERENCES " + spec.refTable().quoted() + " (" + Alter.columns(spec.refColumns()) + ")"
                        + (spec.onDelete() == null ? "" : " ON DELETE " + spec.onDelete())
                        + (spec.onUpdate() == null ? "" : " ON UPDATE " + spec.onUpdate()) + ": it adopts"
                        + " the partitions' validated foreign keys without a scan, under an instant of ACCESS EXCLUSIVE");
            }
            String sql = alter + "ADD CONSTRAINT " + name.quoted() + " FOREIGN KEY (" + Alter.columns(spec.columns())
                    + ") REFERENCES " + spec.refTable().quoted() + " (" + Alter.columns(spec.refColumns()) + ")"
                    + (spec.onDelete() == null ? "" : " ON DELETE " + spec.onDelete())
                    + (spec.onUpdate() == null ? "" : " ON UPDATE " + spec.onUpdate()) + " NOT VALID";
            // ALTER TABLE, ADD FOREIGN KEY: SHARE ROW EXCLUSIVE on both tables (tablecmds.c, AlterTableGetLockLevel).
            // A partitioned referenced table: its partitions too, whose action triggers it adds (pg_locks on 15).
            List<Statement.OtherLock> others = new ArrayList<>();
            if (!spec.refTable().equals(t)) {
                others.add(new Statement.OtherLock(spec.refTable(), LockMode.SHARE_ROW_EXCLUSIVE));
                others.addAll(Planner.treeLocks(catalog, spec.refTable(), LockMode.SHARE_ROW_EXCLUSIVE));
            }
            steps.add(new Statement(t, sql, LockMode.SHARE_ROW_EXCLUSIVE, TableWork.CATALOG_ONLY, true, drop,
                    new CatalogChange.AddForeignKey(name, spec.columns(), spec.refTable(), spec.refColumns()), others));
            added = new ConstraintInfo(t, name, ConstraintInfo.Kind.FOREIGN_KEY, spec.columns(), false, null,
                    spec.refTable(), spec.refColumns());
        }
        if (spec.validate()) {
            steps.add(ValidateConstraint.step(t, added, catalog));
        }
        return new Plan(t, steps);
    }

    /**
     * A unique or primary key: its index built CONCURRENTLY (SHARE UPDATE EXCLUSIVE; create_index's
     * retries and its cleanup of an INVALID leftover), then attached with ADD CONSTRAINT ... USING INDEX,
     * an instant of ACCESS EXCLUSIVE. The index takes the constraint's name, so USING INDEX renames
     * nothing. A primary key's nullable columns are made NOT NULL the safe way first (from 12: before,
     * SET NOT NULL would scan under ACCESS EXCLUSIVE, so there is no safe way). A valid unique index of
     * the constraint's name on these columns that no constraint uses yet is what an earlier run built:
     * it is attached, not built again.
     */
    private static List<Step> keySteps(Spec spec, ServerVersion version, CatalogView catalog) {
        SqlName t = spec.table();
        SqlName name = spec.constraint();
        boolean primary = spec.kind() == ConstraintInfo.Kind.PRIMARY_KEY;
        List<SqlName> nullable = new ArrayList<>();
        for (SqlName column : spec.columns()) {
            if (!Alter.requireColumn(catalog, t, column).notNull()) {
                nullable.add(column);
            }
        }
        if (primary && catalog.constraints(t).stream().anyMatch(c -> c.kind() == ConstraintInfo.Kind.PRIMARY_KEY)) {
            throw ZdmException.precondition("table " + t + " has a primary key already: a table has one");
        }
        if (primary && !nullable.isEmpty() && !version.setNotNullTrustsValidatedCheck()) {
            throw ZdmException.precondition("the primary key's columns (" + Alter.names(nullable) + ") are nullable: before"
                    + " PostgreSQL 12 making them NOT NULL scans " + t + " under ACCESS EXCLUSIVE; no safe way (set_not_null"
                    + " leaves a validated check there, then a unique constraint and the check do the key's work)");
        }
        var existing = catalog.index(name);
        boolean adopt = existing.isPresent() && existing.get() == CatalogView.IndexState.VALID
                && catalog.indexTable(name).filter(t::equals).isPresent()
                && catalog.hasUniqueIndexOn(t, Set.copyOf(spec.columns()))
                && catalog.constraints(t).stream().noneMatch(c -> name.equals(c.index()));
        if (!adopt && existing.isPresent() && existing.get() == CatalogView.IndexState.VALID
                || existing.isEmpty() && catalog.relationExists(name)) {
            throw ZdmException.exists("relation " + name);
        }
        List<Step> steps = new ArrayList<>();
        if (primary) {
            Set<SqlName> chosen = new LinkedHashSet<>();
            for (SqlName column : nullable) {
                SqlName check = ObjectNames.choose(t.value(), column.value(), NotNullSteps.label(version),
                        n -> chosen.contains(n) || catalog.constraintExists(t.sibling(n)));
                chosen.add(check);
                steps.addAll(NotNullSteps.of(version, t, column, check));
            }
        }
        if (!adopt) {
            if (existing.isPresent()) {
                // An INVALID index of the name: a failed build's leftover, dropped first as create_index drops it.
                steps.add(new Statement(t, "DROP INDEX CONCURRENTLY IF EXISTS " + name.quoted(),
                        LockMode.SHARE_UPDATE_EXCLUSIVE, TableWork.CATALOG_ONLY, false, null, new CatalogChange.DropIndex(name)));
            }
            steps.add(new Statement(t, "CREATE UNIQUE INDEX CONCURRENTLY " + name.quoted() + " ON " + t.quoted() + " ("
                    + Alter.columns(spec.columns()) + ")", LockMode.SHARE_UPDATE_EXCLUSIVE,
                    TableWork.BUILD_INDEX_CONCURRENTLY, false, "DROP INDEX CONCURRENTLY IF EXISTS " + name.quoted(),
                    new CatalogChange.CreateIndex(name, spec.columns(), true)));
        }
        steps.add(new Statement(t, Alter.table(t) + "ADD CONSTRAINT " + name.quoted() + (primary ? " PRIMARY KEY" : " UNIQUE")
                + " USING INDEX " + name.quoted(), LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true,
                Alter.table(t) + "DROP CONSTRAINT IF EXISTS " + name.quoted(),
                new CatalogChange.AddKeyUsingIndex(name, name, spec.columns(), primary)));
        return steps;
    }

    /**
     * The referenced columns must be a key (a valid unique index on exactly them: 42830 otherwise) and
     * each pair of columns comparable (42804); both are told before anything runs.
     */
    private static void checkForeignKey(Spec spec, CatalogView catalog) {
        Alter.requireTable(catalog, spec.refTable());
        List<DataType> mine = new ArrayList<>();
        List<DataType> theirs = new ArrayList<>();
        for (int i = 0; i < spec.columns().size(); i++) {
            mine.add(Alter.requireColumn(catalog, spec.table(), spec.columns().get(i)).type());
            theirs.add(Alter.requireColumn(catalog, spec.refTable(), spec.refColumns().get(i)).type());
        }
        if (!catalog.hasUniqueIndexOn(spec.refTable(), Set.copyOf(spec.refColumns()))) {
            throw ZdmException.precondition("there is no unique constraint matching the keys (" + Alter.names(spec.refColumns())
                    + ") of referenced table " + spec.refTable() + ": a foreign key references a primary key or unique"
                    + " constraint (add_constraint unique first)");
        }
        for (int i = 0; i < mine.size(); i++) {
            if (mine.get(i) != null && theirs.get(i) != null && !KeyTypes.comparable(mine.get(i), theirs.get(i))) {
                throw ZdmException.precondition("key columns " + spec.columns().get(i) + " and " + spec.refColumns().get(i)
                        + " are of incompatible types: " + mine.get(i) + " and " + theirs.get(i));
            }
        }
    }

    /** The table's columns the expression names, in the order it names them first. */
    static List<SqlName> columnsNamed(SqlExpression expression, Set<SqlName> columns) {
        Set<SqlName> named = new LinkedHashSet<>();
        Matcher m = IDENTIFIER.matcher(expression.text().replaceAll("'([^']|'')*'", "''"));
        while (m.find()) {
            String word = m.group(1) != null ? m.group(1) : m.group(2).toLowerCase(Locale.ROOT);
            try {
                SqlName name = SqlName.of(word);
                if (columns.contains(name)) {
                    named.add(name);
                }
            } catch (ZdmException notAName) {
                // Not a name zdm could express: not one of the table's columns.
            }
        }
        return List.copyOf(named);
    }

    @Override
    public List<String> notes(Spec spec, ServerVersion version, CatalogView catalog) {
        List<String> notes = new ArrayList<>();
        if (spec.kind().isKeyKind()) {
            notes.add("the index is built concurrently while reads and writes go on; a duplicate"
                    + (spec.kind() == ConstraintInfo.Kind.PRIMARY_KEY ? " or a NULL" : "") + " fails it (22)"
                    + " and the INVALID index it leaves is dropped");
            return notes;
        }
        notes.add("NOT VALID checks rows inserted or updated from now on; VALIDATE then reads the rows already there"
                + " while reads and writes go on" + (spec.validate() ? "" : " (not run: validate is false;"
                + " validate_constraint runs it later)"));
        if (spec.kind() == ConstraintInfo.Kind.FOREIGN_KEY && catalog.constraints(spec.table()).stream()
                .noneMatch(c -> c.isKey() && c.columns().size() >= spec.columns().size()
                        && c.columns().subList(0, spec.columns().size()).equals(spec.columns()))) {
            notes.add("no key of " + spec.table() + " starts with (" + Alter.names(spec.columns()) + "): unless an"
                    + " index does, a DELETE or key UPDATE in " + spec.refTable() + " scans " + spec.table()
                    + " (create_index on those columns)");
        }
        return notes;
    }

    @Override
    public Reply reply(Request request, Spec spec, Outcome outcome) {
        return Reply.to(request, "constraint_added")
                .put("constraint", spec.constraint().value())
                .seconds("duration_seconds", outcome.durationSeconds())
                .put("table_locked", outcome.tableLocked())
                .put("validated", spec.validate());
    }
}
