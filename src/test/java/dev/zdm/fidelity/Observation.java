package dev.zdm.fidelity;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything about a run that is not a duration: the reply (type or error code), its flags, the
 * strongest lock the migration held, whether it waited for a lock, and the table's catalog afterwards.
 */
record Observation(String reply, Boolean tableLocked, Boolean tableRewritten, String lock, boolean waited,
                   String catalog) {

    /** The fields on which {@code other} differs, as "field: this vs other". */
    List<String> differences(Observation other) {
        List<String> diffs = new ArrayList<>();
        compare(diffs, "reply", reply, other.reply);
        compare(diffs, "table_locked", tableLocked, other.tableLocked);
        compare(diffs, "table_rewritten", tableRewritten, other.tableRewritten);
        compare(diffs, "lock", lock, other.lock);
        compare(diffs, "waited", waited, other.waited);
        compare(diffs, "catalog", catalog, other.catalog);
        return diffs;
    }

    private static void compare(List<String> diffs, String field, Object mine, Object theirs) {
        if (!Objects.equals(mine, theirs)) {
            diffs.add(field + ": simulator " + mine + " vs PostgreSQL " + theirs);
        }
    }
}
