package dev.zdm.simulator;

import dev.zdm.engine.AppTransaction;
import dev.zdm.engine.Blocker;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Planner;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.pg.Step;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who holds what and who waits: the application's transactions, each holding its lock until it ends,
 * and the migration's own lock requests, which wait on the simulated clock for those transactions to
 * end, within the budget.
 */
final class Sessions {

    /** The lock holder that stands for the migration's own backend. */
    static final String MIGRATION = "zdm";

    /** {@code pid}: modelled, one per session in the order they opened, as a server hands them out. */
    private record AppSession(AppTransaction spec, int pid, double openedAt, double endsAt) {

        Blocker asBlocker(double now) {
            // What pg_stat_activity shows of a session zdm opened: its name, idle inside its transaction.
            return new Blocker(spec.session(), pid, "zdm-session:" + spec.session(), "idle in transaction",
                    Math.round((now - openedAt) * 1000));
        }
    }

    /** The first modelled backend pid; any positive number would do, real pids are never this small. */
    private static final int FIRST_PID = 10_000;

    private final SimCatalog catalog;
    private final SimClock clock;
    private final LockManager locks;
    /** Runs when a transaction has ended: the janitor's turn. */
    private final Runnable onEnded;
    private final Map<String, AppSession> sessions = new LinkedHashMap<>();
    private int nextPid = FIRST_PID;
    private double waitedSeconds;
    /** When the migration's latest lock was granted, in the step being run. */
    private double lastGrant;

    Sessions(SimCatalog catalog, SimClock clock, Runnable onEnded) {
        this.catalog = catalog;
        this.clock = clock;
        this.locks = new LockManager(catalog::key);
        this.onEnded = onEnded;
    }

    /** How long the migration has waited for locks since {@link #resetWaited()}, in seconds. */
    double waitedSeconds() {
        return waitedSeconds;
    }

    void resetWaited() {
        waitedSeconds = 0;
    }

    /** When the migration's latest lock was granted; NaN when none was since {@link #clearLastGrant()}. */
    double lastGrant() {
        return lastGrant;
    }

    void clearLastGrant() {
        lastGrant = Double.NaN;
    }

    /** Every step commits on its own: the migration's locks go with the commit. */
    void releaseMigration() {
        locks.releaseAll(MIGRATION);
    }

    /** The transactions other than the migration's that hold a lock on the table conflicting with {@code mode}. */
    List<String> holdersConflictingWith(SqlName table, LockMode mode) {
        return locks.holdersConflictingWith(table, mode, MIGRATION);
    }

    void open(AppTransaction spec) {
        endFinished();
        if (sessions.containsKey(spec.session())) {
            throw ZdmException.exists("session " + spec.session());
        }
        catalog.table(spec.table());
        if (spec.mode() != null) {
            // LOCK TABLE without ONLY locks the table's partitions and children too, each NOWAIT.
            for (SqlName table : tree(spec.table())) {
                if (locks.request(spec.session(), table, spec.mode()) == LockManager.Result.WAITING) {
                    List<String> blockers = locks.blockers(spec.session(), table);
                    locks.cancelWaiting(spec.session(), table);
                    locks.releaseAll(spec.session());
                    throw new ZdmException(ErrorCode.ABORT, spec.mode() + " on " + table
                            + " is not free (held by " + String.join(", ", blockers) + "); the transaction was not opened");
                }
            }
        }
        double endsAt = spec.durationSeconds() == null ? Double.POSITIVE_INFINITY : clock.now() + spec.durationSeconds();
        sessions.put(spec.session(), new AppSession(spec, nextPid++, clock.now(), endsAt));
    }

    void close(String session) {
        endFinished();
        if (sessions.remove(session) == null) {
            throw ZdmException.missing("session " + session);
        }
        locks.releaseAll(session);
        onEnded.run();
    }

    void endFinished() {
        boolean ended = sessions.values().removeIf(s -> {
            if (s.endsAt() <= clock.now()) {
                locks.releaseAll(s.spec().session());
                return true;
            }
            return false;
        });
        if (ended) {
            onEnded.run();
        }
    }

