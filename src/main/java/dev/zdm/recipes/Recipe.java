package dev.zdm.recipes;

import dev.zdm.engine.Outcome;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.Plan;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Reply;
import dev.zdm.protocol.Request;
import java.util.List;
import java.util.Set;

/**
 * One operation, whole: the request it reads, what it checks, the statements it runs on each server
 * version, and its reply. {@code dev.zdm.handlers.RecipeHandler} runs any recipe through the engine
 * (lock budget, ledger, undo, explain); registering a recipe is one line in {@code Handlers}.
 *
 * @param <S> the request, read and checked
 */
public interface Recipe<S> {

    /** The message's body.type. */
    String type();

    /** The request fields it reads, beyond those every operation takes (max_lock_duration_ms, explain, ...). */
    Set<String> fields();

    /**
     * Reads and checks the request's fields (error 12). The catalog is there for what a field names and
     * the request does not say (the table an index is on): nothing is changed here.
     */
    S parse(Request request, CatalogView catalog);

    /** The table the operation works on, whose lock and ledger row it is. */
    SqlName table(S spec);

    /** The plan against the catalog as it is now (errors 20, 21, 22), before anything has run. */
    Plan plan(S spec, ServerVersion version, CatalogView catalog);

    Reply reply(Request request, S spec, Outcome outcome);

    /** What explain says beyond the steps: what the operation leaves as it was, what it advises. */
    default List<String> notes(S spec, ServerVersion version, CatalogView catalog) {
        return List.of();
    }

    /** What the request changes, so the same request sent again is recognized (its spec, without pacing or budget). */
    default String identity(S spec) {
        return type() + ":" + spec;
    }
}
