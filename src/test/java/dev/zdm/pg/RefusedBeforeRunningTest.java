package dev.zdm.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.pg.Planner.ColumnSpec;
import dev.zdm.pg.Planner.IndexSpec;
import dev.zdm.pg.Planner.MigrationSpec;
import dev.zdm.protocol.ZdmException;
import dev.zdm.schema.Schema;
import dev.zdm.simulator.SimCatalog;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What PostgreSQL refuses as it analyses a statement, known to the planner before anything runs (issue
 * 13): each refusal with the code the PostgreSQL engine gives for the server's SQLSTATE (checked by hand
 * on PostgreSQL 15, and against the server in ServerRefusalsOnBothEnginesTest).
 */
class RefusedBeforeRunningTest {

    static final ServerVersion PG15 = new ServerVersion(15);
    static final SqlName ORDERS = SqlName.of("orders");

    /** orders (id bigint key, n int, note varchar(3), doc xml, at point, price numeric(5,2)) with rows, a check named orders_late_not_null taken. */
    static SimCatalog closedWorld() {
        Map<SqlName, Schema.Column> columns = new LinkedHashMap<>();
        columns.put(SqlName.of("id"), new Schema.Column(DataType.of("bigint"), null, false));
        columns.put(SqlName.of("n"), new Schema.Column(DataType.of("integer"), null, true));
        columns.put(SqlName.of("note"), new Schema.Column(DataType.of("character varying(3)"), null, true));
        columns.put(SqlName.of("doc"), new Schema.Column(DataType.of("xml"), null, true));
        columns.put(SqlName.of("at"), new Schema.Column(DataType.of("point"), null, true));
        columns.put(SqlName.of("price"), new Schema.Column(DataType.of("numeric(5,2)"), null, true));
        var table = new Schema.Table(1_000, columns, List.of(SqlName.of("id")),
                Map.of(SqlName.of("orders_pkey"), new Schema.Index(List.of(SqlName.of("id")), true, true)),
                Map.of(SqlName.of("orders_late_not_null"), new Schema.Constraint("check", "CHECK (n > 0)", true)));
        return SimCatalog.of(new Schema(15, Map.of(ORDERS, table), Set.of()), PG15);
    }

    static int code(Throwable t) {
        return ((ZdmException) t).code().code();
    }

    static ColumnSpec column(String name, String type, ColumnDefault def) {
        return new ColumnSpec(ORDERS, SqlName.of(name), DataType.of(type), def, true, true);
    }

