package dev.zdm.recipes;

import static dev.zdm.recipes.RecipeTesting.plan;
import static dev.zdm.recipes.RecipeTesting.refused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.pg.TableWork;
import org.junit.jupiter.api.Test;

class DropColumnTest {

    @Test
    void oneCatalogOnlyStatementOnEveryVersion() {
        for (int version : new int[] {10, 12, 17}) {
            Plan plan = plan(new DropColumn(), """
                    {"table":"orders","column":"note"}""", version, ConstraintRecipesTest.shop());
            Statement drop = (Statement) plan.steps().get(0);
            assertThat(drop.sql()).isEqualTo("ALTER TABLE \"orders\" DROP COLUMN \"note\"");
            assertThat(drop.lock()).isEqualTo(LockMode.ACCESS_EXCLUSIVE);
            assertThat(drop.work()).isEqualTo(TableWork.CATALOG_ONLY);
            assertThat(plan.predictsRewrite()).isFalse();
        }
    }

    @Test
    void whatUsesTheColumnIsNamedUnlessCascade() {
        // orders.user_id has the foreign key; users.id is what it references.
        refused(new DropColumn(), """
                {"table":"orders","column":"user_id"}""", DropConstraintTest.withForeignKey(), 22);
        refused(new DropColumn(), """
                {"table":"users","column":"id"}""", DropConstraintTest.withForeignKey(), 22);
        Plan cascade = plan(new DropColumn(), """
                {"table":"users","column":"id","cascade":true}""", 15, DropConstraintTest.withForeignKey());
        Statement drop = (Statement) cascade.steps().get(0);
        assertThat(drop.sql()).endsWith("DROP COLUMN \"id\" CASCADE");
        assertThat(drop.otherLocks()).containsExactly(new Statement.OtherLock(SqlName.of("orders"), LockMode.ACCESS_EXCLUSIVE));
        refused(new DropColumn(), """
                {"table":"users","column":"nothing"}""", ConstraintRecipesTest.shop(), 20);
    }
}
