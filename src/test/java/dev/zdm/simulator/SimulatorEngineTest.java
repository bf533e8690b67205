package dev.zdm.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.engine.AppTransaction;
import dev.zdm.engine.BlockedBy;
import dev.zdm.engine.LockBudgetExceeded;
import dev.zdm.engine.Outcome;
import dev.zdm.pg.Backfill;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.ColumnDefault;
import dev.zdm.pg.DataType;
import dev.zdm.pg.KeyWalk;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.Planner.ColumnSpec;
import dev.zdm.pg.Planner.IndexSpec;
import dev.zdm.pg.Planner.MigrationSpec;
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

class SimulatorEngineTest {

    static final SqlName USERS = SqlName.of("users");
    static final SqlName EMAIL = SqlName.of("email");
    static final SqlName STATUS = SqlName.of("status");
    static final SqlName IDX_EMAIL = SqlName.of("idx_email");
    static final Duration BUDGET = Duration.ofMillis(2_000);

    SimulatorEngine engine = SimulatorEngine.withUsersTable(ServerVersion.DEFAULT, 6_000_000);

    Planner planner() {
        return new Planner(engine.version(), engine.catalog());
    }

    Plan createIndex(boolean concurrently) {
        return planner().createIndex(new IndexSpec(USERS, List.of(EMAIL), IDX_EMAIL, false, concurrently));
    }

    Plan addColumn(ColumnDefault def, boolean nullable, boolean safe) {
        return planner().addColumn(new ColumnSpec(USERS, STATUS, DataType.TEXT, def, nullable, safe));
    }

    Plan addStatusActive() {
        return addColumn(new ColumnDefault.Constant("'active'"), false, true);
    }

    Plan addVolatile(boolean safe) {
        SqlExpression uuid = new SqlExpression("gen_random_uuid()::text");
        return addColumn(new ColumnDefault.Expression(uuid, engine.catalog().isVolatile(uuid)), false, safe);
    }

    Plan migrate(long totalRows) {
        return planner().migrateData(new MigrationSpec(USERS, Map.of(), null, 1000, totalRows, 0));
    }

    void open(String session, LockMode mode, Double seconds) {
        engine.openTransaction(new AppTransaction(session, USERS, mode, seconds));
    }

    SimCatalog.Table users() {
        return engine.model().table(USERS);
    }

    static LockBudgetExceeded budgetExceeded(Runnable run) {
        try {
            run.run();
        } catch (LockBudgetExceeded e) {
            return e;
        }
        throw new AssertionError("expected LockBudgetExceeded");
    }

    // ---- the seed's three figures

    @Test
    void theSeedsFiguresComeOutOfTheModel() {
        Outcome index = engine.execute(createIndex(true), BUDGET);
        assertThat(index.durationSeconds()).isEqualTo(120.0);
        assertThat(index.tableLocked()).isFalse();
        assertThat(engine.model().indexes()).containsKey(IDX_EMAIL);
        assertThat(engine.model().indexes().get(IDX_EMAIL).valid()).isTrue();

        Outcome column = engine.execute(addStatusActive(), BUDGET);
        assertThat(column.durationSeconds()).isEqualTo(0.1);
        assertThat(column.tableRewritten()).isFalse();

        Outcome data = engine.execute(migrate(10_000), BUDGET);
        assertThat(data.rowsUpdated()).isEqualTo(10_000);
        assertThat(data.batches()).isEqualTo(10);
        assertThat(data.tableLocked()).isFalse();
    }

    @Test
    void observedFactsKeepTheOrderTheEngineWroteThem() {
        // Explain shows them as they are: the same order in every JVM, not Map.copyOf's per-run order.
        Outcome column = engine.execute(addStatusActive(), BUDGET);
        assertThat(List.copyOf(column.observed().keySet())).containsExactly("strongest_lock", "lock_wait_ms");
        var many = new java.util.LinkedHashMap<String, Object>();
        for (int i = 0; i < 20; i++) {
            many.put("k" + i, i);
        }
        assertThat(List.copyOf(new Outcome(0, false, false, 0, 0, many).observed().keySet()))
                .containsExactlyElementsOf(many.keySet());
    }

    // ---- lock budget

