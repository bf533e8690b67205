package dev.zdm.postgres.run;

import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.observe.LockModes;
import dev.zdm.postgres.observe.LockObserver;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.MadeObject;
import dev.zdm.postgres.observe.TableProbe;
import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.LockMode;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Optional;

/**
 * Runs one transactional statement in a transaction of its own under lock_timeout, and before
 * committing reads back what it did: the locks it holds, the rows it touched (see
 * {@link TableProbe}) and the object it made, which it records in the ledger in the same transaction. A lost lock race is rolled back and reported as {@link LockWaitTimedOut}.
 */
public final class StatementRunner {

    private StatementRunner() {
    }

    public static StepReport run(dev.zdm.pg.Statement step, StepContext ctx) throws LockWaitTimedOut, SQLException {
        Connection c = ctx.backend().connection();
        StepContext.setLockTimeout(c, ctx.lockBudget());
        c.setAutoCommit(false);
        LockObserver.Watch watch = ctx.observer().watch(ctx.backend().pid(), ctx.tableOid());
        long started = System.nanoTime();
        LockObserver.Observation seen = null;
        try {
            TableProbe.Activity before = TableProbe.activity(c, ctx.tableOid());
            try (Statement s = c.createStatement()) {
                s.execute(step.sql());
            }
            LockMode held = TableProbe.heldLock(c, ctx.tableOid());
            TableProbe.Activity after = TableProbe.activity(c, ctx.tableOid());
            // In the statement's own transaction: the object and its ledger record commit together.
            Optional<MadeObject> made = MadeObjects.of(c, ctx.tableOid(), ctx.step(), step.change());
            if (made.isPresent()) {
                Ledger.record(c, ctx.operationId(), made.get());
            }
            // So is the step's being done: a resent request resumes after it, never runs it twice.
            Ledger.stepsDone(c, ctx.operationId(), ctx.step() + 1);
            c.commit();
            long ms = StepContext.millisSince(started);
            seen = watch.stop();
            LockMode lock = LockModes.stronger(held, seen.strongest());
            // Locks are held until commit: a blocking mode was held from its grant (after any wait) to now.
            long blockingMs = LockModes.blocksApplication(lock) ? Math.max(0, ms - seen.waitedMs()) : 0;
            return new StepReport(step.sql(), lock, ms, blockingMs, seen.waitedMs(), after.rowsSince(before),
                    after.rewrittenSince(before), 0, 0);
        } catch (SQLException e) {
            long ms = StepContext.millisSince(started);
            if (seen == null) {
                seen = watch.stop();
            }
            StepContext.rollbackQuietly(c);
            if (PgErrors.lostLockRace(e)) {
                // A plain CREATE INDEX is not retried: the one that lost its race was its only attempt.
                throw new LockWaitTimedOut(PgErrors.firstLine(e), ms, seen.blockers(),
                        step.change() instanceof CatalogChange.CreateIndex ? Map.of("attempts", 1) : Map.of(),
                        seen.waitedOn());
            }
            throw e;
        } finally {
            if (seen == null) {
                watch.stop();
            }
            StepContext.autocommitQuietly(c);
        }
    }
}
