package dev.zdm.engine;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One operation as {@code status} lists it: its state, how far it got (steps, and for a backfill the
 * rows and batches committed and where its keys stand), and, while it runs, the backend that owns it
 * and the backends blocking that one. Times are ISO-8601 UTC on a real server, null on the simulator.
 * {@code schema} is the table's (two tenants' tables of one name are told apart by it): on a real server
 * where the table is now, else the one the request named; null (left out) where neither is known, as for
 * an unqualified name on the simulator.
 */
public record OperationStatus(long id, String type, String table, String schema, String state, int stepsDone, int steps,
                              long rowsDone, int batchesDone, Long lastKey, Long endKey, String detail,
                              String startedAt, String updatedAt, Blocker owner, List<Blocker> blockedBy) {

    public OperationStatus {
        blockedBy = List.copyOf(blockedBy);
    }

    public Map<String, Object> asMap() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("id", id);
        map.put("type", type);
        map.put("table", table);
        if (schema != null) {
            map.put("schema", schema);
        }
        map.put("state", state);
        map.put("steps_done", stepsDone);
        map.put("steps", steps);
        map.put("rows_done", rowsDone);
        map.put("batches_done", batchesDone);
        if (lastKey != null) {
            map.put("last_key", lastKey);
        }
        if (endKey != null) {
            map.put("end_key", endKey);
        }
        if (detail != null) {
            map.put("detail", detail);
        }
        if (startedAt != null) {
            map.put("started_at", startedAt);
            map.put("updated_at", updatedAt);
        }
        if ("running".equals(state)) {
            // A running row nobody owns is a run that ended mid-way (a crash, a kill): nothing runs it now.
            map.put("owner", owner == null ? null : owner.asMap());
            map.put("blocked_by", blockedBy.stream().map(Blocker::asMap).toList());
        }
        return map;
    }
}