    @Test
    void anEndlessReaderMakesAddColumnAbortAndNothingChanges() {
        open("app", LockMode.ACCESS_SHARE, null);
        SimCatalog before = engine.model().copy();

        LockBudgetExceeded e = budgetExceeded(() -> engine.execute(addStatusActive(), BUDGET));

        assertThat(e.code().code()).isEqualTo(14);
        assertThat(e.details()).containsEntry("table", "users")
                .containsEntry("waited_ms", 2_000L)
                .containsEntry("rolled_back", true);
        assertThat(BlockedBy.sessions(e.details())).containsExactly("app");
        assertThat(List.copyOf(e.details().keySet())).containsExactly("table", "waited_ms", "blocked_by", "rolled_back");
        assertThat(engine.catalog().columns(USERS)).doesNotContain(STATUS)
                .containsExactlyElementsOf(before.columns(USERS));
        assertThat(users().relfilenode()).isEqualTo(before.table(USERS).relfilenode());
    }

    @Test
    void afterAnAbortTheQueueIsClearAndTheTableUsable() {
        open("app", LockMode.ACCESS_SHARE, null);
        budgetExceeded(() -> engine.execute(addStatusActive(), BUDGET));
        // The cancelled ACCESS EXCLUSIVE no longer queues new readers.
        open("reader2", LockMode.ACCESS_SHARE, null);
        engine.closeTransaction("app");
        engine.closeTransaction("reader2");
        assertThat(engine.execute(addStatusActive(), BUDGET).durationSeconds()).isEqualTo(0.1);
        assertThat(engine.catalog().columns(USERS)).contains(STATUS);
    }

    @Test
    void aReaderShorterThanTheBudgetIsWaitedForAndTheWaitCounts() {
        open("app", LockMode.ACCESS_SHARE, 1.5);

        Outcome outcome = engine.execute(addStatusActive(), BUDGET);

        assertThat(outcome.durationSeconds()).isEqualTo(1.6); // 1.5 s waiting + 0.1 s catalog change
        assertThat(engine.catalog().columns(USERS)).contains(STATUS);
    }

    @Test
    void aReaderLongerThanTheBudgetAborts() {
        open("app", LockMode.ACCESS_SHARE, 2.5);
        LockBudgetExceeded e = budgetExceeded(() -> engine.execute(addStatusActive(), BUDGET));
        assertThat(BlockedBy.sessions(e.details())).containsExactly("app");
        // Its transaction is still running: a bigger budget waits it out.
        assertThat(engine.execute(addStatusActive(), Duration.ofMillis(1_000)).durationSeconds()).isEqualTo(0.6);
    }

    @Test
    void aClosedTransactionNoLongerBlocks() {
        open("app", LockMode.ACCESS_SHARE, null);
        engine.closeTransaction("app");
        assertThat(engine.execute(addStatusActive(), BUDGET).durationSeconds()).isEqualTo(0.1);
    }

    @Test
    void aWriterMakesTheConcurrentBuildWaitThenAbortLeavingItsInvalidIndex() {
        open("writer", LockMode.ROW_EXCLUSIVE, null);

        LockBudgetExceeded e = budgetExceeded(() -> engine.execute(createIndex(true), BUDGET));

        assertThat(BlockedBy.sessions(e.details())).containsExactly("writer");
        assertThat(e.details()).containsEntry("waited_ms", 2_000L).containsEntry("attempts", 1);
        assertThat(List.copyOf(e.details().keySet())).containsExactly("table", "waited_ms", "blocked_by", "rolled_back",
                "attempts");
        assertThat(engine.model().indexes().get(IDX_EMAIL).valid()).isFalse();
        engine.closeTransaction("writer");
        assertThat(engine.catalog().index(IDX_EMAIL)).as("dropped by the janitor once the writer ended").isEmpty();
    }

    @Test
    void aShortWriterIsWaitedForByTheConcurrentBuild() {
        open("writer", LockMode.ROW_EXCLUSIVE, 1.0);
        Outcome outcome = engine.execute(createIndex(true), BUDGET);
        assertThat(outcome.durationSeconds()).isEqualTo(121.0); // 1 s wait phase + 120.1 s build, 3 digits
        assertThat(outcome.tableLocked()).isFalse();
        assertThat(engine.model().indexes().get(IDX_EMAIL).valid()).isTrue();
    }

