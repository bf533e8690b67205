package dev.zdm.recipes;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.CatalogView;
import dev.zdm.pg.Plan;
import dev.zdm.pg.ServerVersion;
import dev.zdm.protocol.Json;
import dev.zdm.protocol.Request;
import dev.zdm.protocol.ZdmException;
import dev.zdm.simulator.SimCatalog;

/** What the recipes' tests share: a request from JSON, a closed catalog of users, plans and refusals. */
final class RecipeTesting {

    private RecipeTesting() {
    }

    static Request request(String json) {
        try {
            return new Request("c", "n", (ObjectNode) Json.MAPPER.readTree(json));
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** users (id bigint primary key, email text, name text) with rows, nothing else. */
    static SimCatalog users() {
        return SimCatalog.withUsersTable(1_000, ServerVersion.DEFAULT);
    }

    static <S> Plan plan(Recipe<S> recipe, String json, int version, CatalogView catalog) {
        return recipe.plan(recipe.parse(request(json), catalog), new ServerVersion(version), catalog);
    }

    /** The error code planning (or reading) the request answers. */
    static <S> void refused(Recipe<S> recipe, String json, CatalogView catalog, int code) {
        assertThatThrownBy(() -> plan(recipe, json, 15, catalog)).isInstanceOfSatisfying(ZdmException.class,
                e -> org.assertj.core.api.Assertions.assertThat(e.code().code()).as(e.getMessage()).isEqualTo(code));
    }
}
