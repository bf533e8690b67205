package dev.zdm.recipes;

import com.fasterxml.jackson.databind.JsonNode;
import dev.zdm.engine.Outcome;
import dev.zdm.handlers.AddColumnHandler;
import dev.zdm.handlers.SqlLookingDefault;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ColumnDefault;
import dev.zdm.pg.ConstraintInfo;
import dev.zdm.pg.DataType;
import dev.zdm.pg.DefaultCheck;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.ObjectNames;
import dev.zdm.pg.PgFacts;
import dev.zdm.pg.Plan;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlLiteral;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.pg.SystemColumns;
import dev.zdm.pg.SystemSchemas;
import dev.zdm.pg.TableWork;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * create_table {table, schema?, columns: {name: {type, default? | default_sql?, nullable = true}},
 * primary_key?: [..]} → table_created {duration_seconds}. One CREATE TABLE: the new table is locked
 * ACCESS EXCLUSIVE by the statement that makes it, which no other session can see until it commits,
 * so nothing waits on it. A relation of the name is 21, unless it is the table this request makes
 * (its columns, their types, NOT NULL, which have defaults, and its primary key): then the request is
 * a resend and runs as CREATE TABLE IF NOT EXISTS, which changes nothing and locks nothing.
 */
public final class CreateTable implements Recipe<CreateTable.Spec> {

    private static final Set<String> COLUMN_FIELDS = Set.of("type", "default", "default_sql", "nullable");

    /** {@code value}: the column's default as the request gave it (a constant or an expression), or none. */
    public record Column(SqlName name, DataType type, ColumnDefault value, boolean nullable) {
        /** The column's default as SQL, or null. */
        public String defaultSql() {
            return value.sql();
        }
    }

    public record Spec(SqlName table, List<Column> columns, List<SqlName> primaryKey) {
        public Spec {
            columns = List.copyOf(columns);
            primaryKey = List.copyOf(primaryKey);
        }
    }

    @Override
    public String type() {
        return "create_table";
    }

    @Override
    public Set<String> fields() {
        return Set.of("table", "schema", "columns", "primary_key");
    }

