package dev.zdm.postgres;

import dev.zdm.Log;
import dev.zdm.engine.Operation;
import dev.zdm.engine.Prediction;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.pg.ServerVersion;
import dev.zdm.postgres.connect.PgErrors;
import dev.zdm.schema.CatalogReader;
import dev.zdm.schema.Schema;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Function;

/**
 * plan: true on a real server: its catalog read in one READ ONLY transaction on a connection of its own
 * (what --schema-from reads), and the operation predicted by the simulator on exactly that schema. No
 * statement of the plan runs, no lock beyond the catalog reads' ACCESS SHARE is taken, no ledger row is
 * written and the operation lock is not taken.
 */
final class LivePlan {

    static final String PREDICTED_BY = "simulator on the live catalog (read only)";

    private LivePlan() {
    }

    static Prediction predict(Database database, ServerVersion version, int retries, Operation operation,
                              Function<Planner, Plan> planner, Duration lockBudget) {
        Schema schema;
        Properties readOnly = new Properties();
        readOnly.setProperty("readOnly", "true");
        try (Connection c = database.connect("zdm-plan", readOnly)) {
            schema = CatalogReader.readOnly(c, Log::info);
        } catch (SQLException e) {
            throw PgErrors.toReply(e, "reading the catalog to plan " + operation.type() + " on " + operation.table());
        }
        SimulatorEngine model = new SimulatorEngine(version, SimCatalog.of(schema, version), CostModel.DEFAULT,
                RetryPolicy.of(retries));
        Prediction prediction = model.predictHere(operation, planner, lockBudget, PREDICTED_BY);
        List<String> assumptions = new ArrayList<>(prediction.assumptions());
        assumptions.add("row counts are the server's estimates (pg_class.reltuples, or the live tuples of a table"
                + " never analyzed), read with the schema in one read-only transaction");
        assumptions.add("durations are the simulator's cost model, not measured on this server");
        assumptions.add("assumes no other transaction holds or awaits a lock on " + operation.table() + " that"
                + " conflicts (the server's locks were not read; a run waits for them within max_lock_duration_ms)");
        return new Prediction(prediction.plan(), prediction.outcome(), prediction.steps(), assumptions,
                prediction.predictedBy());
    }
}
