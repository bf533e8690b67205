package dev.zdm.fidelity;

import dev.zdm.pg.LockMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every operation of the node against every kind of concurrent application transaction, each with a
 * short lock budget (which the transaction outlasts) and with the default one (which outlasts it).
 */
final class ScenarioMatrix {

    static final long SHORT_BUDGET_MS = 200;

    private ScenarioMatrix() {
    }

    static Map<String, String> operations() {
        Map<String, String> ops = new LinkedHashMap<>();
        ops.put("create_index concurrently", """
                {"type":"create_index","table":"users","column":"email"}""");
        ops.put("create_index concurrently unique", """
                {"type":"create_index","table":"users","column":"email","unique":true,"index":"uniq_email"}""");
        ops.put("create_index plain", """
                {"type":"create_index","table":"users","column":"email","concurrently":false}""");
        ops.put("add_column no default", """
                {"type":"add_column","table":"users","column":"note"}""");
        ops.put("add_column constant default NOT NULL", """
                {"type":"add_column","table":"users","column":"status","default":"active","nullable":false}""");
        ops.put("add_column volatile default", """
                {"type":"add_column","table":"users","column":"score","data_type":"double precision","default_sql":"random()"}""");
        ops.put("add_column volatile default NOT NULL", """
                {"type":"add_column","table":"users","column":"token","data_type":"double precision","default_sql":"random()","nullable":false}""");
        ops.put("add_column volatile default, safe: false", """
                {"type":"add_column","table":"users","column":"score","data_type":"double precision","default_sql":"random()","safe":false}""");
        ops.put("migrate_data", """
                {"type":"migrate_data","table":"users","batch_size":500,"set":{"name":"upper(name)"}}""");
        return ops;
    }

    static List<Scenario> all() {
        Map<String, LockMode> blockers = new LinkedHashMap<>();
        blockers.put("reader (ACCESS SHARE)", LockMode.ACCESS_SHARE);
        blockers.put("writer (ROW EXCLUSIVE)", LockMode.ROW_EXCLUSIVE);
        blockers.put("SHARE lock", LockMode.SHARE);
        blockers.put("idle open transaction", null);
        List<Scenario> scenarios = new ArrayList<>();
        operations().forEach((operation, json) -> {
            scenarios.add(new Scenario(operation, json, null, false, null, null));
            blockers.forEach((name, mode) -> {
                scenarios.add(new Scenario(operation, json, name, true, mode, SHORT_BUDGET_MS));
                scenarios.add(new Scenario(operation, json, name, true, mode, null));
            });
        });
        return scenarios;
    }
}
