package dev.zdm.simulator;

import dev.zdm.pg.Backfill;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.pg.Step;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What a prediction rests on that the simulator cannot see: the data (duplicates, values that do not
 * convert, rows a where does not match) and, in the open world, the schema itself. Explain lists them,
 * so a reader knows which part of an answer is a model and which part a guess.
 */
final class Assumptions {

    private static final Pattern CAST = Pattern.compile(
            "(?i)::\\s*([a-z_][a-z0-9_]*(\\s+(precision|varying|with|without|time|zone))*)|\\bcast\\s*\\(.*?\\bas\\s+([a-z_][a-z0-9_ ]*?)\\s*\\)");

    private Assumptions() {
    }

    static List<String> of(dev.zdm.pg.Plan plan, SimCatalog catalog) {
        Set<String> out = new LinkedHashSet<>();
        SqlName tableName = plan.table();
        SimCatalog.Table table = catalog.table(tableName);
        if (table.assumed()) {
            out.add("assumes table " + tableName + " exists, with " + table.rows() + " rows and primary key id"
                    + " (no schema given: --schema or --schema-from make this exact)");
        }
        // A backfill the plan runs is what makes its column's rows non-NULL: that is modelled, not assumed.
        boolean filled = plan.steps().stream().anyMatch(s -> s instanceof Backfill);
        for (Step step : plan.steps()) {
            if (!filled && step instanceof Statement s && s.change() instanceof CatalogChange.ValidateConstraint v) {
                out.add("assumes every row of " + tableName + " satisfies " + v.constraint() + " (VALIDATE reads them;"
                        + " a row that does not fails it: 22)");
            }
            if (step instanceof Statement s && s.change() instanceof CatalogChange.AddForeignKey fk) {
                columnsAssumed(tableName, fk.columns(), table, out);
                if (!fk.refTable().equals(tableName)) {
                    columnsAssumed(fk.refTable(), fk.refColumns(), catalog.table(fk.refTable()), out);
                }
            }
            if (step instanceof Statement s && s.change() instanceof CatalogChange.AddCheck check) {
                // Missing columns, aggregates, windows and set-returning calls are refused before this; the types are not modelled.
                out.add("assumes the check " + check.expression() + " types: a boolean, its functions and operators those"
                        + " of the column types of " + tableName + " (the server analyses it as it adds the constraint: one"
                        + " that does not is refused before any row, 12)");
            }
            if (step instanceof Statement s && s.change() instanceof CatalogChange.AddColumn add) {
                userObjectsAssumed(add, catalog, out);
                constantAssumed(add.type(), add.defaultSql(), catalog, out);
                evaluationAssumed(add.defaultSql(), catalog, out);
                if (!catalog.asksServerAboutConstants()) {
                    DateOrderAssumption.of(add.defaultSql(), out);
                }
            }
            if (step instanceof Statement s && s.change() instanceof CatalogChange.CreateTable create
                    && !catalog.asksServerAboutConstants()) {
                create.columns().forEach(column -> DateOrderAssumption.of(column.defaultSql(), out));
            }
            if (step instanceof Statement s && s.change() instanceof CatalogChange.DropColumn drop
                    && !catalog.asksServerAboutConstants()) {
                // Views are read from a server (--schema-from) or listed in a schema file ("views"); else unknown.
                out.add("assumes no view uses " + tableName + "." + drop.column() + " beyond those the schema lists"
                        + " (PostgreSQL refuses the drop for one, 22, or drops the view with cascade: true;"
                        + " --schema-from reads them)");
            }
            if (step instanceof Statement s && s.change() instanceof CatalogChange.SetDefault set) {
                catalog.columnFacts(tableName, set.column()).map(f -> f.type())
                        .ifPresent(type -> constantAssumed(type, set.defaultSql(), catalog, out));
                if (!catalog.asksServerAboutConstants()) {
                    DateOrderAssumption.of(set.defaultSql(), out);
                }
            }
            if (step instanceof Statement s && s.change() instanceof CatalogChange.CreateIndex create) {
                columnsAssumed(tableName, create.columns(), table, out);
                if (create.unique()) {
                    out.add("assumes no duplicates in " + names(create.columns()) + " (a duplicate fails the build: 22)");
                }
            } else if (step instanceof Backfill backfill && !backfill.jobKey().startsWith("add_column:")) {
                columnsAssumed(tableName, backfill.assignments().keySet(), table, out);
                where(backfill, table.rows(), out);
                backfill.assignments().forEach((column, value) -> set(column, value, out));
                unseenReads(backfill, catalog, out);
                if (!catalog.asksServerAboutConstants()) {
                    backfill.assignments().values().forEach(value -> DateOrderAssumption.of(value.text(), out));
                    DateOrderAssumption.of(backfill.condition() == null ? null : backfill.condition().text(), out);
                }
            }
        }
        return new ArrayList<>(out);
    }

