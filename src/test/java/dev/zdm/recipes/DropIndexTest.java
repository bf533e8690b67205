package dev.zdm.recipes;

import static dev.zdm.recipes.RecipeTesting.plan;
import static dev.zdm.recipes.RecipeTesting.refused;
import static dev.zdm.recipes.RecipeTesting.users;
import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.simulator.SimCatalog;
import java.util.List;
import org.junit.jupiter.api.Test;

class DropIndexTest {

    private final DropIndex recipe = new DropIndex();

    private static SimCatalog withEmailIndex() {
        SimCatalog catalog = users();
        dev.zdm.simulator.SimulatorEngine engine = new dev.zdm.simulator.SimulatorEngine(dev.zdm.pg.ServerVersion.DEFAULT,
                catalog, dev.zdm.simulator.CostModel.DEFAULT, dev.zdm.pg.RetryPolicy.of(1));
        engine.execute(new Plan(SqlName.of("users"), List.of(new Statement(SqlName.of("users"), "CREATE INDEX",
                LockMode.SHARE, dev.zdm.pg.TableWork.BUILD_INDEX, true, null,
                new CatalogChange.CreateIndex(SqlName.of("idx_email"), List.of(SqlName.of("email")), false)))),
                java.time.Duration.ofSeconds(1));
        return catalog;
    }

    @Test
    void concurrentlyByDefaultUnderShareUpdateExclusiveOutsideATransaction() {
        for (int version : new int[] {10, 12, 15, 17}) {
            Plan plan = plan(recipe, "{\"index\":\"idx_email\"}", version, withEmailIndex());
            Statement drop = (Statement) plan.steps().get(0);
            assertThat(plan.table()).isEqualTo(SqlName.of("users"));
            assertThat(drop.sql()).isEqualTo("DROP INDEX CONCURRENTLY \"idx_email\"");
            assertThat(drop.lock()).isEqualTo(LockMode.SHARE_UPDATE_EXCLUSIVE);
            assertThat(drop.transactional()).isFalse();
            assertThat(drop.change()).isEqualTo(new CatalogChange.RemoveIndex(SqlName.of("idx_email")));
        }
    }

    @Test
    void withoutConcurrentlyAnInstantOfAccessExclusive() {
        Statement drop = (Statement) plan(recipe, "{\"index\":\"idx_email\",\"concurrently\":false}", 15, withEmailIndex())
                .steps().get(0);
        assertThat(drop.sql()).isEqualTo("DROP INDEX \"idx_email\"");
        assertThat(drop.lock()).isEqualTo(LockMode.ACCESS_EXCLUSIVE);
        assertThat(drop.transactional()).isTrue();
        assertThat(drop.locksTable()).isFalse();
    }

    @Test
    void refusals() {
        refused(recipe, "{\"index\":\"users_pkey\"}", users(), 22);
        refused(recipe, "{\"index\":\"nothing_here\"}", users(), 20);
        refused(recipe, "{}", users(), 12);
        refused(recipe, "{\"index\":\"\"}", users(), 12);
        // Any name is a name (quoted in SQL): this one is no index.
        refused(recipe, "{\"index\":\"x; drop table users\"}", users(), 20);
    }
}
