package dev.zdm.postgres.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.fidelity.VersionedServer;
import dev.zdm.postgres.Database;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Issue 13 (hostile finding 2's follow-up): the undo of a partitioned index locks the tree without
 * waiting on a partition while it holds the parent. Before PostgreSQL 14 a LOCK TABLE of the parent
 * checks the role's rights on every partition, so as a tenant that owns the parent but not a partition
 * (pg_partman-style) the undo failed "permission denied" every time the janitor tried, while DROP INDEX
 * itself needs the parent's ownership only. Run on 11 (where the check is) and the newest server.
 */
class PartitionedUndoRightsIT {

    @Test
    void aTenantUndoesItsPartitionedIndexOverAPartitionAnotherRoleOwns() throws Exception {
        List<Integer> majors = VersionedServer.available();
        for (int major : List.of(11, majors.get(majors.size() - 1))) {
            if (!majors.contains(major)) {
                continue;
            }
            try (VersionedServer server = VersionedServer.start(major)) {
                Database admin = server.database();
                try (Connection c = admin.connect("zdm-test"); Statement s = c.createStatement()) {
                    s.execute("CREATE ROLE ur_tenant LOGIN NOSUPERUSER");
                    s.execute("CREATE SCHEMA \"Ten ant\" AUTHORIZATION ur_tenant");
                    s.execute("SET ROLE ur_tenant");
                    s.execute("CREATE TABLE \"Ten ant\".pt (id int NOT NULL, k int NOT NULL, v int) PARTITION BY LIST (k)");
                    s.execute("CREATE TABLE \"Ten ant\".pt_1 PARTITION OF \"Ten ant\".pt FOR VALUES IN (1)");
                    s.execute("RESET ROLE");
                    // Made by the superuser, owned by it: the tenant has no right on it.
                    s.execute("CREATE TABLE \"Ten ant\".pt_2 PARTITION OF \"Ten ant\".pt FOR VALUES IN (2)");
                }
                Database tenant = as(admin, "ur_tenant");
                try (Connection t = tenant.connect("zdm-test")) {
                    long oid = invalidParentIndex(t);
                    assertThat(ObjectUndo.dropIndexIfInvalid(t, oid)).as("PostgreSQL %d", major)
                            .isEqualTo(ObjectUndo.Result.UNDONE);
                    assertThat(exists(t, oid)).isFalse();

                    // A holder on either partition: the undo gives the whole tree back at once, to be tried later.
                    for (String held : List.of("pt_1", "pt_2")) {
                        long again = invalidParentIndex(t);
                        try (Connection h = admin.connect("zdm-test"); Statement hs = h.createStatement()) {
                            hs.execute("BEGIN");
                            hs.execute("LOCK TABLE \"Ten ant\"." + held + " IN ACCESS SHARE MODE");
                            assertThatThrownBy(() -> ObjectUndo.dropIndexIfInvalid(t, again))
                                    .as("PostgreSQL %d, %s held", major, held).isInstanceOf(SQLException.class)
                                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55P03"));
                            assertThat(locksHeld(t)).as("the parent is not held after a lost try").isZero();
                            hs.execute("ROLLBACK");
                        }
                        assertThat(ObjectUndo.dropIndexIfInvalid(t, again)).isEqualTo(ObjectUndo.Result.UNDONE);
                    }
                }
            }
        }
    }

    private static long invalidParentIndex(Connection t) throws SQLException {
        try (Statement s = t.createStatement()) {
            s.execute("CREATE INDEX pt_v ON ONLY \"Ten ant\".pt (v)");
            try (ResultSet rs = s.executeQuery("SELECT '\"Ten ant\".pt_v'::regclass::oid")) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static boolean exists(Connection t, long oid) throws SQLException {
        try (Statement s = t.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_class WHERE oid = " + oid)) {
            rs.next();
            return rs.getLong(1) > 0;
        }
    }

    private static long locksHeld(Connection t) throws SQLException {
        try (Statement s = t.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_locks"
                + " WHERE pid = pg_backend_pid() AND relation = '\"Ten ant\".pt'::regclass")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Database as(Database admin, String role) {
        Properties props = new Properties();
        props.putAll(admin.properties());
        props.setProperty("user", role);
        return new Database(admin.jdbcUrl(), props, "as " + role);
    }
}
