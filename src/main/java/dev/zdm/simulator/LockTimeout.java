package dev.zdm.simulator;

import dev.zdm.engine.Blocker;
import dev.zdm.pg.SqlName;
import java.util.List;

/** A lock wait that ran past the budget, before the plan knows what to report of itself. */
final class LockTimeout extends RuntimeException {
    final SqlName table;
    final long waitedMs;
    final List<Blocker> blockedBy;

    LockTimeout(SqlName table, long waitedMs, List<Blocker> blockedBy) {
        super(null, null, false, false);
        this.table = table;
        this.waitedMs = waitedMs;
        this.blockedBy = blockedBy;
    }
}