    @Test
    void aReaderDoesNotStopEitherIndexBuild() {
        open("reader", LockMode.ACCESS_SHARE, null);
        assertThat(engine.execute(createIndex(true), BUDGET).durationSeconds()).isEqualTo(120.0);
        Outcome plain = planAndRun(new IndexSpec(USERS, List.of(SqlName.of("name")), SqlName.of("idx_name"), false, false));
        assertThat(plain.tableLocked()).isTrue();
        assertThat(plain.durationSeconds()).isEqualTo(60.1);
    }

    private Outcome planAndRun(IndexSpec spec) {
        return engine.execute(planner().createIndex(spec), BUDGET);
    }

    @Test
    void aShareHolderBlocksMigrateDataButAReaderDoesNot() {
        open("reader", LockMode.ACCESS_SHARE, null);
        assertThat(engine.execute(migrate(10_000), BUDGET).rowsUpdated()).isEqualTo(10_000);

        open("sharer", LockMode.SHARE, null);
        LockBudgetExceeded e = budgetExceeded(() -> engine.execute(migrate(20_000), BUDGET));
        assertThat(BlockedBy.sessions(e.details())).containsExactly("sharer");
    }

    @Test
    void aConflictingApplicationTransactionIsRefused() {
        open("writer", LockMode.ROW_EXCLUSIVE, null);
        assertThatThrownBy(() -> open("sharer", LockMode.SHARE, null))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(14))
                .hasMessageContaining("writer");
        // Refused means not queued: a later writer is not stuck behind it.
        open("writer2", LockMode.ROW_EXCLUSIVE, null);
        assertThatThrownBy(() -> open("writer", LockMode.ACCESS_SHARE, null))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(21));
        assertThatThrownBy(() -> engine.closeTransaction("nobody"))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(20));
    }

    // ---- add_column strategies

    @Test
    void theSafeVolatilePathLeavesTheColumnNotNullWithoutCheckAndNoRewrite() {
        long relfilenode = users().relfilenode();

        Outcome outcome = engine.execute(addVolatile(true), BUDGET);

        assertThat(outcome.tableRewritten()).isFalse();
        assertThat(outcome.tableLocked()).isFalse();
        SimCatalog.Column status = users().columns().get(STATUS);
        assertThat(status.notNull()).isTrue();
        assertThat(status.hasNulls()).isFalse();
        assertThat(status.defaultSql()).isEqualTo("(gen_random_uuid()::text)");
        assertThat(users().checks()).isEmpty();
        assertThat(users().relfilenode()).isEqualTo(relfilenode);
    }

    @Test
    void onVersion10TheConstantDefaultGoesTheSafeWayWithoutARewrite() {
        engine = SimulatorEngine.withUsersTable(new ServerVersion(10), 6_000_000);
        long relfilenode = users().relfilenode();

        Outcome outcome = engine.execute(addStatusActive(), BUDGET);

        assertThat(outcome.tableRewritten()).isFalse();
        assertThat(users().relfilenode()).isEqualTo(relfilenode);
        assertThat(users().columns().get(STATUS).hasNulls()).isFalse();
        // Before 12 the validated CHECK is what guarantees NOT NULL.
        assertThat(users().checks().values()).singleElement()
                .satisfies(c -> assertThat(c.validated()).isTrue())
                .satisfies(c -> assertThat(c.column()).isEqualTo(STATUS));
        assertThat(outcome.durationSeconds()).isGreaterThan(0.1);
    }

    @Test
    void theUnsafeVolatileDefaultRewritesTheTable() {
        long relfilenode = users().relfilenode();

        Outcome outcome = engine.execute(addVolatile(false), BUDGET);

        assertThat(outcome.tableRewritten()).isTrue();
        assertThat(outcome.tableLocked()).isTrue();
        assertThat(users().relfilenode()).isNotEqualTo(relfilenode);
        assertThat(users().columns().get(STATUS).notNull()).isTrue();
        assertThat(outcome.durationSeconds()).isEqualTo(CostModel.reported(
                CostModel.DEFAULT.statement(TableWork.REWRITE, 6_000_000)));
    }

    // ---- migrate_data jobs

    @Test
    void aRepeatedMigrationAnswersTheSameTotals() {
        Outcome first = engine.execute(migrate(10_000), BUDGET);
        Outcome again = engine.execute(migrate(10_000), BUDGET);
        assertThat(again.rowsUpdated()).isEqualTo(first.rowsUpdated()).isEqualTo(10_000);
        assertThat(again.batches()).isEqualTo(first.batches()).isEqualTo(10);
    }

    @Test
    void migrationRowsAreCappedByTheTable() {
        engine = SimulatorEngine.withUsersTable(ServerVersion.DEFAULT, 2_500);
        Outcome outcome = engine.execute(migrate(10_000), BUDGET);
        assertThat(outcome.rowsUpdated()).isEqualTo(2_500);
        assertThat(outcome.batches()).isEqualTo(3);
    }

    @Test
    void aBackfillUndoneByARollbackIsNotRememberedAsFinished() {
        // A plan that adds status, backfills it under the add_column job's key, then fails: all undone.
        Plan failing = new Plan(USERS, List.of(
                new Statement(USERS, "ALTER TABLE \"users\" ADD COLUMN \"status\" text", LockMode.ACCESS_EXCLUSIVE,
                        TableWork.CATALOG_ONLY, true, null,
                        new CatalogChange.AddColumn(STATUS, DataType.TEXT, "'x'", false, false)),
                new Backfill(USERS, new KeyWalk.Keyset(engine.catalog().uniqueKeys(USERS).get(0)),
                        Map.of(STATUS, new SqlExpression("'x'")),
                        new SqlExpression("status IS NULL"), 1000, null, 0, "add_column:users.status", true),
                // A NOT NULL column without a default on a table with rows: refused, as on the server.
                new Statement(USERS, "ALTER TABLE \"users\" ADD COLUMN \"other\" text NOT NULL",
                        LockMode.ACCESS_EXCLUSIVE, TableWork.CATALOG_ONLY, true, null,
                        new CatalogChange.AddColumn(SqlName.of("other"), DataType.TEXT, null, true, true))));
        assertThatThrownBy(() -> engine.execute(failing, BUDGET))
                .isInstanceOfSatisfying(ZdmException.class, e -> assertThat(e.code().code()).isEqualTo(22));
        assertThat(engine.catalog().columns(USERS)).doesNotContain(STATUS);

        // The real add_column must backfill again: the rows it filled were rolled back with the column.
        Outcome outcome = engine.execute(addVolatile(true), BUDGET);
        assertThat(users().columns().get(STATUS).notNull()).isTrue();
        assertThat(outcome.rowsUpdated()).isEqualTo(6_000_000);
    }

    @Test
    void a_concurrent_build_that_loses_its_lock_race_is_retried_after_a_backoff() {
        // SHARE blocks CIC's SHARE UPDATE EXCLUSIVE; it ends at 0.8 s. With 200 ms per attempt the
        // first two attempts time out (0.2 s, then 0.3 + 0.2 s), the third (from 0.7 s) gets the lock.
        engine.openTransaction(new AppTransaction("report", USERS, LockMode.SHARE, 0.8));
        Outcome outcome = engine.execute(createIndex(true), Duration.ofMillis(200));
        assertThat(engine.catalog().index(IDX_EMAIL)).isPresent();
        assertThat(outcome.observed()).containsEntry("lock_wait_ms", 500L);
    }

    @Test
    void with_one_attempt_the_lost_race_is_final() {
        SimulatorEngine once = SimulatorEngine.withUsersTable(ServerVersion.DEFAULT, 6_000_000, 1);
        once.openTransaction(new AppTransaction("report", USERS, LockMode.SHARE, 0.8));
        Plan plan = new Planner(once.version(), once.catalog())
                .createIndex(new IndexSpec(USERS, List.of(EMAIL), IDX_EMAIL, false, true));
        assertThatThrownBy(() -> once.execute(plan, Duration.ofMillis(200))).isInstanceOf(LockBudgetExceeded.class);
        assertThat(once.catalog().index(IDX_EMAIL)).isEmpty();
    }

    @Test
    void a_writer_that_outlasts_the_drop_of_the_invalid_index_ends_the_retries() {
        // The writer stops the build's wait phase and DROP INDEX CONCURRENTLY alike: no second attempt.
        engine.openTransaction(new AppTransaction("writer", USERS, LockMode.ROW_EXCLUSIVE, 10.0));
        double start = engine.now();
        assertThatThrownBy(() -> engine.execute(createIndex(true), Duration.ofMillis(200)))
                .isInstanceOf(LockBudgetExceeded.class);
        assertThat(engine.now() - start).isCloseTo(0.4, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(engine.catalog().index(IDX_EMAIL)).contains(dev.zdm.pg.CatalogView.IndexState.INVALID);
    }
}
