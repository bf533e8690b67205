package dev.zdm.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.Backfill;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Planner;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlExpression;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.protocol.Json;
import dev.zdm.schema.SchemaFile;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The model of a cascade chain's locks: each constraint followed once (two tables that cascade into
 * each other end where they began), NO ACTION ends a chain, an inheritance parent is locked ONLY (the
 * RI queries name it so), and a set that leaves the keys alone locks no other table.
 */
class CascadeLocksModelTest {

    private static final String SCHEMA = """
            {"tables": {
              "a": {"columns": {"id": {"type": "int"}, "code": {"type": "text"}, "back": {"type": "text"}, "n": {"type": "int"}},
                    "primary_key": ["id"],
                    "indexes": {"a_code_key": {"columns": ["code"], "unique": true}, "a_back_key": {"columns": ["back"], "unique": true}},
                    "constraints": {"a_back_fkey": {"type": "foreign_key", "definition": "FOREIGN KEY (back) REFERENCES b(a_code) ON UPDATE CASCADE"}}},
              "b": {"columns": {"id": {"type": "int"}, "a_code": {"type": "text"}},
                    "primary_key": ["id"], "indexes": {"b_a_code_key": {"columns": ["a_code"], "unique": true}},
                    "constraints": {"b_fkey": {"type": "foreign_key", "definition": "FOREIGN KEY (a_code) REFERENCES a(code) ON UPDATE CASCADE"}}},
              "c": {"columns": {"id": {"type": "int"}, "b_code": {"type": "text"}}, "primary_key": ["id"],
                    "constraints": {"c_fkey": {"type": "foreign_key", "definition": "FOREIGN KEY (b_code) REFERENCES b(a_code)"}}},
              "ip": {"columns": {"id": {"type": "int"}, "code": {"type": "text"}}, "primary_key": ["id"],
                     "indexes": {"ip_code_key": {"columns": ["code"], "unique": true}}},
              "ic": {"columns": {"id": {"type": "int"}, "code": {"type": "text"}}, "primary_key": ["id"], "inherits": "ip"},
              "r": {"columns": {"id": {"type": "int"}, "ip_code": {"type": "text"}}, "primary_key": ["id"],
                    "constraints": {"r_fkey": {"type": "foreign_key", "definition": "FOREIGN KEY (ip_code) REFERENCES ip(code)"}}}}}""";

    private static Map<String, LockMode> locks(String table, String column) throws Exception {
        SimCatalog catalog = SimCatalog.of(SchemaFile.parse(Json.MAPPER.readTree(SCHEMA)), ServerVersion.DEFAULT);
        Backfill job = (Backfill) new Planner(ServerVersion.DEFAULT, catalog).migrateData(new Planner.MigrationSpec(
                SqlName.of(table), Map.of(SqlName.of(column), new SqlExpression(column + " || 'x'")), null, 100, null, 0))
                .steps().get(0);
        Map<String, LockMode> locks = new LinkedHashMap<>();
        for (Statement.OtherLock lock : job.otherLocks()) {
            locks.put(lock.table().value(), lock.mode());
        }
        return locks;
    }

    @Test
    void aCycleOfCascadesEndsWhereItBegan() throws Exception {
        assertThat(locks("a", "code")).containsOnly(Map.entry("b", LockMode.ROW_EXCLUSIVE),
                Map.entry("c", LockMode.ROW_SHARE));
        assertThat(locks("a", "n")).isEmpty();
    }

    @Test
    void anInheritanceParentIsLockedOnly() throws Exception {
        assertThat(locks("r", "ip_code")).containsOnly(Map.entry("ip", LockMode.ROW_SHARE));
        assertThat(locks("ip", "code")).containsOnly(Map.entry("r", LockMode.ROW_SHARE));
    }
}
