package dev.zdm.simulator;

import dev.zdm.engine.Blocker;
import dev.zdm.engine.LockBudgetExceeded;
import dev.zdm.engine.Operation;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The steps that run outside a transaction block, in attempts, as the PostgreSQL engine runs them: CREATE
 * INDEX CONCURRENTLY and DROP INDEX CONCURRENTLY, a lost race retried after a backoff, and the undo of an
 * INVALID index an earlier build left.
 */
final class ConcurrentIndexes {

    private final SimCatalog catalog;
    private final SimClock clock;
    private final Sessions sessions;
    private final Leftovers leftovers;
    private final RetryPolicy retries;
    /** Runs a statement on the model, its time on the clock. */
    private final Consumer<Statement> run;
    /** The request being run, or null. */
    private final Supplier<Operation> current;
    private int attempts;

    ConcurrentIndexes(SimCatalog catalog, SimClock clock, Sessions sessions, Leftovers leftovers, RetryPolicy retries,
                      Consumer<Statement> run, Supplier<Operation> current) {
        this.catalog = catalog;
        this.clock = clock;
        this.sessions = sessions;
        this.leftovers = leftovers;
        this.retries = retries;
        this.run = run;
        this.current = current;
    }

    /** The plan's build attempts so far, as an error 14 tells them. */
    int attempts() {
        return attempts;
    }

    void resetAttempts() {
        attempts = 0;
    }

    /** A transactional index build: one attempt of its own. */
    void countAttempt() {
        attempts++;
    }

    /**
     * The same request after a failed concurrent build whose INVALID index could not be dropped: as on
     * the PostgreSQL engine, that index is dropped first (DROP INDEX CONCURRENTLY waits for every
     * transaction holding a lock on the table), retried by the policy, each wait within the budget; if
     * it still cannot, error 14 says the undo is not finished ({@code rolled_back: false}).
     */
    void settle(Operation operation, Duration lockBudget) {
        SqlName index = leftovers.owedBy(operation.identity());
        if (index == null) {
            return;
        }
        SqlName table = leftovers.tableOf(index);
        if (table == null || catalog.index(index).filter(i -> i == CatalogView.IndexState.INVALID).isEmpty()) {
            leftovers.settled(operation.identity());
            return;
        }
        long waitedMs = 0;
        List<Blocker> blockedBy = List.of();
        for (int attempt = 1; attempt <= retries.attempts(); attempt++) {
            if (attempt > 1) {
                clock.advance(retries.backoffMs(attempt - 1) / 1000.0);
            }
            try {
                dropConcurrently(table, new CatalogChange.DropIndex(index), lockBudget);
                return;
            } catch (LockTimeout t) {
                sessions.releaseMigration();
                waitedMs += t.waitedMs;
                blockedBy = t.blockedBy;
            }
        }
        throw new LockBudgetExceeded("an earlier run of this request left the INVALID index " + index + " on " + table
                + ", which could not be undone now; sending the same request again finishes the undo",
                table.value(), waitedMs, blockedBy, false, LockBudgetExceeded.progressOf(operation.type(), Map.of()));
    }

