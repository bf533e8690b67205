package dev.zdm.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.pg.Planner.ColumnSpec;
import dev.zdm.pg.Planner.IndexSpec;
import dev.zdm.pg.Planner.MigrationSpec;
import dev.zdm.protocol.ZdmException;
import dev.zdm.simulator.SimCatalog;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PlannerTest {

    static final SqlName USERS = SqlName.of("users");
    static final SqlName EMAIL = SqlName.of("email");
    static final SqlName STATUS = SqlName.of("status");

    final SimCatalog catalog = SimCatalog.withUsersTable(6_000_000, ServerVersion.DEFAULT);

    static Planner planner(int version, CatalogView catalog) {
        return new Planner(new ServerVersion(version), catalog);
    }

    Planner planner(int version) {
        return planner(version, catalog);
    }

    static IndexSpec index(List<String> columns, boolean concurrently) {
        List<SqlName> names = columns.stream().map(SqlName::of).toList();
        return new IndexSpec(USERS, names, IndexSpec.defaultName(names), false, concurrently);
    }

    static ColumnSpec column(ColumnDefault def, boolean nullable, boolean safe) {
        return new ColumnSpec(USERS, STATUS, DataType.TEXT, def, nullable, safe);
    }

    static ColumnDefault constant(String sql) {
        return new ColumnDefault.Constant(sql);
    }

    static ColumnDefault volatileDefault() {
        SqlExpression e = new SqlExpression("gen_random_uuid()::text");
        return new ColumnDefault.Expression(e, PgFacts.of(ServerVersion.DEFAULT).isVolatile(e));
    }

    static int code(Throwable t) {
        return ((ZdmException) t).code().code();
    }

    static Statement statement(Step step) {
        assertThat(step).isInstanceOf(Statement.class);
        return (Statement) step;
    }

    // ---- create_index

    @Test
    void concurrentBuildTakesShareUpdateExclusiveAndDoesNotLockTheTable() {
        Plan plan = planner(15).createIndex(index(List.of("email"), true));

        assertThat(plan.steps()).hasSize(1);
        Statement build = statement(plan.steps().get(0));
        assertThat(build.lock()).isEqualTo(LockMode.SHARE_UPDATE_EXCLUSIVE);
        assertThat(build.work()).isEqualTo(TableWork.BUILD_INDEX_CONCURRENTLY);
        assertThat(build.transactional()).as("CIC cannot run in a transaction block").isFalse();
        assertThat(build.sql()).isEqualTo("CREATE INDEX CONCURRENTLY \"idx_email\" ON \"users\" (\"email\")");
        assertThat(build.locksTable()).isFalse();
        assertThat(plan.predictsTableLocked()).isFalse();
        assertThat(plan.predictsRewrite()).isFalse();
        assertThat(build.change()).isEqualTo(new CatalogChange.CreateIndex(SqlName.of("idx_email"), List.of(EMAIL), false));
    }

    @Test
    void plainBuildTakesShareAndLocksTheTable() {
        Plan plan = planner(15).createIndex(index(List.of("email"), false));

        Statement build = statement(plan.steps().get(0));
        assertThat(build.lock()).isEqualTo(LockMode.SHARE);
        assertThat(build.work()).isEqualTo(TableWork.BUILD_INDEX);
        assertThat(build.sql()).isEqualTo("CREATE INDEX \"idx_email\" ON \"users\" (\"email\")");
        assertThat(build.locksTable()).isTrue();
        assertThat(plan.predictsTableLocked()).isTrue();
    }

    @Test
    void uniqueIndexSaysUnique() {
        var spec = new IndexSpec(USERS, List.of(EMAIL), SqlName.of("users_email_key"), true, true);
        assertThat(planner(15).createIndex(spec).steps().get(0).sql())
                .isEqualTo("CREATE UNIQUE INDEX CONCURRENTLY \"users_email_key\" ON \"users\" (\"email\")");
    }

    @Test
    void defaultIndexNames() {
        assertThat(IndexSpec.defaultName(List.of(EMAIL)).value()).isEqualTo("idx_email");
        assertThat(IndexSpec.defaultName(List.of(SqlName.of("name"), EMAIL)).value()).isEqualTo("idx_name_email");
        Plan plan = planner(15).createIndex(index(List.of("name", "email"), true));
        assertThat(plan.steps().get(0).sql()).contains("\"idx_name_email\" ON \"users\" (\"name\", \"email\")");
    }

    @Test
    void aDefaultNameLongerThan63IsCutAsPostgresCutsIt() {
        SqlName longColumn = SqlName.of("c".repeat(63));
        SqlName name = IndexSpec.defaultName(List.of(longColumn));
        assertThat(name.value()).hasSize(63).isEqualTo("idx_" + "c".repeat(59));
    }

    @Test
    void anExistingValidIndexIsError21() {
        var spec = new IndexSpec(USERS, List.of(SqlName.of("id")), SqlName.of("users_pkey"), false, true);
        assertThatThrownBy(() -> planner(15).createIndex(spec))
                .isInstanceOf(ZdmException.class)
                .satisfies(e -> assertThat(code(e)).isEqualTo(21))
                .hasMessageContaining("users_pkey");
    }

    @Test
    void anInvalidLeftoverIsDroppedConcurrentlyFirst() {
        CatalogView withLeftover = new LeftoverIndex(catalog, SqlName.of("idx_email"));
        Plan plan = planner(15, withLeftover).createIndex(index(List.of("email"), true));

        assertThat(plan.steps()).hasSize(2);
        Statement drop = statement(plan.steps().get(0));
        assertThat(drop.sql()).isEqualTo("DROP INDEX CONCURRENTLY IF EXISTS \"idx_email\"");
        assertThat(drop.lock()).isEqualTo(LockMode.SHARE_UPDATE_EXCLUSIVE);
        assertThat(drop.transactional()).isFalse();
        assertThat(drop.change()).isEqualTo(new CatalogChange.DropIndex(SqlName.of("idx_email")));
        assertThat(plan.steps().get(1).sql()).startsWith("CREATE INDEX CONCURRENTLY \"idx_email\"");
        assertThat(plan.predictsTableLocked()).isFalse();
    }

    @Test
    void anInvalidLeftoverBeforeAPlainBuildIsDroppedPlainly() {
        CatalogView withLeftover = new LeftoverIndex(catalog, SqlName.of("idx_email"));
        Plan plan = planner(15, withLeftover).createIndex(index(List.of("email"), false));
        Statement drop = statement(plan.steps().get(0));
        assertThat(drop.sql()).isEqualTo("DROP INDEX IF EXISTS \"idx_email\"");
        assertThat(drop.lock()).isEqualTo(LockMode.ACCESS_EXCLUSIVE);
    }

    @Test
    void missingTableOrColumnIsError20() {
        var noTable = new IndexSpec(SqlName.of("orders"), List.of(EMAIL), SqlName.of("idx_email"), false, true);
        assertThatThrownBy(() -> planner(15).createIndex(noTable)).satisfies(e -> assertThat(code(e)).isEqualTo(20));
        assertThatThrownBy(() -> planner(15).createIndex(index(List.of("phone"), true)))
                .satisfies(e -> assertThat(code(e)).isEqualTo(20))
                .hasMessageContaining("phone");
        var noTableColumn = new ColumnSpec(SqlName.of("orders"), STATUS, DataType.TEXT, new ColumnDefault.None(), true, true);
        assertThatThrownBy(() -> planner(15).addColumn(noTableColumn)).satisfies(e -> assertThat(code(e)).isEqualTo(20));
        var setMissing = new MigrationSpec(USERS, Map.of(SqlName.of("phone"), new SqlExpression("'x'")), null, 100, null, 0);
        assertThatThrownBy(() -> planner(15).migrateData(setMissing)).satisfies(e -> assertThat(code(e)).isEqualTo(20));
    }

    // ---- add_column

    @Test
    void existingColumnIsError21() {
        var spec = new ColumnSpec(USERS, EMAIL, DataType.TEXT, new ColumnDefault.None(), true, true);
        assertThatThrownBy(() -> planner(15).addColumn(spec)).satisfies(e -> assertThat(code(e)).isEqualTo(21));
    }

    @Test
    void constantDefaultOn15IsOneCatalogOnlyAccessExclusiveStatement() {
        Plan plan = planner(15).addColumn(column(constant("'active'"), false, true));

        assertThat(plan.steps()).hasSize(1);
        Statement add = statement(plan.steps().get(0));
        assertThat(add.sql()).isEqualTo("ALTER TABLE \"users\" ADD COLUMN \"status\" text DEFAULT 'active' NOT NULL");
        assertThat(add.lock()).isEqualTo(LockMode.ACCESS_EXCLUSIVE);
        assertThat(add.work()).isEqualTo(TableWork.CATALOG_ONLY);
        assertThat(add.locksTable()).as("held for an instant only").isFalse();
        assertThat(plan.predictsRewrite()).isFalse();
        assertThat(add.change()).isEqualTo(new CatalogChange.AddColumn(STATUS, DataType.TEXT, "'active'", true, true));
    }

    @Test
    void constantDefaultOn11IsAlreadyCatalogOnly() {
        Plan plan = planner(11).addColumn(column(constant("'active'"), false, true));
        assertThat(plan.steps()).hasSize(1);
        assertThat(plan.steps().get(0).work()).isEqualTo(TableWork.CATALOG_ONLY);
    }

    @Test
    void constantDefaultOn10TakesTheSafePathWithoutARewrite() {
        Plan plan = planner(10).addColumn(column(constant("'active'"), false, true));

        assertThat(plan.steps()).hasSizeGreaterThan(1);
        assertThat(plan.steps()).noneMatch(s -> s.work() == TableWork.REWRITE);
        assertThat(plan.predictsRewrite()).isFalse();
        Statement add = statement(plan.steps().get(0));
        assertThat(add.sql()).isEqualTo(
                "ALTER TABLE \"users\" ADD COLUMN \"status\" text, ALTER COLUMN \"status\" SET DEFAULT 'active'");
        assertThat(add.work()).isEqualTo(TableWork.CATALOG_ONLY);
        assertThat(plan.steps().get(1)).isInstanceOf(Backfill.class);
        // Before 12 SET NOT NULL would scan under ACCESS EXCLUSIVE: the validated CHECK stays instead.
        assertThat(plan.steps()).noneMatch(s -> s.sql().contains("SET NOT NULL"));
        assertThat(plan.steps().get(plan.steps().size() - 1).sql()).contains("VALIDATE CONSTRAINT");
    }

    @Test
    void aNullConstantDefaultIsNoDefault() {
        ColumnDefault nullDefault = new ColumnDefault.Expression(new SqlExpression("NULL"), false);
        Plan plan = planner(15).addColumn(column(nullDefault, true, true));
        assertThat(statement(plan.steps().get(0)).change())
                .isEqualTo(new CatalogChange.AddColumn(STATUS, DataType.TEXT, null, false, true));
        // As without a default: NOT NULL on a table with rows fails on the server (column contains nulls).
        assertThatThrownBy(() -> planner(15).addColumn(column(nullDefault, false, true)))
                .satisfies(t -> assertThat(code(t)).isEqualTo(22));
    }

    @Test
    void serialIsSpelledOutAsASequenceABareColumnAndABackfill() {
        var spec = new ColumnSpec(USERS, STATUS, DataType.of("bigserial"), new ColumnDefault.None(), true, true);
        Plan plan = planner(15).addColumn(spec);

        assertThat(plan.predictsRewrite()).isFalse();
        assertThat(plan.steps().get(0).sql()).isEqualTo("CREATE SEQUENCE \"users_status_seq\" AS bigint; "
                + "ALTER TABLE \"users\" ADD COLUMN \"status\" bigint, ALTER COLUMN \"status\" SET DEFAULT "
                + "(nextval('\"users_status_seq\"'::regclass)); ALTER SEQUENCE \"users_status_seq\" OWNED BY \"users\".\"status\"");
        assertThat(((Backfill) plan.steps().get(1)).setClause()).isEqualTo("\"status\" = (nextval('\"users_status_seq\"'::regclass))");
        // serial is NOT NULL whatever nullable says: the CHECK path follows.
        assertThat(plan.steps()).anyMatch(s -> s.sql().endsWith("SET NOT NULL"));
    }

    @Test
    void aSerialsSequenceIsNamedAsPostgresqlNamesIt() {
        var tableName = "t" + "a".repeat(40);
        var columnName = "c" + "b".repeat(30);
        // Checked on PostgreSQL 15: the longer name is shortened first until name_name_seq fits in 63.
        assertThat(planner(15).chooseRelationName(SqlName.of(tableName), tableName, columnName, "seq").value())
                .isEqualTo(tableName.substring(0, 29) + "_" + columnName.substring(0, 29) + "_seq");
        var table = new dev.zdm.schema.Schema.Table(10, java.util.Map.of(SqlName.of("id"),
                new dev.zdm.schema.Schema.Column(DataType.of("bigint"), null, false)), List.of(SqlName.of("id")),
                java.util.Map.of(), java.util.Map.of());
        var taken = SimCatalog.of(new dev.zdm.schema.Schema(15, java.util.Map.of(USERS, table),
                Set.of(SqlName.of("users_status_seq"))), new ServerVersion(15));
        var spec = new ColumnSpec(USERS, STATUS, DataType.of("serial"), new ColumnDefault.None(), true, true);
        // The name is taken: PostgreSQL (and zdm) take users_status_seq1, never a failing CREATE SEQUENCE.
        assertThat(planner(15, taken).addColumn(spec).steps().get(0).sql()).startsWith("CREATE SEQUENCE \"users_status_seq1\"");
    }

    @Test
    void serialTheUnsafeWayIsPredictedToRewriteAndAnOwnDefaultIsRefused() {
        var unsafe = new ColumnSpec(USERS, STATUS, DataType.of("serial"), new ColumnDefault.None(), true, false);
        assertThat(planner(17).addColumn(unsafe).predictsRewrite()).isTrue();
        var withDefault = new ColumnSpec(USERS, STATUS, DataType.of("serial"), constant("1"), true, true);
        assertThatThrownBy(() -> planner(17).addColumn(withDefault)).satisfies(t -> assertThat(code(t)).isEqualTo(12));
    }

    @Test
    void aVolatileDomainDefaultIsSetExplicitlyBackfilledAndDroppedAgain() {
        CatalogView withDomain = new DomainCatalog(catalog, new DomainType("gen_random_uuid()", true, false));
        var spec = new ColumnSpec(USERS, STATUS, DataType.of("uid"), new ColumnDefault.None(), true, true);
        Plan plan = planner(15, withDomain).addColumn(spec);

        assertThat(plan.predictsRewrite()).isFalse();
        assertThat(plan.steps().get(0).sql()).isEqualTo("ALTER TABLE \"users\" ADD COLUMN \"status\" uid DEFAULT NULL, "
                + "ALTER COLUMN \"status\" SET DEFAULT (gen_random_uuid())");
        assertThat(plan.steps().get(plan.steps().size() - 1).sql()).isEqualTo("ALTER TABLE \"users\" ALTER COLUMN \"status\" DROP DEFAULT");
    }

    @Test
    void aConstrainedDomainOnATableWithRowsIsRefused() {
        CatalogView withDomain = new DomainCatalog(catalog, new DomainType("1", false, true));
        var spec = new ColumnSpec(USERS, STATUS, DataType.of("positive"), new ColumnDefault.None(), true, true);
        assertThatThrownBy(() -> planner(15, withDomain).addColumn(spec)).satisfies(t -> assertThat(code(t)).isEqualTo(22));
        var unsafe = new ColumnSpec(USERS, STATUS, DataType.of("positive"), new ColumnDefault.None(), true, false);
        assertThat(planner(15, withDomain).addColumn(unsafe).predictsRewrite()).isTrue();
        // A default of its own changes nothing: the CHECK is what rewrites (seen on 15 and 17 by the fuzzer).
        var given = new ColumnSpec(USERS, STATUS, DataType.of("positive"), constant("5"), true, true);
        assertThatThrownBy(() -> planner(15, withDomain).addColumn(given)).satisfies(t -> assertThat(code(t)).isEqualTo(22));
        var empty = SimCatalog.withUsersTable(0, ServerVersion.DEFAULT);
        assertThat(planner(15, new DomainCatalog(empty, new DomainType(null, false, true))).addColumn(given)
                .predictsRewrite()).as("even on an empty table the file is new").isTrue();
    }

    @Test
    void aDomainsDefaultOnOldVersions() {
        CatalogView withDomain = new DomainCatalog(catalog, new DomainType("'x'::text", false, false));
        var notNull = new ColumnSpec(USERS, STATUS, DataType.of("label"), new ColumnDefault.None(), false, true);
        // 10 rewrites for any domain default, even under DEFAULT NULL: no safe way on a table with rows.
        assertThatThrownBy(() -> planner(10, withDomain).addColumn(notNull)).satisfies(t -> assertThat(code(t)).isEqualTo(22));
        // 11 and 12 leave the old rows NULL (seen by the fuzzer): NOT NULL fails; 13 on keep the default.
        assertThatThrownBy(() -> planner(11, withDomain).addColumn(notNull)).satisfies(t -> assertThat(code(t)).isEqualTo(22));
        assertThatThrownBy(() -> planner(12, withDomain).addColumn(notNull)).satisfies(t -> assertThat(code(t)).isEqualTo(22));
        assertThat(planner(13, withDomain).addColumn(notNull).predictsRewrite()).isFalse();
        // Nor does a volatile domain default rewrite there: the plain ADD COLUMN is catalog-only on 11 and 12.
        CatalogView volatileDomain = new DomainCatalog(catalog, new DomainType("random()", true, false));
        var nullable = new ColumnSpec(USERS, STATUS, DataType.of("noise"), new ColumnDefault.None(), true, false);
        assertThat(planner(12, volatileDomain).addColumn(nullable).predictsRewrite()).isFalse();
        assertThat(planner(13, volatileDomain).addColumn(nullable).predictsRewrite()).isTrue();
    }

    @Test
    void aDomainsDefaultIsNotTheColumnsOwn() {
        CatalogView withDomain = new DomainCatalog(catalog, new DomainType("'x'::text", false, false));
        var spec = new ColumnSpec(USERS, STATUS, DataType.of("label"), new ColumnDefault.None(), false, true);
        // NOT NULL holds: the old rows read the domain's default, yet pg_attrdef has no row for the column.
        var add = (CatalogChange.AddColumn) statement(planner(15, withDomain).addColumn(spec).steps().get(0)).change();
        assertThat(add.defaultSql()).isNull();
        assertThat(add.notNull()).isTrue();
    }

    /** A catalog that answers as another, but for what a test overrides. */
    interface Delegating extends CatalogView {
        CatalogView delegate();

        @Override
        default boolean tableExists(SqlName table) {
            return delegate().tableExists(table);
        }

        @Override
        default Set<SqlName> columns(SqlName table) {
            return delegate().columns(table);
        }

        @Override
        default Optional<IndexState> index(SqlName name) {
            return delegate().index(name);
        }

        @Override
        default List<UniqueKey> uniqueKeys(SqlName table) {
            return delegate().uniqueKeys(table);
        }

        @Override
        default Map<SqlName, ColumnGeneration> generatedColumns(SqlName table) {
            return delegate().generatedColumns(table);
        }

        @Override
        default boolean hasRows(SqlName table) {
            return delegate().hasRows(table);
        }

        @Override
        default boolean isVolatile(SqlExpression expression) {
            return delegate().isVolatile(expression);
        }

        @Override
        default Optional<ColumnFacts> columnFacts(SqlName table, SqlName column) {
            return delegate().columnFacts(table, column);
        }

        @Override
        default Optional<SqlName> indexTable(SqlName index) {
            return delegate().indexTable(index);
        }

        @Override
        default List<ConstraintInfo> constraints(SqlName table) {
            return delegate().constraints(table);
        }

        @Override
        default List<ConstraintInfo> referencing(SqlName table) {
            return delegate().referencing(table);
        }

        @Override
        default boolean hasUniqueIndexOn(SqlName table, java.util.Set<SqlName> columns) {
            return delegate().hasUniqueIndexOn(table, columns);
        }

        @Override
        default List<String> dependents(SqlName table, SqlName column) {
            return delegate().dependents(table, column);
        }

        @Override
        default boolean constraintExists(SqlName name) {
            return delegate().constraintExists(name);
        }
    }

    /** The simulator catalog, where every type name is that domain. */
    record DomainCatalog(SimCatalog delegate, DomainType domainType) implements Delegating {
        @Override
        public Optional<DomainType> domain(DataType type) {
            return Optional.of(domainType);
        }
    }

    @Test
    void volatileDefaultOn15GoesTheSafeWay() {
        Plan plan = planner(15).addColumn(column(volatileDefault(), false, true));

        List<Step> steps = plan.steps();
        assertThat(steps).hasSize(6);
        assertThat(steps.get(0).sql()).isEqualTo("ALTER TABLE \"users\" ADD COLUMN \"status\" text, "
                + "ALTER COLUMN \"status\" SET DEFAULT (gen_random_uuid()::text)");
        assertThat(statement(steps.get(0)).change())
                .isEqualTo(new CatalogChange.AddColumn(STATUS, DataType.TEXT, "(gen_random_uuid()::text)", false, false));

        Backfill fill = (Backfill) steps.get(1);
        assertThat(fill.lock()).isEqualTo(LockMode.ROW_EXCLUSIVE);
        assertThat(fill.walk()).isEqualTo(new KeyWalk.Keyset(new UniqueKey(SqlName.of("users_pkey"),
                List.of(new KeyColumn(SqlName.of("id"), DataType.of("bigint"))), true)));
        assertThat(fill.batchSize()).isEqualTo(Planner.BACKFILL_BATCH_SIZE);
        assertThat(fill.conditionSql()).isEqualTo("(\"status\" IS NULL)");
        assertThat(fill.setClause()).isEqualTo("\"status\" = (gen_random_uuid()::text)");

        assertThat(steps.get(2).sql()).isEqualTo(
                "ALTER TABLE \"users\" ADD CONSTRAINT \"users_status_not_null\" CHECK (\"status\" IS NOT NULL) NOT VALID");
        assertThat(steps.get(2).lock()).isEqualTo(LockMode.ACCESS_EXCLUSIVE);
        assertThat(steps.get(2).work()).isEqualTo(TableWork.CATALOG_ONLY);

        assertThat(steps.get(3).sql()).isEqualTo("ALTER TABLE \"users\" VALIDATE CONSTRAINT \"users_status_not_null\"");
        assertThat(steps.get(3).lock()).isEqualTo(LockMode.SHARE_UPDATE_EXCLUSIVE);
        assertThat(steps.get(3).work()).isEqualTo(TableWork.SCAN);

        assertThat(steps.get(4).sql()).isEqualTo("ALTER TABLE \"users\" ALTER COLUMN \"status\" SET NOT NULL");
        assertThat(steps.get(4).work()).as("a validated CHECK spares the scan from 12").isEqualTo(TableWork.CATALOG_ONLY);
        assertThat(steps.get(5).sql()).isEqualTo("ALTER TABLE \"users\" DROP CONSTRAINT \"users_status_not_null\"");

        assertThat(plan.predictsRewrite()).isFalse();
        assertThat(plan.predictsTableLocked()).isFalse();
    }

    @Test
    void volatileDefaultOn12DropsTheCheckToo() {
        Plan plan = planner(12).addColumn(column(volatileDefault(), false, true));
        assertThat(plan.steps()).anyMatch(s -> s.sql().endsWith("SET NOT NULL"));
        assertThat(plan.steps()).anyMatch(s -> s.sql().contains("DROP CONSTRAINT"));
    }

    @Test
    void volatileDefaultOn11KeepsTheCheckAndSkipsSetNotNull() {
        Plan plan = planner(11).addColumn(column(volatileDefault(), false, true));

        assertThat(plan.steps()).hasSize(4);
        assertThat(plan.steps().get(2).sql()).contains("CHECK (\"status\" IS NOT NULL) NOT VALID");
        assertThat(plan.steps().get(3).sql()).contains("VALIDATE CONSTRAINT");
        assertThat(plan.steps()).noneMatch(s -> s.sql().contains("SET NOT NULL"));
        assertThat(plan.steps()).noneMatch(s -> s.sql().contains("DROP CONSTRAINT"));
    }

    @Test
    void nullableVolatileDefaultNeedsNoConstraint() {
        Plan plan = planner(15).addColumn(column(volatileDefault(), true, true));
        assertThat(plan.steps()).hasSize(2);
        assertThat(plan.steps().get(1)).isInstanceOf(Backfill.class);
    }

    @Test
    void unsafeVolatileDefaultIsOneRewrite() {
        Plan plan = planner(15).addColumn(column(volatileDefault(), false, false));

        assertThat(plan.steps()).hasSize(1);
        Statement add = statement(plan.steps().get(0));
        assertThat(add.work()).isEqualTo(TableWork.REWRITE);
        assertThat(add.lock()).isEqualTo(LockMode.ACCESS_EXCLUSIVE);
        assertThat(add.sql()).isEqualTo(
                "ALTER TABLE \"users\" ADD COLUMN \"status\" text DEFAULT (gen_random_uuid()::text) NOT NULL");
        assertThat(plan.predictsRewrite()).isTrue();
        assertThat(plan.predictsTableLocked()).isTrue();
    }

    @Test
    void notNullWithoutDefaultOnATableWithRowsIsError22() {
        assertThatThrownBy(() -> planner(15).addColumn(column(new ColumnDefault.None(), false, true)))
                .satisfies(e -> assertThat(code(e)).isEqualTo(22));
    }

    @Test
    void notNullWithoutDefaultOnAnEmptyTableIsFine() {
        Plan plan = planner(15, SimCatalog.withUsersTable(0, ServerVersion.DEFAULT)).addColumn(column(new ColumnDefault.None(), false, true));
        assertThat(plan.steps()).hasSize(1);
        assertThat(plan.steps().get(0).sql()).isEqualTo("ALTER TABLE \"users\" ADD COLUMN \"status\" text NOT NULL");
    }

    @Test
    void nullableColumnWithoutDefaultIsCatalogOnlyEvenOn10() {
        Plan plan = planner(10).addColumn(column(new ColumnDefault.None(), true, true));
        assertThat(plan.steps()).hasSize(1);
        assertThat(plan.steps().get(0).work()).isEqualTo(TableWork.CATALOG_ONLY);
    }

    // ---- migrate_data

    @Test
    void migrateDataWithoutSetTouchesTheKey() {
        Plan plan = planner(15).migrateData(new MigrationSpec(USERS, Map.of(), null, 1000, 10_000L, 0));

        Backfill fill = (Backfill) plan.steps().get(0);
        assertThat(fill.assignments()).containsExactly(Map.entry(SqlName.of("id"), new SqlExpression("\"id\"")));
        // Explain shows the statements each batch runs: a key range found first, then the UPDATE of that range.
        assertThat(fill.sql()).contains("UPDATE \"users\" SET \"id\" = (\"id\") WHERE \"id\" > ?::bigint AND \"id\" <= "
                + "?::bigint AND true").contains("ORDER BY \"id\" LIMIT ?");
        KeyWalk.Keyset keyset = (KeyWalk.Keyset) fill.walk();
        assertThat(keyset.rangeSql(fill, true)).contains("WHERE \"id\" <= ?::bigint AND").doesNotContain("\"id\" > ?");
        assertThat(keyset.updateSql(fill, true, false)).as("the first batch, from its first key")
                .contains("WHERE \"id\" >= ?::bigint AND \"id\" <= ?::bigint AND");
        var first = keyset.batch(fill, null, KeyPosition.of("900"), 1000, List.of("700", "5"));
        assertThat(first.params()).containsExactly("5", "700", "700");
        assertThat(fill.batchSize()).isEqualTo(1000);
        assertThat(fill.lock()).isEqualTo(LockMode.ROW_EXCLUSIVE);
        assertThat(fill.rowLimit()).isEqualTo(10_000L);
        assertThat(plan.predictsTableLocked()).isFalse();
    }

    /** A closed world of tables keyed every way real tables are, from a schema as --schema gives it. */
    private static SimCatalog keyedTables() throws Exception {
        return SimCatalog.of(dev.zdm.schema.SchemaFile.parse(dev.zdm.protocol.Json.MAPPER.readTree("""
                {"tables": {
                  "comp": {"rows": 10, "columns": {"tenant": {"type": "integer"}, "code": {"type": "text"},
                           "n": {"type": "integer"}}, "primary_key": ["tenant", "code"]},
                  "uniq": {"rows": 10, "columns": {"nick": {"type": "text"}, "email": {"type": "text", "nullable": false},
                           "n": {"type": "integer"}},
                           "indexes": {"uniq_nick": {"columns": ["nick"], "unique": true},
                                       "uniq_email": {"columns": ["email"], "unique": true}}},
                  "none": {"rows": 10, "columns": {"v": {"type": "integer"}, "n": {"type": "integer"}}},
                  "twokeys": {"rows": 10, "columns": {"id": {"type": "integer"}, "code": {"type": "text", "nullable": false},
                              "n": {"type": "integer"}}, "primary_key": ["id"],
                              "indexes": {"twokeys_code": {"columns": ["code"], "unique": true}}},
                  "ident": {"rows": 10, "columns": {"id": {"type": "bigint", "identity": "always"},
                            "v": {"type": "integer"}, "w": {"type": "integer", "generated": true}},
                            "primary_key": ["id"]}}}""")), ServerVersion.DEFAULT);
    }

    @Test
    void aCompositeKeyIsWalkedAsARowComparisonInItsIndexOrder() throws Exception {
        var spec = new MigrationSpec(SqlName.of("comp"), Map.of(SqlName.of("n"), new SqlExpression("n + 1")), null, 100, null, 0);
        Backfill fill = (Backfill) planner(15, keyedTables()).migrateData(spec).steps().get(0);
        assertThat(fill.sql()).isEqualTo("WITH zdm_keys AS (SELECT \"tenant\" AS zdm_k1, \"code\" AS zdm_k2 FROM \"comp\""
                + " WHERE (\"tenant\", \"code\") > (?::integer, ?::text) AND (\"tenant\", \"code\") <= (?::integer, ?::text)"
                + " AND true ORDER BY \"tenant\", \"code\" LIMIT ?) SELECT * FROM (SELECT zdm_k1::text AS zdm_last1,"
                + " zdm_k2::text AS zdm_last2 FROM zdm_keys ORDER BY zdm_k1 DESC, zdm_k2 DESC LIMIT 1) zdm_last;"
                + " WITH zdm_done AS (UPDATE \"comp\" SET \"n\" = (n + 1) WHERE"
                + " (\"tenant\", \"code\") > (?::integer, ?::text) AND (\"tenant\", \"code\") <= (?::integer, ?::text)"
                + " AND \"tenant\" >= ?::integer AND \"tenant\" <= ?::integer AND true RETURNING 1)"
                + " SELECT count(*), ?::text, ?::text FROM zdm_done");
        var range = fill.walk().range(fill, KeyPosition.of("3", "abc"), KeyPosition.of("6", "zz"), 100);
        assertThat(range.params()).containsExactly("3", "abc", "6", "zz", 100L);
        var batch = fill.walk().batch(fill, KeyPosition.of("3", "abc"), KeyPosition.of("6", "zz"), 100, List.of("4", "q"));
        assertThat(batch.params()).as("from the checkpoint to the last key found, the leading column's bounds, the end again")
                .containsExactly("3", "abc", "4", "q", "3", "4", "4", "q");
        assertThat(fill.walk().batch(fill, KeyPosition.of("3", "abc"), KeyPosition.of("6", "zz"), 100, null).sql())
                .as("nothing left: it only locks").contains("WHERE false").endsWith("SELECT count(*), NULL::text, NULL::text FROM zdm_done");
    }

    @Test
    void withoutAPrimaryKeyAUniqueIndexOnNotNullColumnsIsTheKey() throws Exception {
        var spec = new MigrationSpec(SqlName.of("uniq"), Map.of(), null, 100, null, 0);
        Backfill fill = (Backfill) planner(15, keyedTables()).migrateData(spec).steps().get(0);
        assertThat(fill.walk().describe()).isEqualTo("uniq_email email");
        assertThat(fill.assignments()).containsOnlyKeys(SqlName.of("email"));
    }

    @Test
    void withoutAnyKeyOnlyAFillOfNullsRunsAndItWalksBlocks() throws Exception {
        SimCatalog tables = keyedTables();
        SqlName none = SqlName.of("none");
        assertThatThrownBy(() -> planner(15, tables).migrateData(new MigrationSpec(none,
                Map.of(SqlName.of("n"), new SqlExpression("n + 1")), null, 100, null, 0)))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(22))
                .hasMessageContaining("add a primary key");
        assertThatThrownBy(() -> planner(15, tables).migrateData(new MigrationSpec(none, Map.of(), null, 100, null, 0)))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(22));
        Plan plan = planner(15, tables).addColumn(new ColumnSpec(none, STATUS, DataType.TEXT,
                new ColumnDefault.Expression(new SqlExpression("gen_random_uuid()::text"), true), false, true));
        Backfill fill = (Backfill) plan.steps().get(1);
        assertThat(fill.walk()).isInstanceOf(KeyWalk.Blocks.class);
        assertThat(fill.sql()).isEqualTo("WITH zdm_done AS (UPDATE \"none\" SET \"status\" = (gen_random_uuid()::text)"
                + " WHERE ctid >= ?::tid AND ctid < ?::tid AND (\"status\" IS NULL) RETURNING 1) SELECT count(*), ?::text FROM zdm_done");
        assertThat(fill.walk().range(fill, KeyPosition.of("10"), KeyPosition.of("12"), 1000)).as("no range to ask for").isNull();
        var batch = fill.walk().batch(fill, KeyPosition.of("10"), KeyPosition.of("12"), 1000, null);
        assertThat(batch.params()).as("ten blocks asked, two left").containsExactly("(10,0)", "(12,0)", "12");
        assertThat(fill.walk().batch(fill, KeyPosition.of("12"), KeyPosition.of("12"), 1000, null)).isNull();
    }

    @Test
    void identityAlwaysAndGeneratedColumnsAreNotSet() throws Exception {
        SimCatalog tables = keyedTables();
        SqlName ident = SqlName.of("ident");
        Backfill touch = (Backfill) planner(15, tables).migrateData(new MigrationSpec(ident, Map.of(), null, 100, null, 0))
                .steps().get(0);
        assertThat(touch.assignments()).as("the key is identity ALWAYS: the next column that can be set")
                .containsExactly(Map.entry(SqlName.of("v"), new SqlExpression("\"v\"")));
        for (String column : List.of("id", "w")) {
            assertThatThrownBy(() -> planner(15, tables).migrateData(new MigrationSpec(ident,
                    Map.of(SqlName.of(column), new SqlExpression("1")), null, 100, null, 0)))
                    .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(12))
                    .hasMessageContaining("only to DEFAULT");
        }
    }

    @Test
    void setNeverMovesTheKeyTheBatchesWalk() throws Exception {
        SimCatalog tables = keyedTables();
        // id+1 walked by id: each batch moves its row ahead of the walk, which meets it again.
        for (var refused : List.of(
                new MigrationSpec(SqlName.of("comp"), Map.of(SqlName.of("code"), new SqlExpression("code || 'x'"),
                        SqlName.of("n"), new SqlExpression("n + 1")), null, 1, null, 0),
                new MigrationSpec(SqlName.of("uniq"), Map.of(SqlName.of("email"), new SqlExpression("upper(email)")),
                        null, 1, null, 0),
                new MigrationSpec(SqlName.of("twokeys"), Map.of(SqlName.of("id"), new SqlExpression("id + 1"),
                        SqlName.of("code"), new SqlExpression("code || 'x'")), null, 1, null, 0))) {
            assertThatThrownBy(() -> planner(15, tables).migrateData(refused))
                    .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(22))
                    .hasMessageContaining("met again")
                    .hasMessageContaining("add a unique index on NOT NULL columns that set leaves alone")
                    .hasMessageContaining("new column");
        }
        var movesId = new MigrationSpec(SqlName.of("twokeys"), Map.of(SqlName.of("id"), new SqlExpression("id + 1")),
                null, 1, null, 0);
        Backfill fill = (Backfill) planner(15, tables).migrateData(movesId).steps().get(0);
        assertThat(fill.walk().describe()).as("the other key, which set leaves alone").isEqualTo("twokeys_code code");
        Backfill plain = (Backfill) planner(15, tables).migrateData(new MigrationSpec(SqlName.of("twokeys"),
                Map.of(SqlName.of("n"), new SqlExpression("n + 1")), null, 1, null, 0)).steps().get(0);
        assertThat(plain.walk().describe()).as("the primary key, as always").startsWith("twokeys_pkey");
    }

    @Test
    void migrateDataWithSetAndWhere() {
        var spec = new MigrationSpec(USERS, Map.of(SqlName.of("name"), new SqlExpression("lower(name)")),
                new SqlExpression("email IS NOT NULL"), 500, null, 10);
        Backfill fill = (Backfill) planner(15).migrateData(spec).steps().get(0);
        assertThat(fill.sql()).contains("UPDATE \"users\" SET \"name\" = (lower(name)) WHERE \"id\" > ?::bigint AND \"id\" <= "
                + "?::bigint AND (email IS NOT NULL)");
        assertThat(fill.batchSize()).isEqualTo(500);
        assertThat(fill.sleepMs()).isEqualTo(10);
    }

    @Test
    void theSameMigrationHasTheSameJobKeyAndADifferentOneAnother() {
        var a = new MigrationSpec(USERS, Map.of(), null, 1000, 10_000L, 0);
        var b = new MigrationSpec(USERS, Map.of(), null, 1000, 20_000L, 0);
        String keyA = ((Backfill) planner(15).migrateData(a).steps().get(0)).jobKey();
        assertThat(((Backfill) planner(15).migrateData(a).steps().get(0)).jobKey()).isEqualTo(keyA);
        assertThat(((Backfill) planner(15).migrateData(b).steps().get(0)).jobKey()).isNotEqualTo(keyA);
    }

    // ---- quoting

    private static final Pattern IDENTIFIER_POSITION = Pattern.compile(
            "\\b(?:TABLE|INDEX|CONCURRENTLY|ON|COLUMN|CONSTRAINT|EXISTS|UPDATE|FROM|IN \\(SELECT) (\\S+)");

    @Test
    void everyIdentifierInEveryPlannedStatementIsQuoted() {
        List<Plan> plans = List.of(
                planner(15).createIndex(index(List.of("email"), true)),
                planner(15).createIndex(index(List.of("name", "email"), false)),
                planner(15, new LeftoverIndex(catalog, SqlName.of("idx_email"))).createIndex(index(List.of("email"), true)),
                planner(15).addColumn(column(constant("'active'"), false, true)),
                planner(10).addColumn(column(constant("'active'"), false, true)),
                planner(15).addColumn(column(volatileDefault(), false, true)),
                planner(15).addColumn(column(volatileDefault(), false, false)),
                planner(15).migrateData(new MigrationSpec(USERS, Map.of(), null, 1000, null, 0)));
        int checked = 0;
        for (Plan plan : plans) {
            for (Step step : plan.steps()) {
                Matcher m = IDENTIFIER_POSITION.matcher(step.sql());
                while (m.find()) {
                    String word = m.group(1);
                    if (word.equals("CONCURRENTLY") || word.equals("IF") || word.equals("COLUMN")
                            || word.equals("CONSTRAINT") || word.equals("INDEX")
                            // A subquery, and the batch statement's own names (zdm_range, ...): no request's.
                            || word.startsWith("(") || word.startsWith("zdm_")) {
                        continue;
                    }
                    assertThat(word).as("in %s", step.sql()).startsWith("\"");
                    checked++;
                }
                for (String bare : List.of(" users ", " email", " status ", " idx_email ", " id ")) {
                    assertThat(step.sql() + " ").as("bare identifier in %s", step.sql()).doesNotContain(bare);
                }
            }
        }
        assertThat(checked).isGreaterThan(20);
    }

    /** The simulator catalog, with an INVALID index of that name left over from a failed concurrent build. */
    record LeftoverIndex(SimCatalog delegate, SqlName leftover) implements Delegating {
        @Override
        public Optional<IndexState> index(SqlName name) {
            return name.equals(leftover) ? Optional.of(IndexState.INVALID) : delegate.index(name);
        }
    }
}
