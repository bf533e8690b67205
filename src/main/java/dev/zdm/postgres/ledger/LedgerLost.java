package dev.zdm.postgres.ledger;

import java.sql.SQLException;

/**
 * A ledger write found no row to write: someone deleted the operation's rows (or dropped schema zdm)
 * while it ran. Thrown inside the transaction it would have recorded, so that transaction's work rolls
 * back with it: nothing is done that the ledger does not say.
 */
public final class LedgerLost extends SQLException {

    public LedgerLost(String what) {
        // A state of its own: pgjdbc leaves null to a lost connection, which this is not.
        super(what + ": its row in zdm's ledger is gone (deleted, or schema zdm dropped, while it ran)", "55000");
    }
}