    /** Names no PostgreSQL version has, taken for the database's own where the catalog does not know those. */
    private static void userObjectsAssumed(CatalogChange.AddColumn add, SimCatalog catalog, Set<String> out) {
        if (catalog.knowsUserObjects()) {
            return;
        }
        if (catalog.userType(add.type())) {
            out.add("assumes type " + add.type() + " exists (no PostgreSQL built-in: an extension's or the database's own)");
        }
        if (add.defaultSql() == null) {
            return;
        }
        try {
            for (String name : new SqlExpression(add.defaultSql()).functionNames()) {
                if (catalog.userFunction(name) != null && !dev.zdm.pg.PgFacts.of(catalog.version()).callable(name)) {
                    out.add("assumes function " + name + "() exists and is volatile (no PostgreSQL built-in: an"
                            + " extension's or the database's own)");
                }
            }
        } catch (dev.zdm.protocol.ZdmException quotedConstant) {
            // A constant calls nothing.
        }
    }

    /**
     * A constant of a type whose input function alone can judge it (inet, an enum, a domain), where no
     * server was asked: a value it refuses fails the ALTER before any row (22).
     */
    private static void constantAssumed(dev.zdm.pg.DataType type, String sql, SimCatalog catalog, Set<String> out) {
        if (type == null || sql == null || catalog.asksServerAboutConstants() || dev.zdm.pg.SqlLiteral.valueOf(sql) == null) {
            return;
        }
        boolean judged;
        try {
            judged = catalog.domain(type).isEmpty() && dev.zdm.pg.ConstantFit.check(catalog.version(), type, sql);
        } catch (dev.zdm.protocol.ZdmException refused) {
            judged = true;
        }
        if (!judged) {
            out.add("assumes " + sql + " is a value of type " + type + " (only the server's input function can tell;"
                    + " --schema-from asks it: a value it refuses fails the ALTER before any row, 22)");
        }
    }

    /**
     * A default expression that calls nothing volatile, where no server was asked: ADD COLUMN folds it
     * once, before any row, and one that fails to evaluate (1/0, an overflow, a bad cast) fails the ALTER.
     */
    private static void evaluationAssumed(String sql, SimCatalog catalog, Set<String> out) {
        if (sql == null || catalog.asksServerAboutConstants() || dev.zdm.pg.SqlLiteral.valueOf(sql) != null
                || !sql.matches("(?s).*[-+*/%^(:].*") || sql.startsWith("nextval(")) {
            return;
        }
        try {
            if (!catalog.isVolatile(new SqlExpression(sql))) {
                out.add("assumes " + sql + " evaluates without error (ADD COLUMN evaluates it once, before any row;"
                        + " --schema-from asks the server: one it cannot evaluate fails the ALTER, 22)");
            }
        } catch (dev.zdm.protocol.ZdmException notAnExpression) {
            // Not an expression zdm would send: nothing to assume.
        }
    }

    private static void columnsAssumed(SqlName tableName, Iterable<SqlName> columns, SimCatalog.Table table,
                                       Set<String> out) {
        for (SqlName column : columns) {
            SimCatalog.Column c = table.columns.get(column);
            if (c != null && c.assumed()) {
                out.add("assumes column " + tableName + "." + column + " exists (its type unknown)");
            }
        }
    }

    private static void where(Backfill backfill, long rows, Set<String> out) {
        if (backfill.condition() == null) {
            return;
        }
        SqlName key = backfill.integerKey().orElse(null);
        KeyRange range = key == null ? null : KeyRange.of(backfill.condition(), key);
        if (range == null) {
            out.add("assumes every row matches the where");
            return;
        }
        out.add("assumes the keys " + key + " are dense from 1 to " + rows + ", so the where's key range holds "
                + range.count(rows) + " rows");
        if (range.rest()) {
            out.add("assumes every row in that key range matches the rest of the where");
        }
    }

    private static void set(SqlName column, SqlExpression value, Set<String> out) {
        Matcher m = CAST.matcher(value.text());
        while (m.find()) {
            String type = (m.group(1) != null ? m.group(1) : m.group(4)).trim().toLowerCase(Locale.ROOT);
            out.add("assumes every row's value converts to " + type + " (for " + column + ")");
        }
        if (!value.functionNames().isEmpty() || value.text().contains("/")) {
            out.add("assumes " + value.text() + " can be evaluated on every row (for " + column + ")");
        }
    }

    /**
     * The locks a batch takes that the plan cannot list: a function of the database's own may read any
     * table (its body is not read), and a view's tables are locked with it. Built-in functions read no
     * table of the database (those that run SQL text are refused).
     */
    private static void unseenReads(Backfill backfill, SimCatalog catalog, Set<String> out) {
        List<SqlExpression> expressions = new ArrayList<>(backfill.assignments().values());
        if (backfill.condition() != null) {
            expressions.add(backfill.condition());
        }
        dev.zdm.pg.PgFacts facts = null;
        for (SqlExpression expression : expressions) {
            for (String name : expression.functionNames()) {
                if (facts == null) {
                    facts = dev.zdm.pg.PgFacts.of(catalog.version());
                }
                if (!facts.callable(name) && !facts.keyword(name)) {
                    out.add("assumes function " + name + "() reads no other table: the locks a function's body takes"
                            + " are not predicted (an ACCESS EXCLUSIVE holder on a table it reads stops every batch)");
                }
            }
            for (SqlName read : expression.relationsRead()) {
                if (!catalog.tableExists(read) && catalog.relationExists(read)) {
                    out.add("assumes " + read + " (a view or another relation that is not a table) stops no batch:"
                            + " the locks on the tables under it are not predicted");
                }
            }
        }
    }

    private static String names(List<SqlName> columns) {
        return columns.stream().map(SqlName::value).collect(Collectors.joining(", "));
    }
}
