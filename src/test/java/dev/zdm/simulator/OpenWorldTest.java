package dev.zdm.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.engine.AppTransaction;
import dev.zdm.engine.LockBudgetExceeded;
import dev.zdm.engine.Outcome;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ColumnDefault;
import dev.zdm.pg.DataType;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.pg.TableWork;
import dev.zdm.protocol.ZdmException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OpenWorldTest {

    static final SqlName ORDERS = SqlName.of("orders");
    static final SqlName USERS = SqlName.of("users");
    static final Duration BUDGET = Duration.ofMillis(2_000);

    final SimulatorEngine engine = new SimulatorEngine(ServerVersion.DEFAULT, SimCatalog.openWorld(6_000_000, ServerVersion.DEFAULT),
            CostModel.DEFAULT, RetryPolicy.of(3));

    Planner planner() {
        return new Planner(engine.version(), engine.catalog());
    }

    Outcome index(SqlName table, String column) {
        return engine.execute(planner().createIndex(new Planner.IndexSpec(table, List.of(SqlName.of(column)),
                Planner.IndexSpec.defaultName(List.of(SqlName.of(column))), false, true)), BUDGET);
    }

    Outcome addColumn(SqlName table, String column, ColumnDefault def, boolean nullable) {
        return engine.execute(planner().addColumn(new Planner.ColumnSpec(table, SqlName.of(column), DataType.TEXT, def,
                nullable, true)), BUDGET);
    }

    Outcome migrate(SqlName table, Long rows, String where) {
        return engine.execute(planner().migrateData(new Planner.MigrationSpec(table, Map.of(),
                where == null ? null : new SqlExpression(where), 1000, rows, 0)), BUDGET);
    }

    static int code(Runnable r) {
        try {
            r.run();
        } catch (ZdmException e) {
            return e.code().code();
        }
        throw new AssertionError("expected an error");
    }

    @Test
    void aTableItHasNotSeenIsAssumedWithTheDefaultSizeAndAnIdKey() {
        assertThat(index(ORDERS, "customer").durationSeconds()).isEqualTo(120.0);
        SimCatalog.Table orders = engine.model().table(ORDERS);
        assertThat(orders.assumed()).isTrue();
        assertThat(orders.rows()).isEqualTo(6_000_000);
        assertThat(orders.primaryKey()).contains(SqlName.of("id"));
        assertThat(orders.columns().get(SqlName.of("customer")).typeKnown()).isFalse();
        assertThat(orders.columns().get(SqlName.of("customer")).assumed()).isTrue();
        assertThat(orders.columns().get(SqlName.of("id")).assumed()).isFalse();
        assertThat(engine.catalog().index(SqlName.of("orders_pkey"))).contains(CatalogView.IndexState.VALID);
    }

    @Test
    void whatTheRunChangedIsRemembered() {
        addColumn(ORDERS, "status", new ColumnDefault.Constant("'new'"), false);
        assertThat(code(() -> addColumn(ORDERS, "status", new ColumnDefault.Constant("'new'"), false))).isEqualTo(21);
        index(ORDERS, "status");
        assertThat(code(() -> index(ORDERS, "status"))).isEqualTo(21);
        assertThat(code(() -> index(USERS, "status"))).as("index names are schema-wide").isEqualTo(21);
    }

    @Test
    void aColumnAnIndexAssumedExistsForAddColumnToo() {
        index(ORDERS, "placed_at");
        assertThat(code(() -> addColumn(ORDERS, "placed_at", new ColumnDefault.None(), true))).isEqualTo(21);
    }

    @Test
    void aTotalRowsAboveTheDefaultIsTheTablesSize() {
        Outcome outcome = migrate(ORDERS, 10_000_000L, null);
        assertThat(outcome.rowsUpdated()).isEqualTo(10_000_000);
        assertThat(engine.model().table(ORDERS).rows()).isEqualTo(10_000_000);
        assertThat(index(ORDERS, "x").durationSeconds()).as("the build reads the bigger table").isEqualTo(200.0);
    }

    @Test
    void theClosedWorldRefusesWhatItDoesNotKnow() {
        SimulatorEngine closed = SimulatorEngine.withUsersTable(ServerVersion.DEFAULT, 1000);
        Planner planner = new Planner(closed.version(), closed.catalog());
        assertThat(code(() -> planner.createIndex(new Planner.IndexSpec(ORDERS, List.of(SqlName.of("id")),
                SqlName.of("i"), false, true)))).isEqualTo(20);
        assertThat(code(() -> planner.createIndex(new Planner.IndexSpec(USERS, List.of(SqlName.of("phone")),
                SqlName.of("i"), false, true)))).isEqualTo(20);
    }

    @Test
    void aNullDefaultWithNotNullOnATableWithRowsIs22AsOnPostgres() {
        for (String nullSql : List.of("NULL", "null::text", " ( NULL ) ", "NULL::character varying(20)")) {
            ColumnDefault def = new ColumnDefault.Expression(new SqlExpression(nullSql), false);
            assertThat(code(() -> addColumn(USERS, "status", def, false))).as(nullSql).isEqualTo(22);
        }
        assertThat(addColumn(USERS, "status", new ColumnDefault.Expression(new SqlExpression("'NULL'"), false), false)
                .durationSeconds()).as("the text 'NULL' is a value").isEqualTo(0.1);
    }

    @Test
    void aKeyRangeWhereMigratesItsShareOfTheTable() {
        assertThat(migrate(USERS, null, "id <= 5000").rowsUpdated()).isEqualTo(5000);
        assertThat(migrate(USERS, null, "id BETWEEN 1 AND 2500 AND name IS NOT NULL").batches()).isEqualTo(3);
    }

    @Test
    void aFinishedJobTakesNoLockAndAJobWithNoRowWantedOnlyReadsWhereTheKeysEnd() {
        Outcome first = migrate(USERS, 10_000L, null);
        engine.openTransaction(new AppTransaction("sharer", USERS, LockMode.SHARE, null));
        Outcome again = migrate(USERS, 10_000L, null);
        assertThat(again.rowsUpdated()).isEqualTo(first.rowsUpdated());
        assertThat(again.observed()).containsEntry("strongest_lock", "none").containsEntry("lock_wait_ms", 0L);
        // total_rows 0: the read of the largest key (ACCESS SHARE) and no batch statement.
        Outcome none = migrate(USERS, 0L, null);
        assertThat(none.batches()).isZero();
        assertThat(none.observed()).containsEntry("strongest_lock", "none");
        // A key range beyond the table: the batch statement still runs, and its ROW EXCLUSIVE meets the SHARE.
        LockBudgetExceeded beyond = (LockBudgetExceeded) catchZdm(() -> migrate(USERS, null, "id > 6000000"));
        assertThat(beyond.details()).containsEntry("total_rows", 0L).containsEntry("batches", 0);
        LockBudgetExceeded refused = (LockBudgetExceeded) catchZdm(() -> migrate(USERS, 20_000L, null));
        assertThat(List.copyOf(refused.details().keySet())).containsExactly("table", "waited_ms", "blocked_by",
                "rolled_back", "total_rows", "batches");
        assertThat(refused.details()).containsEntry("total_rows", 0L).containsEntry("batches", 0);
        engine.closeTransaction("sharer");
        Outcome empty = migrate(USERS, null, "id > 6000000");
        assertThat(empty.rowsUpdated()).isZero();
        assertThat(empty.observed()).containsEntry("strongest_lock", "ROW EXCLUSIVE");
    }

    @Test
    void anAccessExclusiveHolderStopsEvenTheReadOfWhereTheKeysEnd() {
        engine.openTransaction(new AppTransaction("owner", USERS, LockMode.ACCESS_EXCLUSIVE, null));
        LockBudgetExceeded refused = (LockBudgetExceeded) catchZdm(() -> migrate(USERS, 0L, null));
        assertThat(refused.details()).containsEntry("total_rows", 0L).containsEntry("batches", 0);
    }

    @Test
    void anAddColumnAbortCarriesNoProgressKeys() {
        engine.openTransaction(new AppTransaction("reader", USERS, LockMode.ACCESS_SHARE, null));
        ZdmException e = catchZdm(() -> addColumn(USERS, "status", new ColumnDefault.Constant("'x'"), true));
        assertThat(List.copyOf(e.details().keySet())).containsExactly("table", "waited_ms", "blocked_by", "rolled_back");
    }

    @Test
    void explainListsWhatThePredictionRestsOn() {
        Plan unique = planner().createIndex(new Planner.IndexSpec(ORDERS, List.of(SqlName.of("email")),
                SqlName.of("orders_email_key"), true, true));
        engine.execute(unique, BUDGET);
        assertThat(engine.assumptions(unique)).containsExactly(
                "assumes table orders exists, with 6000000 rows and primary key id (no schema given: --schema or --schema-from make this exact)",
                "assumes column orders.email exists (its type unknown)",
                "assumes no duplicates in email (a duplicate fails the build: 22)");
        Plan migrate = planner().migrateData(new Planner.MigrationSpec(USERS,
                Map.of(SqlName.of("name"), new SqlExpression("email::int")), new SqlExpression("id <= 10 AND name IS NULL"),
                1000, null, 0));
        engine.execute(migrate, BUDGET);
        assertThat(engine.assumptions(migrate)).containsExactly(
                "assumes the keys id are dense from 1 to 6000000, so the where's key range holds 10 rows",
                "assumes every row in that key range matches the rest of the where",
                "assumes every row's value converts to int (for name)");
    }

    static ZdmException catchZdm(Runnable r) {
        try {
            r.run();
        } catch (ZdmException e) {
            return e;
        }
        throw new AssertionError("expected an error");
    }

    @Test
    void aFailedPlanIsUndoneAndOnlyItsOwnChangesAre() {
        addColumn(USERS, "kept", new ColumnDefault.None(), true);
        SimCatalog before = engine.model().copy();
        SqlName token = SqlName.of("token");
        Plan failing = new Plan(USERS, List.of(
                new Statement(USERS, "ALTER TABLE users ADD COLUMN token text", LockMode.ACCESS_EXCLUSIVE,
                        TableWork.CATALOG_ONLY, true, null, new CatalogChange.AddColumn(token, DataType.TEXT, null, false, true)),
                new Statement(USERS, "CREATE INDEX i ON users (token)", LockMode.SHARE, TableWork.BUILD_INDEX, true, null,
                        new CatalogChange.CreateIndex(SqlName.of("i"), List.of(token), false)),
                // token was added without a default to a table with rows: its NULLs are known, so this fails.
                new Statement(USERS, "ALTER TABLE users ALTER COLUMN token SET NOT NULL", LockMode.ACCESS_EXCLUSIVE,
                        TableWork.SCAN, true, null, new CatalogChange.SetNotNull(token))));
        assertThat(code(() -> engine.execute(failing, BUDGET))).isEqualTo(22);
        assertThat(engine.model().table(USERS).columns()).isEqualTo(before.table(USERS).columns());
        assertThat(engine.model().indexes()).isEqualTo(before.indexes());
        assertThat(engine.model().table(USERS).columns()).containsKey(SqlName.of("kept"));
    }

    @Test
    void withoutASchemaAnExtensionsFunctionOrTypeIsAssumedAndTheFunctionTakenAsVolatile() {
        var handlers = dev.zdm.handlers.Handlers.forEngine(engine, BUDGET);
        var reply = handlers.handle(new dev.zdm.protocol.Request("admin", "migrations", json("""
                {"type":"add_column","msg_id":1,"table":"orders","column":"token","data_type":"uuid",
                 "default_sql":"uuid_generate_v4()","nullable":false,"explain":true}""")));
        // Volatile as far as the model can tell: the safe way, which never rewrites.
        assertThat(reply.get("table_rewritten").asBoolean()).isFalse();
        assertThat(reply.get("steps").size()).isGreaterThan(1);
        assertThat(reply.get("assumptions").toString()).contains("assumes function uuid_generate_v4() exists and is volatile");
        var citext = handlers.handle(new dev.zdm.protocol.Request("admin", "migrations", json("""
                {"type":"add_column","msg_id":2,"table":"orders","column":"email2","data_type":"citext","explain":true}""")));
        assertThat(citext.get("assumptions").toString()).contains("assumes type citext exists");
        // A built-in of another version is still what this version's server refuses.
        var newer = catchZdm(() -> handlers.handle(new dev.zdm.protocol.Request("admin", "migrations", json("""
                {"type":"add_column","msg_id":3,"table":"orders","column":"r","data_type":"float8","default_sql":"random_normal()"}"""))));
        assertThat(newer.code().code()).isEqualTo(12);
    }

    @Test
    void withoutAServerAConstantOnlyTheTypesInputFunctionCanJudgeIsAnAssumptionAndOneZdmCanJudgeIsNot() {
        var handlers = dev.zdm.handlers.Handlers.forEngine(engine, BUDGET);
        var inet = handlers.handle(new dev.zdm.protocol.Request("admin", "migrations", json("""
                {"type":"add_column","msg_id":1,"table":"hosts","column":"ip","data_type":"inet","default":"10.0.0.1",
                 "explain":true}""")));
        assertThat(inet.get("assumptions").toString()).contains("assumes '10.0.0.1' is a value of type inet");
        var text = handlers.handle(new dev.zdm.protocol.Request("admin", "migrations", json("""
                {"type":"add_column","msg_id":2,"table":"hosts","column":"code","data_type":"varchar(3)","default":"abc",
                 "explain":true}""")));
        assertThat(text.get("assumptions").toString()).doesNotContain("is a value of type");
        var refused = catchZdm(() -> handlers.handle(new dev.zdm.protocol.Request("admin", "migrations", json("""
                {"type":"add_column","msg_id":3,"table":"hosts","column":"code2","data_type":"varchar(3)","default":"abcd"}"""))));
        assertThat(refused.code().code()).isEqualTo(22);
    }

    @Test
    void withoutAServerADateWrittenWithNumbersIsReadInAnAssumedFieldOrder() {
        var handlers = dev.zdm.handlers.Handlers.forEngine(engine, BUDGET);
        var added = handlers.handle(new dev.zdm.protocol.Request("admin", "migrations", json("""
                {"type":"add_column","msg_id":1,"table":"t","column":"d","data_type":"date","default":"02/03/2024",
                 "explain":true}""")));
        assertThat(added.get("assumptions").toString()).contains("reads the date 02/03/2024 in the field order its DateStyle");
        var migrated = handlers.handle(new dev.zdm.protocol.Request("admin", "migrations", json("""
                {"type":"migrate_data","msg_id":2,"table":"t","set":{"e":"'31.12.2024'::date"},"where":"d < '1-2-24'","batch_size":100,
                 "explain":true}""")));
        assertThat(migrated.get("assumptions").toString()).contains("the date 31.12.2024 in").contains("the date 1-2-24 in");
        var iso = handlers.handle(new dev.zdm.protocol.Request("admin", "migrations", json("""
                {"type":"add_column","msg_id":3,"table":"t","column":"d2","data_type":"date","default":"2024-03-02",
                 "explain":true}""")));
        assertThat(iso.get("assumptions").toString()).doesNotContain("DateStyle");
    }

    private static com.fasterxml.jackson.databind.node.ObjectNode json(String text) {
        try {
            return (com.fasterxml.jackson.databind.node.ObjectNode) dev.zdm.protocol.Json.MAPPER.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