    /** The table and every partition and child below it: what LOCK TABLE without ONLY locks. */
    private List<SqlName> tree(SqlName table) {
        List<SqlName> all = new ArrayList<>();
        all.add(table);
        all.addAll(Planner.descendants(catalog, table));
        return all;
    }

    /** The same sessions in another engine's model, with their pids. */
    void copyInto(Sessions copy) {
        // Every session holds its lock (one that would wait is refused): in their order, they are granted again.
        sessions.forEach((name, session) -> {
            copy.sessions.put(name, session);
            if (session.spec().mode() != null) {
                for (SqlName table : tree(session.spec().table())) {
                    copy.locks.request(name, table, session.spec().mode());
                }
            }
        });
        copy.nextPid = nextPid;
    }

    /** One autocommit SELECT of the table: ACCESS SHARE from its grant to its end. */
    void read(SqlName table, Duration lockBudget) {
        acquire(table, LockMode.ACCESS_SHARE, lockBudget);
        locks.releaseAll(MIGRATION);
    }

    /**
     * The step's locks on other tables, after its own, each under the budget: a lost wait names the table
     * it was for, as the PostgreSQL engine's observer reads it off pg_locks.
     */
    void acquireOthers(Step step, Duration lockBudget) {
        for (Statement.OtherLock other : step.otherLocks()) {
            // A lock on an index is the index's own (a relation of its own in the lock table): a LOCK TABLE
            // holder locks the table alone, so ATTACH's ACCESS EXCLUSIVE on a partition's index does not
            // wait for a ROW SHARE on the partition (the statement's ACCESS SHARE on the table is the step's).
            var indexTable = catalog.indexTable(other.table());
            try {
                acquire(other.table(), other.mode(), lockBudget);
            } catch (LockTimeout t) {
                if (indexTable.isEmpty()) {
                    throw t;
                }
                // The PostgreSQL engine's observer names tables only: a wait for an index is the step's table's.
                throw new LockTimeout(step.table(), t.waitedMs, t.blockedBy);
            }
        }
    }

    void acquire(SqlName table, LockMode mode, Duration lockBudget) {
        if (locks.request(MIGRATION, table, mode) == LockManager.Result.GRANTED) {
            lastGrant = clock.now();
            return;
        }
        waitFor(table, locks.blockers(MIGRATION, table), lockBudget, () -> locks.cancelWaiting(MIGRATION, table));
        if (locks.isWaiting(MIGRATION, table)) {
            throw new IllegalStateException("the migration's lock on " + table + " was not granted after its blockers ended");
        }
        lastGrant = clock.now();
    }

    /** Waits, within the budget, for every transaction holding a lock on the table that conflicts with {@code mode}. */
    void waitForHolders(SqlName table, LockMode mode, Duration lockBudget) {
        waitFor(table, locks.holdersConflictingWith(table, mode, MIGRATION), lockBudget, () -> { });
    }

    /**
     * Lets the simulated clock run until every blocker's transaction has ended, or until the budget is
     * spent: then {@code cancel} withdraws the request and the plan aborts.
     */
    private void waitFor(SqlName table, List<String> blockers, Duration lockBudget, Runnable cancel) {
        if (blockers.isEmpty()) {
            return;
        }
        double budget = lockBudget.toMillis() / 1000.0;
        double until = blockers.stream().mapToDouble(s -> sessions.get(s).endsAt()).max().orElseThrow();
        if (until - clock.now() > budget) {
            // Who blocked, as pg_stat_activity would show them when the budget runs out.
            double abortAt = clock.now() + budget;
            List<Blocker> blockedBy = blockers.stream().map(b -> sessions.get(b).asBlocker(abortAt)).toList();
            waitedSeconds += budget;
            clock.advance(budget);
            cancel.run();
            endFinished();
            throw new LockTimeout(table, lockBudget.toMillis(), blockedBy);
        }
        waitedSeconds += Math.max(0, until - clock.now());
        clock.advanceTo(until);
        endFinished();
    }
}