    static ColumnDefault expression(String sql) {
        SqlExpression e = new SqlExpression(sql);
        return new ColumnDefault.Expression(e, PgFacts.of(PG15).isVolatile(e));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "varchar(3) | 'abcdef' | 22 | 22001",
            "character varying(3) | 12345 | 22 | 22001",
            "char(3) | 'abcd' | 22 | 22001",
            "char | 'ab' | 22 | 22001",
            "numeric(5,2) | 1000 | 22 | 22003",
            "numeric(5,2) | 999.995 | 22 | 22003",
            "numeric(5,2) | 'Infinity' | 22 | 22003",
            "numeric | 'abc' | 22 | 22P02",
            "integer | 'abc' | 22 | 22P02",
            "int | '1.5' | 22 | 22P02",
            "int | 3000000000 | 22 | 22003",
            "smallint | 40000 | 22 | 22003",
            "bigint | '9223372036854775808' | 22 | 22003",
            "boolean | 'maybe' | 22 | 22P02",
            "boolean | 'o' | 22 | 22P02",
            "int[] | '{1,2' | 22 | 22P02",
            "int[] | '[1,2]' | 22 | 22P02",
            "int[] | '1,2' | 22 | 22P02",
            "text[] | '{a}x' | 22 | 22P02",
            "boolean | 1 | 12 | 42804",
            "int | true | 12 | 42804"})
    void aConstantThatDoesNotFitItsTypeIsRefusedWithTheServersCode(String type, String constant, int code, String state) {
        assertThatThrownBy(() -> ConstantFit.check(PG15, DataType.of(type), constant))
                .satisfies(t -> assertThat(code(t)).isEqualTo(code))
                .hasMessageContaining(state);
        // The planner refuses it for add_column as for set_default, before any step.
        assertThatThrownBy(() -> new Planner(PG15, closedWorld()).addColumn(column("fresh", type,
                new ColumnDefault.Constant(constant)))).satisfies(t -> assertThat(code(t)).isEqualTo(code));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "numeric(5,2) | 1000 | 22",
            "varchar(3) | 'abcdef' | 22",
            "int[] | '{1,2' | 22",
            "boolean | 1 | 12"})
    void aConstantWrittenAsDefaultSqlIsJudgedAsADefaultIs(String type, String sql, int code) {
        assertThatThrownBy(() -> new Planner(PG15, closedWorld()).addColumn(column("fresh", type, expression(sql))))
                .satisfies(t -> assertThat(code(t)).isEqualTo(code));
        // An expression around it is the server's to fold: not judged here.
        new Planner(PG15, closedWorld()).addColumn(column("fresh", "numeric(5,2)", expression("1000 / 100")));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "varchar(3) | 'abc   ' | true",
            "varchar(3) | 'abc' | true",
            "varchar | 'abcdef' | true",
            "bpchar | 'abcdef' | true",
            "numeric(5,2) | 999.994 | true",
            "numeric(5,2) | '-999.99' | true",
            "numeric(5,2) | 'NaN' | true",
            "int | ' 12 ' | true",
            "int | 1.5 | true",
            "smallint | '-32768' | true",
            "boolean | 'of' | true",
            "boolean | ' YES ' | true",
            "boolean | true | true",
            "text | 'anything' | true",
            "int[] | '[1:2]={1,2}' | false",
            "int[] | '{1,\"}\"}' | false",
            "inet | 'not-an-ip' | false",
            "uuid | 'x' | false",
            "mood | 'zz' | false"})
    void aConstantThatFitsPassesAndOneOnlyTheServerCanJudgeIsSaidToBeUnknown(String type, String constant, boolean known) {
        assertThat(ConstantFit.check(PG15, DataType.of(type), constant)).isEqualTo(known);
    }

    @Test
    void integersWrittenAsPostgresql16ReadsThemAreLeftToTheServerThere() {
        assertThatThrownBy(() -> ConstantFit.check(PG15, DataType.of("int"), "'1_000'"))
                .satisfies(t -> assertThat(code(t)).isEqualTo(22));
        assertThat(ConstantFit.check(new ServerVersion(16), DataType.of("int"), "'1_000'")).isFalse();
        assertThat(ConstantFit.check(new ServerVersion(17), DataType.of("int"), "'0x1F'")).isFalse();
        assertThatThrownBy(() -> ConstantFit.check(new ServerVersion(17), DataType.of("int"), "'abc'"))
                .satisfies(t -> assertThat(code(t)).isEqualTo(22));
        assertThatThrownBy(() -> ConstantFit.check(new ServerVersion(17), DataType.of("numeric"), "'abc'"))
                .satisfies(t -> assertThat(code(t)).isEqualTo(22));
    }

    @Test
    void aConstantWithBackslashesIsReadAsWritten() {
        String literal = SqlLiteral.of("a\\b'c");
        assertThat(SqlLiteral.valueOf(literal)).isEqualTo("a\\b'c");
        assertThatThrownBy(() -> ConstantFit.check(PG15, DataType.of("varchar(4)"), literal))
                .satisfies(t -> assertThat(code(t)).isEqualTo(22));
        assertThat(ConstantFit.check(PG15, DataType.of("varchar(5)"), literal)).isTrue();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "n + 1 | 22 | 0A000",
            "orders.n | 22 | 0A000",
            "(select 1) | 22 | 0A000",
            "1 + (SELECT max(id) FROM orders) | 22 | 0A000",
            "count(*) | 12 | 42803",
            "max(1) | 12 | 42803",
            "row_number() over () | 12 | 42P20",
            "row_number() | 12 | 42809",
            "generate_series(1, 2) | 22 | 0A000"})
    void aDefaultExpressionTheServerRefusesIsRefusedBeforeRunning(String sql, int code, String state) {
        assertThatThrownBy(() -> new Planner(PG15, closedWorld()).addColumn(column("fresh", "int", expression(sql))))
                .satisfies(t -> assertThat(code(t)).isEqualTo(code))
                .hasMessageContaining(state);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "now()",
            "extract(epoch from now())",
            "current_timestamp",
            "'x' collate \"C\"",
            "interval '1 day' + now()",
            "'{}'::jsonb",
            "cast('1' as integer)",
            "date '2020-01-01'",
            "E'a' || 'b'",
            "1e5",
            "coalesce(null, 1)",
            "'a'::pg_catalog.text",
            "current_setting('timezone')",
            "localtimestamp(3) at time zone 'UTC'",
            "array[1, 2]",
            "true and not false"})
    void aDefaultExpressionThatReadsNoRowIsNotAColumnReference(String sql) {
        assertThat(ExpressionRefusals.columnReferences(PG15, new SqlExpression(sql))).isEmpty();
        ExpressionRefusals.check(PG15, new SqlExpression(sql), ExpressionRefusals.Place.DEFAULT);
    }

    @Test
    void setAndWhereRefuseAggregatesWindowsAndSetsButNotSubqueries() {
        Planner planner = new Planner(PG15, closedWorld());
        assertThatThrownBy(() -> planner.migrateData(migration("n", "count(*)", null)))
                .satisfies(t -> assertThat(code(t)).isEqualTo(12)).hasMessageContaining("not allowed in UPDATE");
        assertThatThrownBy(() -> planner.migrateData(migration("n", "generate_series(1, 2)", null)))
                .satisfies(t -> assertThat(code(t)).isEqualTo(22)).hasMessageContaining("0A000");
        assertThatThrownBy(() -> planner.migrateData(migration("n", "1", "count(*) > 1")))
                .satisfies(t -> assertThat(code(t)).isEqualTo(12)).hasMessageContaining("not allowed in WHERE");
        assertThatThrownBy(() -> planner.migrateData(migration("n", "rank() over (order by id)", null)))
                .satisfies(t -> assertThat(code(t)).isEqualTo(12)).hasMessageContaining("42P20");
        assertThat(planner.migrateData(migration("n", "(SELECT count(*) FROM orders o WHERE o.id < id)", null)).steps())
                .hasSize(1);
    }

    @Test
    void aWhereOrSetNamingAColumnTheTableLacksIsNotFound() {
        Planner planner = new Planner(PG15, closedWorld());
        assertThatThrownBy(() -> planner.migrateData(migration("n", "nope + 1", null)))
                .satisfies(t -> assertThat(code(t)).isEqualTo(20)).hasMessageContaining("column nope");
        assertThatThrownBy(() -> planner.migrateData(migration("n", "1", "missing_column IS NULL")))
                .satisfies(t -> assertThat(code(t)).isEqualTo(20)).hasMessageContaining("42703");
        // Unquoted names fold to lower case, as the server folds them.
        assertThat(planner.migrateData(migration("n", "N + 1", "ID > 5 AND note IS NULL")).steps()).hasSize(1);
        // A quoted name is the server's to read, whatever it holds.
        assertThat(ExpressionRefusals.columnReferences(PG15, new SqlExpression("\"Odd \"\"col'; --\" * 2"))).isEmpty();
        // System columns and the whole row are no missing columns.
        assertThat(planner.migrateData(migration("note", "left(row_to_json(orders)::text, 3)",
                "xmin::text::bigint > 5 AND ctid > '(0,1)'")).steps()).hasSize(1);
        // An open world knows no columns: the server decides.
        SimCatalog open = SimCatalog.openWorld(100, PG15);
        assertThat(new Planner(PG15, open).migrateData(migration("n", "nope + 1", null)).steps()).hasSize(1);
    }

    @Test
    void aSetConstantIsConvertedToTheColumnsTypeBeforeAnyRow() {
        Planner planner = new Planner(PG15, closedWorld());
        assertThatThrownBy(() -> planner.migrateData(migration("note", "'abcdef'", null)))
                .satisfies(t -> assertThat(code(t)).isEqualTo(22)).hasMessageContaining("22001");
        assertThatThrownBy(() -> planner.migrateData(migration("price", "1000", null)))
                .satisfies(t -> assertThat(code(t)).isEqualTo(22)).hasMessageContaining("22003");
        assertThat(planner.migrateData(migration("note", "'abc'", null)).steps()).hasSize(1);
    }

    static MigrationSpec migration(String column, String value, String where) {
        return new MigrationSpec(ORDERS, Map.of(SqlName.of(column), new SqlExpression(value)),
                where == null ? null : new SqlExpression(where), 100, null, 0);
    }

    @Test
    void aSystemColumnNameIsTaken() {
        for (String name : List.of("xmin", "ctid", "tableoid", "cmax")) {
            assertThatThrownBy(() -> new Planner(PG15, closedWorld()).addColumn(column(name, "int", new ColumnDefault.None())))
                    .satisfies(t -> assertThat(code(t)).isEqualTo(21)).hasMessageContaining("system column");
        }
        // Names are exact: XMIN is not xmin.
        assertThat(new Planner(PG15, closedWorld()).addColumn(column("XMIN", "int", new ColumnDefault.None())).steps())
                .hasSize(1);
    }

    @Test
    void anIndexOfMoreThan32ColumnsAndOneOnATypeWithoutBtreeAreRefused() {
        List<SqlName> many = IntStream.range(0, 33).mapToObj(i -> SqlName.of("n")).toList();
        assertThatThrownBy(() -> new Planner(PG15, closedWorld()).createIndex(new IndexSpec(ORDERS, many,
                SqlName.of("wide"), false, true))).satisfies(t -> assertThat(code(t)).isEqualTo(22))
                .hasMessageContaining("32 columns");
        for (String column : List.of("doc", "at")) {
            assertThatThrownBy(() -> new Planner(PG15, closedWorld()).createIndex(new IndexSpec(ORDERS,
                    List.of(SqlName.of(column)), SqlName.of("i_" + column), false, true)))
                    .satisfies(t -> assertThat(code(t)).isEqualTo(20)).hasMessageContaining("btree");
        }
        assertThat(new Planner(PG15, closedWorld()).createIndex(new IndexSpec(ORDERS, List.of(SqlName.of("price")),
                SqlName.of("i_price"), false, true)).steps()).hasSize(1);
    }

    @Test
    void theTemporaryNotNullCheckTakesAFreeName() {
        ColumnSpec spec = new ColumnSpec(ORDERS, SqlName.of("late"), DataType.of("timestamptz"),
                expression("clock_timestamp()"), false, true);
        Plan plan = new Planner(PG15, closedWorld()).addColumn(spec);
        assertThat(plan.steps().stream().map(Step::sql).filter(s -> s.contains("ADD CONSTRAINT")))
                .singleElement().asString().contains("\"orders_late_not_null1\"");
    }

    @Test
    void namesAreCutInBytesBetweenCharactersAsMakeObjectNameCutsThem() {
        String table = "é".repeat(40);
        String column = "c".repeat(30);
        SqlName name = ObjectNames.choose(table, column, "not_null", n -> false);
        assertThat(SqlName.bytes(name.value())).isLessThanOrEqualTo(63);
        // 63 - 10 bytes for _ and _not_null: 53 for both; the longer (80 bytes) is cut first, to 27, then a whole character: 26.
        assertThat(name.value()).isEqualTo("é".repeat(13) + "_" + "c".repeat(26) + "_not_null");
        assertThat(ObjectNames.choose(table, column, "not_null", n -> n.equals(name)).value()).endsWith("_not_null1");
    }

    @Test
    void twoLongColumnListsCutToOneDefaultIndexNameGetTwoNames() {
        String prefix = "a".repeat(60);
        List<SqlName> first = List.of(SqlName.of(prefix + "1"));
        List<SqlName> second = List.of(SqlName.of(prefix + "2"));
        SqlName one = IndexSpec.defaultName(ORDERS, first, closedWorld());
        Map<SqlName, Schema.Column> columns = new LinkedHashMap<>();
        columns.put(SqlName.of("id"), new Schema.Column(DataType.of("bigint"), null, false));
        columns.put(first.get(0), new Schema.Column(DataType.TEXT, null, true));
        columns.put(second.get(0), new Schema.Column(DataType.TEXT, null, true));
        var table = new Schema.Table(10, columns, List.of(SqlName.of("id")), Map.of(SqlName.of("orders_pkey"),
                new Schema.Index(List.of(SqlName.of("id")), true, true), one, new Schema.Index(first, false, true)), Map.of());
        SimCatalog catalog = SimCatalog.of(new Schema(15, Map.of(ORDERS, table), Set.of()), PG15);

        SqlName two = IndexSpec.defaultName(ORDERS, second, catalog);

        assertThat(one.value()).isEqualTo("idx_" + "a".repeat(59));
        assertThat(two).isNotEqualTo(one);
        assertThat(two.value()).isEqualTo("idx_" + "a".repeat(58) + "1");
        // The same list again is the same index: the request resent finds its own (21), not a third.
        assertThat(IndexSpec.defaultName(ORDERS, first, catalog)).isEqualTo(one);
    }
}
