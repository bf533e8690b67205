package dev.zdm.postgres;

import dev.zdm.Log;
import dev.zdm.engine.Blocker;
import dev.zdm.engine.LockBudgetExceeded;
import dev.zdm.engine.Operation;
import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.LedgerSchema;
import dev.zdm.postgres.run.StepContext;
import dev.zdm.protocol.ZdmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The ledger (schema zdm) as the engine reaches it: made or upgraded at start or by the first request
 * that finds it missing, every ledger statement under the budget, a lock on it not granted answered as
 * 14 naming who holds it, and a ledger lost under a running operation told apart from the step's own
 * failure.
 */
final class LedgerGate {

    private final Backend backend;
    private final BlockerNames blockers;
    private final Duration defaultBudget;
    /** False until the ledger is known complete: at start when it was locked, after it was dropped. */
    private boolean ready;

    LedgerGate(Backend backend, BlockerNames blockers, Duration defaultBudget) {
        this.backend = backend;
        this.blockers = blockers;
        this.defaultBudget = defaultBudget;
    }

    /**
     * Every ledger statement of the request waits for a lock no longer than its budget (a session that
     * holds LOCK zdm.operations costs the request a 14, not a hang), and a ledger that is not all there
     * (dropped, or never made because it was locked at start) is made again first.
     */
    void underBudget(Operation operation, Duration lockBudget) {
        long started = System.nanoTime();
        try {
            Connection c = backend.connection();
            StepContext.setLockTimeout(c, lockBudget);
            if (!ready || !LedgerSchema.complete(c)) {
                if (ready) {
                    Log.info("ledger: schema zdm is not all there (dropped or damaged while the node ran); making it again");
                }
                LedgerSchema.upgrade(c);
                ready = true;
            }
        } catch (SQLException e) {
            if (PgErrors.lostLockRace(e)) {
                throw locked(operation, StepContext.millisSince(started), e);
            }
            if (PgErrors.connectionLost(e)) {
                backend.discard();
            }
            throw PgErrors.toReply(e, "preparing zdm's ledger (schema zdm)");
        }
    }

    /** The engine's start: the ledger made or upgraded under the node's budget, or left for the first request. */
    void upgradeAtStart() throws SQLException {
        Connection c = backend.connection();
        StepContext.setLockTimeout(c, defaultBudget);
        try {
            LedgerSchema.upgrade(c);
            ready = true;
        } catch (SQLException e) {
            if (!PgErrors.lostLockRace(e)) {
                throw new SQLException("zdm's ledger (schema zdm): " + PgErrors.firstLine(e), e.getSQLState(), e);
            }
            Log.info("ledger: schema zdm is locked by another session (" + PgErrors.firstLine(e) + "); the first"
                    + " request makes it under its own budget");
        }
    }

    /**
     * A read of the ledger for status, as a request's ledger statements run: under the node's lock
     * budget (a session holding LOCK zdm.operations costs it a 14 naming that session, and no other
     * request's progress), on a ledger made again first when it is not all there (dropped), and read
     * again once when it went while being read (DROP SCHEMA zdm CASCADE committed under the read).
     */
    <T> T report(String table, String doing, PostgresEngine.LedgerRead<T> read) {
        long started = System.nanoTime();
        try {
            Connection c = backend.connection();
            StepContext.setLockTimeout(c, defaultBudget);
            for (int attempt = 1; ; attempt++) {
                if (!ready || !LedgerSchema.complete(c)) {
                    LedgerSchema.upgrade(c);
                    ready = true;
                }
                try {
                    return read.read(c);
                } catch (SQLException e) {
                    if (attempt > 1 || PgErrors.lostLockRace(e) || PgErrors.connectionLost(e) || LedgerSchema.complete(c)) {
                        throw e;
                    }
                    Log.info("ledger: schema zdm went while " + doing + " (" + PgErrors.firstLine(e) + "); making it again");
                }
            }
        } catch (SQLException e) {
            if (PgErrors.lostLockRace(e)) {
                throw locked(table, Map.of(), StepContext.millisSince(started), e);
            }
            if (PgErrors.connectionLost(e)) {
                backend.discard();
            }
            throw PgErrors.toReply(e, doing);
        }
    }

    /** A ledger statement's lock not granted within the budget: 14, naming who holds zdm's tables. */
    ZdmException locked(Operation operation, long waitedMs, SQLException e) {
        return locked(operation.table().value(), Aborts.replyShape(operation, Map.of()), waitedMs, e);
    }

    private ZdmException locked(String table, Map<String, Object> shape, long waitedMs, SQLException e) {
        Set<Integer> holders = new LinkedHashSet<>();
        try (java.sql.Statement s = backend.connection().createStatement(); ResultSet rs = s.executeQuery("""
                SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_class r ON r.oid = l.relation
                WHERE r.relnamespace = to_regnamespace('zdm') AND l.granted AND l.pid <> pg_backend_pid()""")) {
            while (rs.next()) {
                holders.add(rs.getInt(1));
            }
        } catch (SQLException failed) {
            Log.info("reading who holds zdm's ledger: " + PgErrors.firstLine(failed));
        }
        List<Blocker> named = blockers.describe(holders);
        return new LockBudgetExceeded("zdm's ledger (schema zdm) is locked: a lock on it was not granted within "
                + waitedMs + " ms" + (named.isEmpty() ? "" : ", held by " + named.stream().map(Blocker::label)
                .collect(Collectors.joining(", "))) + " (" + PgErrors.firstLine(e) + "); nothing done", table, waitedMs, named,
                true, shape);
    }

    /**
     * Whether a step failed because the ledger lost the operation's rows (deleted, or schema zdm dropped
     * mid-job), rather than for a reason of its own: answers what is gone.
     */
    Optional<String> lostUnder(long id, Exception e) {
        if (!(e instanceof SQLException sql) || PgErrors.connectionLost(sql)) {
            return Optional.empty();
        }
        try {
            Connection c = backend.connection();
            StepContext.rollbackQuietly(c);
            if (!LedgerSchema.complete(c)) {
                ready = false;
                return Optional.of("schema zdm was dropped while it ran");
            }
            if (Ledger.get(c, id).isEmpty()) {
                return Optional.of("its row in zdm.operations (id " + id + ") was deleted while it ran");
            }
            return Optional.empty();
        } catch (SQLException failed) {
            Log.info("checking zdm's ledger after a failed step: " + PgErrors.firstLine(failed));
            return Optional.empty();
        }
    }
}
