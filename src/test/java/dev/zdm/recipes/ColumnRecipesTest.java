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
import dev.zdm.pg.TableWork;
import org.junit.jupiter.api.Test;

/** set_default, drop_default, drop_not_null: one catalog-only statement each, on every version. */
class ColumnRecipesTest {

    private static Statement only(Plan plan) {
        assertThat(plan.steps()).hasSize(1);
        Statement s = (Statement) plan.steps().get(0);
        assertThat(s.lock()).isEqualTo(LockMode.ACCESS_EXCLUSIVE);
        assertThat(s.work()).isEqualTo(TableWork.CATALOG_ONLY);
        assertThat(s.locksTable()).isFalse();
        return s;
    }

    @Test
    void setDefaultFromALiteralOrAnExpression() {
        for (int version : new int[] {10, 11, 15, 17}) {
            Statement literal = only(plan(new SetDefault(), """
                    {"table":"users","column":"name","default":"it's"}""", version, users()));
            assertThat(literal.sql()).isEqualTo("ALTER TABLE \"users\" ALTER COLUMN \"name\" SET DEFAULT 'it''s'");
            assertThat(literal.change()).isEqualTo(new CatalogChange.SetDefault(SqlName.of("name"), "'it''s'"));
        }
        // A volatile default is catalog only too: no row is written.
        Statement expression = only(plan(new SetDefault(), """
                {"table":"users","column":"name","default_sql":"md5(random()::text)"}""", 15, users()));
        assertThat(expression.sql()).endsWith("SET DEFAULT (md5(random()::text))");
    }

    @Test
    void setDefaultRefusals() {
        refused(new SetDefault(), """
                {"table":"users","column":"name","default":"a","default_sql":"'b'"}""", users(), 12);
        refused(new SetDefault(), """
                {"table":"users","column":"name"}""", users(), 12);
        refused(new SetDefault(), """
                {"table":"users","column":"name","default_sql":"1); drop table users; --"}""", users(), 12);
        refused(new SetDefault(), """
                {"table":"users","column":"nope","default":1}""", users(), 20);
        refused(new SetDefault(), """
                {"table":"nope","column":"name","default":1}""", users(), 20);
    }

    @Test
    void dropDefault() {
        Statement s = only(plan(new DropDefault(), """
                {"table":"users","column":"email"}""", 15, users()));
        assertThat(s.sql()).isEqualTo("ALTER TABLE \"users\" ALTER COLUMN \"email\" DROP DEFAULT");
        refused(new DropDefault(), """
                {"table":"users","column":"nope"}""", users(), 20);
    }

    @Test
    void dropNotNullButNotOfAPrimaryKey() {
        Statement s = only(plan(new DropNotNull(), """
                {"table":"users","column":"email"}""", 15, users()));
        assertThat(s.sql()).isEqualTo("ALTER TABLE \"users\" ALTER COLUMN \"email\" DROP NOT NULL");
        assertThat(s.change()).isEqualTo(new CatalogChange.DropNotNull(SqlName.of("email")));
        refused(new DropNotNull(), """
                {"table":"users","column":"id"}""", users(), 22);
    }
}
