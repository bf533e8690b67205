package dev.zdm.recipes;

import static dev.zdm.recipes.RecipeTesting.plan;
import static dev.zdm.recipes.RecipeTesting.refused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DropConstraintTest {

    /** The shop with orders.user_id referencing users.id. */
    static SimCatalog withForeignKey() {
        SimCatalog catalog = ConstraintRecipesTest.shop();
        new SimulatorEngine(ServerVersion.DEFAULT, catalog, CostModel.DEFAULT, dev.zdm.pg.RetryPolicy.of(1))
                .execute(plan(new AddConstraint(), """
                        {"table":"orders","constraint":"orders_user_fk","constraint_type":"foreign_key",
                         "columns":["user_id"],"references":{"table":"users","columns":["id"]}}""", 15, catalog),
                        Duration.ofSeconds(1));
        return catalog;
    }

    @Test
    void aForeignKeysDropLocksTheReferencedTableToo() {
        Plan plan = plan(new DropConstraint(), """
                {"table":"orders","constraint":"orders_user_fk"}""", 15, withForeignKey());
        Statement drop = (Statement) plan.steps().get(0);
        assertThat(drop.sql()).isEqualTo("ALTER TABLE \"orders\" DROP CONSTRAINT \"orders_user_fk\"");
        assertThat(drop.lock()).isEqualTo(LockMode.ACCESS_EXCLUSIVE);
        assertThat(drop.otherLocks()).containsExactly(new Statement.OtherLock(SqlName.of("users"), LockMode.ACCESS_EXCLUSIVE));
        assertThat(plan.predictsTableLocked()).isFalse();
    }

    @Test
    void aReferencedKeyIsRefusedNamingTheForeignKeyUnlessCascade() {
        refused(new DropConstraint(), """
                {"table":"users","constraint":"users_pkey"}""", withForeignKey(), 22);
        Plan cascade = plan(new DropConstraint(), """
                {"table":"users","constraint":"users_pkey","cascade":true}""", 15, withForeignKey());
        Statement drop = (Statement) cascade.steps().get(0);
        assertThat(drop.sql()).endsWith("DROP CONSTRAINT \"users_pkey\" CASCADE");
        assertThat(drop.otherLocks()).containsExactly(new Statement.OtherLock(SqlName.of("orders"), LockMode.ACCESS_EXCLUSIVE));
        refused(new DropConstraint(), """
                {"table":"users","constraint":"nothing"}""", withForeignKey(), 20);
    }
}
