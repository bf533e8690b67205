package dev.zdm.fidelity;

import dev.zdm.pg.LockMode;

/**
 * One cell of the matrix: an application transaction (or none) on users, then one operation of the
 * node, with a lock budget or the default. {@code blockerMode} null with {@code blocker} true is an
 * idle open transaction that holds no lock on the table.
 */
record Scenario(String operation, String requestJson, String blockerName, boolean blocker, LockMode blockerMode,
                Long budgetMs) {

    /** How long the application transaction lasts: well past a short budget, well within the default. */
    static final double BLOCKER_SECONDS = 0.8;

    String name() {
        String app = blocker ? blockerName : "no other transaction";
        return operation + " — " + app + (budgetMs == null ? "" : ", budget " + budgetMs + " ms");
    }
}
