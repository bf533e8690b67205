package dev.zdm.postgres;

import dev.zdm.engine.Blocker;
import dev.zdm.engine.OperationStatus;
import dev.zdm.postgres.connect.AppSessions;
import dev.zdm.postgres.ledger.Fingerprint;
import dev.zdm.postgres.ledger.OperationLock;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * zdm.operations as {@code status} shows it: each row with its checkpoints summed, and for a running
 * one the backend holding its advisory lock and, from pg_blocking_pids, the backends that one waits for.
 */
final class LedgerReport {

    private static final String UTC = "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'";

    private LedgerReport() {
    }

    static List<OperationStatus> operations(Connection c, AppSessions sessions, int limit) throws SQLException {
        List<OperationStatus> listed = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT o.id, o.kind, o.table_name, o.state, o.steps_done, jsonb_array_length(o.plan), o.detail,
                       to_char(o.started_at AT TIME ZONE 'UTC', %s), to_char(o.updated_at AT TIME ZONE 'UTC', %s),
                       coalesce(sum(k.rows_done), 0), coalesce(sum(k.batches_done), 0),
                       (array_agg(k.last_key ORDER BY k.step DESC) FILTER (WHERE NOT k.finished))[1],
                       (array_agg(k.end_key ORDER BY k.step DESC) FILTER (WHERE NOT k.finished))[1],
                       o.fingerprint,
                       coalesce((SELECT n.nspname FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace
                                 WHERE r.oid = o.table_oid), o.request->>'schema')
                FROM zdm.operations o LEFT JOIN zdm.checkpoints k ON k.operation_id = o.id
                GROUP BY o.id ORDER BY o.state = 'done', o.id DESC LIMIT ?""".formatted(UTC, UTC))) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String state = rs.getString(4);
                    Blocker owner = null;
                    List<Blocker> blockedBy = List.of();
                    if ("running".equals(state)) {
                        Optional<Integer> pid = OperationLock.holder(c, Fingerprint.ofHex(rs.getString(14)).lockKey());
                        if (pid.isPresent()) {
                            owner = describe(c, sessions, Set.of(pid.get())).get(0);
                            blockedBy = describe(c, sessions, blockingPids(c, pid.get()));
                        }
                    }
                    listed.add(new OperationStatus(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(15), state, rs.getInt(5),
                            rs.getInt(6), rs.getLong(10), rs.getInt(11), (Long) rs.getObject(12), (Long) rs.getObject(13),
                            rs.getString(7), rs.getString(8), rs.getString(9), owner, blockedBy));
                }
            }
        }
        return listed;
    }

    static Map<String, Long> counts(Connection c) throws SQLException {
        Map<String, Long> counts = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT state, count(*) FROM zdm.operations GROUP BY state ORDER BY state");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                counts.put(rs.getString(1), rs.getLong(2));
            }
        }
        return counts;
    }

    private static Set<Integer> blockingPids(Connection c, int pid) throws SQLException {
        Set<Integer> pids = new LinkedHashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT unnest(pg_blocking_pids(?)) ORDER BY 1")) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pids.add(rs.getInt(1));
                }
            }
        }
        return pids;
    }

    private static List<Blocker> describe(Connection c, AppSessions sessions, Set<Integer> pids) throws SQLException {
        return pids.isEmpty() ? List.of() : Blocker.ordered(sessions.describe(c, pids));
    }
}