    /**
     * CIC takes SHARE UPDATE EXCLUSIVE, commits an INVALID index, then waits for every transaction
     * holding a lock that conflicts with SHARE (the writers) before its heap passes; lock_timeout bounds
     * each wait. A lost race leaves the INVALID index, which DROP INDEX CONCURRENTLY removes once no
     * transaction holds any lock on the table; only then is the build tried again, after a backoff. A
     * leftover that could not be dropped stays, as on the server, until the janitor can drop it.
     */
    void build(Statement statement, Duration lockBudget) {
        SqlName table = statement.table();
        CatalogChange.CreateIndex index = (CatalogChange.CreateIndex) statement.change();
        for (int attempt = 1; ; attempt++) {
            attempts = attempt;
            // Each attempt first asks whether the table has rows. Behind an ACCESS EXCLUSIVE holder that
            // read is what loses, and it is not retried: DDL is running, and the reply comes within one budget.
            sessions.read(table, lockBudget);
            try {
                sessions.acquire(table, statement.lock(), lockBudget);
                catalog.addInvalidIndex(table, index);
                sessions.waitForHolders(table, LockMode.SHARE, lockBudget);
                run.accept(statement);
                catalog.keepBuilt(index.index());
                return;
            } catch (LockTimeout lost) {
                sessions.releaseMigration();
                boolean dropped = catalog.index(index.index()).isEmpty() || dropInvalid(table, index, lockBudget);
                if (!dropped) {
                    Operation operation = current.get();
                    leftovers.left(index.index(), table, operation == null ? null : operation.identity());
                }
                if (!dropped || attempt >= retries.attempts()) {
                    throw lost;
                }
                clock.advance(retries.backoffMs(attempt) / 1000.0);
            }
        }
    }

    /**
     * A plan's first step when an INVALID index of the name is left: DROP INDEX CONCURRENTLY, run as the
     * PostgreSQL engine runs it, in attempts like a build's: a read of the table first (not retried when
     * it loses), then SHARE UPDATE EXCLUSIVE and the wait for every transaction holding a lock on the
     * table, a lost race retried after a backoff.
     */
    void dropLeftover(SqlName table, CatalogChange.DropIndex drop, Duration lockBudget) {
        inAttempts(table, lockBudget, () -> dropConcurrently(table, drop, lockBudget));
    }

    /**
     * DROP INDEX CONCURRENTLY of an index the request names, run as the PostgreSQL engine runs any
     * statement outside a transaction block: a read of the table first, then SHARE UPDATE EXCLUSIVE and
     * the wait for every transaction holding a lock on the table, a lost race retried after a backoff.
     */
    void dropRequested(Statement step, Duration lockBudget) {
        SqlName table = step.table();
        inAttempts(table, lockBudget, () -> {
            sessions.acquire(table, step.lock(), lockBudget);
            sessions.waitForHolders(table, LockMode.ACCESS_EXCLUSIVE, lockBudget);
            run.accept(step);
        });
    }

    /**
     * A statement outside a transaction block, in attempts: a read of the table first (not retried when
     * it loses), then the statement; a lost race retried after a backoff, the last one lost for good.
     */
    private void inAttempts(SqlName table, Duration lockBudget, Runnable statement) {
        for (int attempt = 1; ; attempt++) {
            attempts = attempt;
            sessions.read(table, lockBudget);
            try {
                statement.run();
                return;
            } catch (LockTimeout lost) {
                sessions.releaseMigration();
                if (attempt >= retries.attempts()) {
                    throw lost;
                }
                clock.advance(retries.backoffMs(attempt) / 1000.0);
            }
        }
    }

    /** The failed build's own INVALID index, dropped at once if it can be: answers whether it is gone. */
    private boolean dropInvalid(SqlName table, CatalogChange.CreateIndex index, Duration lockBudget) {
        try {
            dropConcurrently(table, new CatalogChange.DropIndex(index.index()), lockBudget);
            return true;
        } catch (LockTimeout stillThere) {
            sessions.releaseMigration();
            return false;
        }
    }

    /**
     * DROP INDEX CONCURRENTLY: SHARE UPDATE EXCLUSIVE, then a wait for every transaction holding any lock
     * on the table; lock_timeout bounds each wait on its own. The index and any undo owed for it are gone.
     */
    private void dropConcurrently(SqlName table, CatalogChange.DropIndex drop, Duration lockBudget) {
        sessions.acquire(table, LockMode.SHARE_UPDATE_EXCLUSIVE, lockBudget);
        sessions.waitForHolders(table, LockMode.ACCESS_EXCLUSIVE, lockBudget);
        catalog.apply(table, drop);
        sessions.releaseMigration();
        leftovers.forget(drop.index());
    }
}