    @Override
    public Spec parse(Request request, CatalogView catalog) {
        // Not resolved through the search_path: CREATE puts an unqualified name in the first schema of it.
        SqlName table = SystemSchemas.requireUserTable(
                SqlName.table(request.has("schema") ? request.string("schema") : null, request.string("table")), catalog);
        JsonNode given = request.raw("columns");
        if (given == null || !given.isObject() || given.isEmpty()) {
            throw ZdmException.malformed("columns must be an object of at least one column: {\"name\": {\"type\": ...}}");
        }
        List<Column> columns = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = given.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            columns.add(column(SqlName.of(entry.getKey()), entry.getValue()));
        }
        List<SqlName> key = List.of();
        if (request.has("primary_key")) {
            List<String> names = request.strings("primary_key");
            if (names == null || names.isEmpty()) {
                throw ZdmException.malformed("primary_key must name at least one column");
            }
            key = names.stream().map(SqlName::of).toList();
            if (new LinkedHashSet<>(key).size() != key.size()) {
                throw ZdmException.malformed("primary_key names a column twice");
            }
            Set<SqlName> declared = columns.stream().map(Column::name).collect(Collectors.toSet());
            for (SqlName k : key) {
                if (!declared.contains(k)) {
                    throw ZdmException.malformed("primary_key names " + k + ", which is not one of the columns");
                }
            }
        }
        return new Spec(table, columns, key);
    }

    private static Column column(SqlName name, JsonNode spec) {
        if (spec == null || !spec.isObject()) {
            throw ZdmException.malformed("column " + name + " must be an object: {\"type\": ...}");
        }
        for (Iterator<String> it = spec.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!COLUMN_FIELDS.contains(field)) {
                throw ZdmException.malformed("column " + name + ": unknown field " + field + " (it takes "
                        + String.join(", ", COLUMN_FIELDS.stream().sorted().toList()) + ")");
            }
        }
        if (!spec.path("type").isTextual()) {
            throw ZdmException.malformed("column " + name + " needs a type (a string)");
        }
        DataType type = DataType.of(spec.get("type").asText());
        if (spec.has("default") && spec.has("default_sql")) {
            throw ZdmException.malformed("column " + name + ": give default or default_sql, not both");
        }
        ColumnDefault value = new ColumnDefault.None();
        if (spec.has("default_sql")) {
            if (!spec.get("default_sql").isTextual()) {
                throw ZdmException.malformed("column " + name + ": default_sql must be a string");
            }
            value = new ColumnDefault.Expression(new SqlExpression(spec.get("default_sql").asText()), false);
        } else if (spec.has("default") && !spec.get("default").isNull()) {
            if (spec.get("default").isTextual()) {
                SqlLookingDefault.refuse(spec.get("default").textValue(), type);
            }
            value = new ColumnDefault.Constant(AddColumnHandler.literal(spec.get("default")));
        }
        JsonNode nullable = spec.get("nullable");
        if (nullable != null && !nullable.isBoolean()) {
            throw ZdmException.malformed("column " + name + ": nullable must be true or false");
        }
        return new Column(name, type, value, nullable == null || nullable.asBoolean());
    }

    @Override
    public SqlName table(Spec spec) {
        return spec.table();
    }

    @Override
    public Plan plan(Spec spec, ServerVersion version, CatalogView catalog) {
        SqlName t = spec.table();
        PgFacts facts = PgFacts.of(version);
        if (t.schema() != null && catalog.schema(t.schema()) == CatalogView.Presence.ABSENT) {
            throw new ZdmException(ErrorCode.KEY_DOES_NOT_EXIST, "schema " + t.schema() + " does not exist (SQLSTATE"
                    + " 3F000): CREATE TABLE makes no schema; create it first, or name one that exists");
        }
        boolean exists = catalog.relationExists(t);
        if (exists && !(catalog.tableExists(t) && sameTable(spec, version, catalog))) {
            throw catalog.tableExists(t) ? new ZdmException(ErrorCode.KEY_ALREADY_EXISTS, "relation " + t
                    + " already exists, a table of another definition than this request's: drop it, or send another name")
                    : ZdmException.exists("relation " + t);
        }
        Set<SqlName> chosen = new LinkedHashSet<>();
        List<CatalogChange.NewColumn> columns = new ArrayList<>();
        List<String> definitions = new ArrayList<>();
        for (Column c : spec.columns()) {
            SystemColumns.require(c.name());
            if (!exists) {
                DefaultCheck.atCreate(version, catalog, c.type(), c.value());
            }
            var serial = facts.serialType(c.type().sql());
            boolean notNull = !c.nullable() || spec.primaryKey().contains(c.name());
            definitions.add(c.name().quoted() + " " + c.type().sql() + (c.defaultSql() == null ? "" : " DEFAULT "
                    + c.defaultSql()) + (c.nullable() ? "" : " NOT NULL"));
            if (serial.isPresent() && c.defaultSql() != null) {
                throw ZdmException.malformed("column " + c.name() + ": " + c.type() + " brings its own default (nextval"
                        + " of its sequence): give none");
            }
            if (serial.isPresent()) {
                // parse_utilcmd.c: the sequence is named table_column_seq (then _seq1, ...), NOT NULL, its nextval the default.
                SqlName sequence = t.sibling(ObjectNames.choose(t.value(), c.name().value(), "seq",
                        n -> chosen.contains(n) || catalog.relationExists(t.sibling(n))));
                chosen.add(sequence.unqualified());
                columns.add(new CatalogChange.NewColumn(c.name(), new DataType(serial.get()),
                        "nextval(" + SqlLiteral.of(sequence.quoted()) + "::regclass)", true, sequence));
            } else {
                columns.add(new CatalogChange.NewColumn(c.name(), c.type(), c.defaultSql(), notNull, null));
            }
        }
        SqlName keyIndex = null;
        if (!spec.primaryKey().isEmpty()) {
            keyIndex = t.sibling(ObjectNames.choose(t.value(), null, "pkey",
                    n -> chosen.contains(n) || catalog.relationExists(t.sibling(n))));
            definitions.add("PRIMARY KEY (" + Alter.columns(spec.primaryKey()) + ")");
        }
        String sql = "CREATE TABLE " + (exists ? "IF NOT EXISTS " : "") + t.quoted() + " ("
                + String.join(", ", definitions) + ")";
        return new Plan(t, List.of(new Statement(t, sql, LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true, null,
                new CatalogChange.CreateTable(columns, spec.primaryKey(), keyIndex, exists))));
    }

    /**
     * Whether the table there is the one the request makes: the same columns, each of the same type
     * (as the server names it), NOT NULL alike, a default alike present or absent (its text the server
     * prints its own way), and the same primary key.
     */
    private static boolean sameTable(Spec spec, ServerVersion version, CatalogView catalog) {
        SqlName t = spec.table();
        Set<SqlName> names = spec.columns().stream().map(Column::name).collect(Collectors.toSet());
        if (!catalog.columns(t).equals(names)) {
            return false;
        }
        PgFacts facts = PgFacts.of(version);
        for (Column c : spec.columns()) {
            var facts0 = catalog.columnFacts(t, c.name());
            if (facts0.isEmpty() || facts0.get().type() == null) {
                return false;
            }
            boolean serial = facts.serialType(c.type().sql()).isPresent();
            DataType wanted = serial ? new DataType(facts.serialType(c.type().sql()).get()) : c.type();
            boolean notNull = serial || !c.nullable() || spec.primaryKey().contains(c.name());
            if (!canonical(wanted, facts).equals(canonical(facts0.get().type(), facts))
                    || facts0.get().notNull() != notNull
                    || (facts0.get().defaultSql() != null) != (serial || c.defaultSql() != null)) {
                return false;
            }
        }
        List<SqlName> key = catalog.constraints(t).stream().filter(k -> k.kind() == ConstraintInfo.Kind.PRIMARY_KEY)
                .findFirst().map(ConstraintInfo::columns).orElse(List.of());
        return Objects.equals(key, spec.primaryKey());
    }

    /** The type as format_type names it: int4 and int are integer, varchar(20) is character varying(20). */
    static String canonical(DataType type, PgFacts facts) {
        String base = PgFacts.baseTypeName(type.sql());
        String rest = type.sql().substring(base.length()).replace(" ", "");
        return facts.canonicalType(base).orElse(base) + rest;
    }

    @Override
    public List<String> notes(Spec spec, ServerVersion version, CatalogView catalog) {
        return List.of("the new table is locked only by the statement that makes it, which no other session sees"
                + " until it commits: nothing waits on it");
    }

    @Override
    public Reply reply(Request request, Spec spec, Outcome outcome) {
        return Reply.to(request, "table_created").seconds("duration_seconds", outcome.durationSeconds());
    }
}
