package dev.zdm.postgres.run;

import dev.zdm.Log;
import dev.zdm.postgres.connect.Backend;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.MadeObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

/**
 * A create_index on a partitioned table that an earlier run began and did not finish (the node was
 * killed, or the connection lost, between two partitions): its INVALID partitioned index and the
 * partitions' indexes attached to it are kept, so the same request sent again continues the build (the
 * planner skips each partition whose index is attached) instead of building every partition again.
 * Only a partition's index it left unattached (a build cut short, or built but not yet attached) is
 * dropped, by OID, so that partition is built again under the name PostgreSQL would choose.
 */
public final class PartitionedIndexResume {

    private PartitionedIndexResume() {
    }

    /** Whether the operation's leftovers are such a build; if so its unattached partition indexes are dropped. */
    public static boolean settle(Backend backend, long operationId, long tableOid, Duration budget) throws SQLException {
        Connection c = backend.connection();
        StepContext.setLockTimeout(c, budget);
        return settle(c, operationId, tableOid);
    }

    /**
     * The same on {@code c}, under the lock_timeout it has: what the undo janitor does for such a build
     * whose node is gone, which stays for the same request to continue rather than being undone.
     */
    public static boolean settle(Connection c, long operationId, long tableOid) throws SQLException {
        List<MadeObject> leftovers = Ledger.leftovers(c, operationId);
        boolean partitioned = false;
        for (MadeObject o : leftovers) {
            if (o.kind() == MadeObject.Kind.INDEX && o.tableOid() == tableOid && invalidPartitioned(c, o.oid())) {
                partitioned = true;
            }
        }
        if (!partitioned) {
            return false;
        }
        for (MadeObject o : leftovers) {
            if (o.kind() == MadeObject.Kind.INDEX && o.tableOid() != tableOid) {
                ObjectUndo.Result result = ObjectUndo.dropUnattached(c, o.oid());
                if (result != ObjectUndo.Result.KEPT_ATTACHED) {
                    Ledger.undone(c, operationId, o.step());
                }
                Log.info("continuing the partitioned index build of operation " + operationId + ": " + o.describe()
                        + " " + result.name().toLowerCase().replace('_', ' '));
            }
        }
        return true;
    }

    private static boolean invalidPartitioned(Connection c, long oid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT x.relkind = 'I' AND NOT i.indisvalid FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
                WHERE i.indexrelid = ?""")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }
}
