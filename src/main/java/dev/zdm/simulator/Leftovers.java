package dev.zdm.simulator;

import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.SqlName;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * INVALID indexes failed concurrent builds left behind, the undo each failed operation owes for its own
 * (its ledger's undo_pending), and the janitor that drops them once no transaction holds a lock on their
 * table. The janitor is never a holder: on the PostgreSQL engine it sweeps only while no request runs
 * and its drop gives up at once rather than wait while holding the table (UndoJanitor), so neither zdm's
 * requests nor the application ever wait for it.
 */
final class Leftovers {

    /** INVALID leftovers the janitor drops once no transaction holds a lock on their table: index to table. */
    private final Map<SqlName, SqlName> leftovers = new LinkedHashMap<>();
    /** The leftover each failed operation owes, by the operation's identity: its ledger's undo_pending. */
    private final Map<String, SqlName> pendingUndo = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, SqlName> eldest) {
            return size() > SimulatorEngine.REMEMBERED_JOBS;
        }
    };

    /** The leftover an earlier run of the operation still owes the undo of, or null. */
    SqlName owedBy(String identity) {
        return pendingUndo.get(identity);
    }

    /** The table of a leftover still there, or null. */
    SqlName tableOf(SqlName index) {
        return leftovers.get(index);
    }

    /** The operation owes nothing any more. */
    void settled(String identity) {
        pendingUndo.remove(identity);
    }

    /** A failed build's index that could not be dropped; {@code identity}: the operation that owes it, or null. */
    void left(SqlName index, SqlName table, String identity) {
        leftovers.put(index, table);
        if (identity != null) {
            pendingUndo.put(identity, index);
        }
    }

    /** A leftover that is gone: no request owes its undo any more. */
    void forget(SqlName index) {
        leftovers.remove(index);
        pendingUndo.values().removeIf(index::equals);
    }

    /** The janitor: an INVALID leftover goes as soon as no transaction holds a lock on its table. */
    void drop(Sessions sessions, SimCatalog catalog) {
        leftovers.entrySet().removeIf(leftover -> {
            SqlName table = leftover.getValue();
            if (!sessions.holdersConflictingWith(table, LockMode.ACCESS_EXCLUSIVE).isEmpty()) {
                return false;
            }
            if (catalog.index(leftover.getKey()).filter(s -> s == CatalogView.IndexState.INVALID).isPresent()) {
                catalog.apply(table, new CatalogChange.DropIndex(leftover.getKey()));
            }
            pendingUndo.values().removeIf(leftover.getKey()::equals);
            return true;
        });
    }

    void copyInto(Leftovers copy) {
        copy.leftovers.putAll(leftovers);
        copy.pendingUndo.putAll(pendingUndo);
    }
}
