package dev.zdm.handlers;

import dev.zdm.engine.Engine;
import dev.zdm.engine.Outcome;
import dev.zdm.pg.Plan;
import dev.zdm.pg.Planner;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import dev.zdm.recipes.Recipe;
import java.time.Duration;
import java.util.List;

/** Any recipe's message: its request read by the recipe, run as every plan runs. */
public final class RecipeHandler<S> extends PlanHandler<S> {

    private final Engine engine;
    private final Recipe<S> recipe;
    /** What explain adds for the request being answered (the loop is single-threaded). */
    private List<String> notes = List.of();

    public RecipeHandler(Engine engine, Duration defaultLockBudget, Recipe<S> recipe) {
        super(engine, defaultLockBudget);
        this.engine = engine;
        this.recipe = recipe;
    }

    @Override
    public String type() {
        return recipe.type();
    }

    /** The request fields the recipe reads, beyond those every operation takes. */
    @Override
    List<String> ownFields() {
        return List.copyOf(recipe.fields());
    }

    @Override
    S parse(Request request) {
        notes = List.of();
        return recipe.parse(request, engine.catalog());
    }

    @Override
    Plan plan(S spec, Planner planner) {
        // An ALTER of a parent locks its partitions and children too: one rule for every plan.
        Plan plan = planner.lockingTheTree(recipe.plan(spec, engine.version(), engine.catalog()));
        notes = recipe.notes(spec, engine.version(), engine.catalog());
        return plan;
    }

    @Override
    SqlName table(S spec) {
        return recipe.table(spec);
    }

    @Override
    String identity(S spec) {
        return recipe.identity(spec);
    }

    @Override
    Reply reply(Request request, S spec, Outcome outcome) {
        Reply reply = recipe.reply(request, spec, outcome);
        if (request.bool("explain", false) && !notes.isEmpty()) {
            reply.put("notes", notes);
        }
        return reply;
    }
}
