package dev.zdm.recipes;

import static dev.zdm.recipes.RecipeTesting.plan;
import static dev.zdm.recipes.RecipeTesting.refused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.CatalogChange;
import dev.zdm.pg.DataType;
import dev.zdm.pg.LockMode;
import dev.zdm.pg.Plan;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.pg.Statement;
import dev.zdm.pg.TableWork;
import dev.zdm.schema.Schema;
import dev.zdm.simulator.SimCatalog;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** add_constraint, validate_constraint, set_not_null: the NOT VALID way, per version, and the refusals. */
class ConstraintRecipesTest {

    private static final SqlName ID = SqlName.of("id");

    /** users (id, email, name), orders (id, user_id bigint, note text) with a CHECK left NOT VALID. */
    static SimCatalog shop() {
        Map<SqlName, Schema.Table> tables = new LinkedHashMap<>();
        tables.put(SqlName.of("users"), new Schema.Table(1_000, columns("id", "bigint", "email", "text", "name", "text"),
                List.of(ID), Map.of(), Map.of()));
        tables.put(SqlName.of("orders"), new Schema.Table(5_000, columns("id", "bigint", "user_id", "bigint", "note", "text"),
                List.of(ID), Map.of(), Map.of(SqlName.of("orders_note_short"),
                        new Schema.Constraint("check", "CHECK (length(note) < 100) NOT VALID", false))));
        return SimCatalog.of(new Schema(15, tables, java.util.Set.of()), ServerVersion.DEFAULT);
    }

    private static Map<SqlName, Schema.Column> columns(String... nameType) {
        Map<SqlName, Schema.Column> columns = new LinkedHashMap<>();
        for (int i = 0; i < nameType.length; i += 2) {
            columns.put(SqlName.of(nameType[i]), new Schema.Column(DataType.of(nameType[i + 1]), null, !nameType[i].equals("id")));
        }
        return columns;
    }

    @Test
    void aCheckIsAddedNotValidThenValidatedUnderShareUpdateExclusive() {
        Plan plan = plan(new AddConstraint(), """
                {"table":"orders","constraint":"orders_note_set","constraint_type":"check","check":"note <> ''"}""", 15, shop());
        Statement add = (Statement) plan.steps().get(0);
        Statement validate = (Statement) plan.steps().get(1);
        assertThat(add.sql()).isEqualTo("ALTER TABLE \"orders\" ADD CONSTRAINT \"orders_note_set\" CHECK (note <> '') NOT VALID");
        assertThat(add.lock()).isEqualTo(LockMode.ACCESS_EXCLUSIVE);
        assertThat(add.work()).isEqualTo(TableWork.CATALOG_ONLY);
        assertThat(add.undoSql()).contains("DROP CONSTRAINT IF EXISTS \"orders_note_set\"");
        assertThat(add.change()).isEqualTo(new CatalogChange.AddCheck(SqlName.of("orders_note_set"), "(note <> '')",
                List.of(SqlName.of("note"))));
        assertThat(validate.sql()).isEqualTo("ALTER TABLE \"orders\" VALIDATE CONSTRAINT \"orders_note_set\"");
        assertThat(validate.lock()).isEqualTo(LockMode.SHARE_UPDATE_EXCLUSIVE);
        assertThat(validate.work()).isEqualTo(TableWork.SCAN);
        assertThat(plan.predictsTableLocked()).isFalse();

        Plan notValidated = plan(new AddConstraint(), """
                {"table":"orders","constraint":"c1","constraint_type":"check","check":"id > 0","validate":false}""", 15, shop());
        assertThat(notValidated.steps()).hasSize(1);
    }

    @Test
    void aForeignKeyLocksBothTablesAndValidatesWithRowShareOnTheReferencedOne() {
        Plan plan = plan(new AddConstraint(), """
                {"table":"orders","constraint":"orders_user_fk","constraint_type":"foreign_key","columns":["user_id"],
                 "references":{"table":"users","columns":["id"]},"on_delete":"set null"}""", 12, shop());
        Statement add = (Statement) plan.steps().get(0);
        Statement validate = (Statement) plan.steps().get(1);
        assertThat(add.sql()).isEqualTo("ALTER TABLE \"orders\" ADD CONSTRAINT \"orders_user_fk\" FOREIGN KEY (\"user_id\")"
                + " REFERENCES \"users\" (\"id\") ON DELETE SET NULL NOT VALID");
        assertThat(add.lock()).isEqualTo(LockMode.SHARE_ROW_EXCLUSIVE);
        assertThat(add.otherLocks()).containsExactly(new Statement.OtherLock(SqlName.of("users"), LockMode.SHARE_ROW_EXCLUSIVE));
        assertThat(validate.lock()).isEqualTo(LockMode.SHARE_UPDATE_EXCLUSIVE);
        assertThat(validate.otherLocks()).containsExactly(new Statement.OtherLock(SqlName.of("users"), LockMode.ROW_SHARE));
    }

    @Test
    void foreignKeyRefusals() {
        // No key on users.email; text against bigint; a count that does not match; an action SQL does not have.
        refused(new AddConstraint(), """
                {"table":"orders","constraint":"f","constraint_type":"foreign_key","columns":["note"],
                 "references":{"table":"users","columns":["email"]}}""", shop(), 22);
        refused(new AddConstraint(), """
                {"table":"orders","constraint":"f","constraint_type":"foreign_key","columns":["note"],
                 "references":{"table":"users","columns":["id"]}}""", shop(), 22);
        refused(new AddConstraint(), """
                {"table":"orders","constraint":"f","constraint_type":"foreign_key","columns":["user_id","note"],
                 "references":{"table":"users","columns":["id"]}}""", shop(), 12);
        refused(new AddConstraint(), """
                {"table":"orders","constraint":"f","constraint_type":"foreign_key","columns":["user_id"],
                 "references":{"table":"users","columns":["id"]},"on_delete":"explode"}""", shop(), 12);
        refused(new AddConstraint(), """
                {"table":"orders","constraint":"f","constraint_type":"foreign_key","columns":["user_id"],
                 "references":{"table":"accounts","columns":["id"]}}""", shop(), 20);
        refused(new AddConstraint(), """
                {"table":"orders","constraint":"f","constraint_type":"foreign_key","columns":["nope"],
                 "references":{"table":"users","columns":["id"]}}""", shop(), 20);
    }

    @Test
    void checkRefusals() {
        refused(new AddConstraint(), """
                {"table":"orders","constraint":"orders_note_short","constraint_type":"check","check":"id > 0"}""", shop(), 21);
        refused(new AddConstraint(), """
                {"table":"orders","constraint":"c","constraint_type":"check","check":"id > (select 1)"}""", shop(), 12);
        refused(new AddConstraint(), """
                {"table":"orders","constraint":"c","constraint_type":"check","check":"id > 0) OR (true"}""", shop(), 12);
        refused(new AddConstraint(), """
                {"table":"orders","constraint":"c","constraint_type":"exclusion"}""", shop(), 12);
        refused(new AddConstraint(), """
                {"table":"orders","constraint_type":"check","check":"id > 0"}""", shop(), 12);
    }

    @Test
    void validateConstraintOnlyForChecksAndForeignKeys() {
        Plan plan = plan(new ValidateConstraint(), """
                {"table":"orders","constraint":"orders_note_short"}""", 15, shop());
        assertThat(plan.steps().get(0).sql()).isEqualTo("ALTER TABLE \"orders\" VALIDATE CONSTRAINT \"orders_note_short\"");
        assertThat(plan.steps().get(0).lock()).isEqualTo(LockMode.SHARE_UPDATE_EXCLUSIVE);
        refused(new ValidateConstraint(), """
                {"table":"orders","constraint":"orders_pkey"}""", shop(), 22);
        refused(new ValidateConstraint(), """
                {"table":"orders","constraint":"nothing"}""", shop(), 20);
    }

    @Test
    void setNotNullKeepsTheValidatedCheckBefore12AndTradesItForNotNullFrom12() {
        Plan on11 = plan(new SetNotNull(), """
                {"table":"orders","column":"note"}""", 11, shop());
        assertThat(on11.steps()).extracting(s -> s.sql()).containsExactly(
                "ALTER TABLE \"orders\" ADD CONSTRAINT \"orders_note_check\" CHECK (\"note\" IS NOT NULL) NOT VALID",
                "ALTER TABLE \"orders\" VALIDATE CONSTRAINT \"orders_note_check\"");
        for (int version : new int[] {12, 15, 17}) {
            Plan plan = plan(new SetNotNull(), """
                    {"table":"orders","column":"note"}""", version, shop());
            assertThat(plan.steps()).extracting(s -> s.sql()).containsExactly(
                    "ALTER TABLE \"orders\" ADD CONSTRAINT \"orders_note_check\" CHECK (\"note\" IS NOT NULL) NOT VALID",
                    "ALTER TABLE \"orders\" VALIDATE CONSTRAINT \"orders_note_check\"",
                    "ALTER TABLE \"orders\" ALTER COLUMN \"note\" SET NOT NULL",
                    "ALTER TABLE \"orders\" DROP CONSTRAINT \"orders_note_check\"");
            assertThat(plan.predictsTableLocked()).isFalse();
        }
    }

    @Test
    void setNotNullFrom18AddsTheNotNullItselfNotValidThenValidatesIt() {
        Plan plan = plan(new SetNotNull(), """
                {"table":"orders","column":"note"}""", 18, shop());
        assertThat(plan.steps()).extracting(s -> s.sql()).containsExactly(
                "ALTER TABLE \"orders\" ADD CONSTRAINT \"orders_note_not_null\" NOT NULL \"note\" NOT VALID",
                "ALTER TABLE \"orders\" VALIDATE CONSTRAINT \"orders_note_not_null\"");
        assertThat(plan.steps()).extracting(s -> s.lock())
                .containsExactly(LockMode.ACCESS_EXCLUSIVE, LockMode.SHARE_UPDATE_EXCLUSIVE);
        assertThat(plan.predictsTableLocked()).isFalse();
        assertThat(((Statement) plan.steps().get(0)).undoSql())
                .isEqualTo("ALTER TABLE \"orders\" DROP CONSTRAINT IF EXISTS \"orders_note_not_null\"");
        // Run on the model: the column is NOT NULL, the constraint validated and validate_constraint knows it.
        SimCatalog catalog = shop();
        new dev.zdm.simulator.SimulatorEngine(new ServerVersion(18), catalog, dev.zdm.simulator.CostModel.DEFAULT,
                dev.zdm.pg.RetryPolicy.of(1)).execute(plan, java.time.Duration.ofSeconds(1));
        assertThat(catalog.table(SqlName.of("orders")).columns().get(SqlName.of("note")).notNull()).isTrue();
        assertThat(catalog.constraints(SqlName.of("orders"))).anySatisfy(c -> {
            assertThat(c.name()).isEqualTo(SqlName.of("orders_note_not_null"));
            assertThat(c.kind()).isEqualTo(dev.zdm.pg.ConstraintInfo.Kind.NOT_NULL);
            assertThat(c.validated()).isTrue();
        });
    }

    @Test
    void setNotNullChoosesAFreeNameAsPostgresqlDoes() {
        SimCatalog catalog = shop();
        Plan first = plan(new AddConstraint(), """
                {"table":"users","constraint":"orders_note_check","constraint_type":"check","check":"id > 0"}""", 15, catalog);
        new dev.zdm.simulator.SimulatorEngine(ServerVersion.DEFAULT, catalog, dev.zdm.simulator.CostModel.DEFAULT,
                dev.zdm.pg.RetryPolicy.of(1)).execute(first, java.time.Duration.ofSeconds(1));
        // A constraint of that name on another table of the schema: ChooseConstraintName moves on to ...1.
        Plan plan = plan(new SetNotNull(), """
                {"table":"orders","column":"note"}""", 15, catalog);
        assertThat(plan.steps().get(0).sql()).contains("\"orders_note_check1\"");
        // A column that is NOT NULL already: one statement PostgreSQL answers without a scan.
        Plan already = plan(new SetNotNull(), """
                {"table":"orders","column":"id"}""", 15, catalog);
        assertThat(already.steps()).extracting(s -> s.sql()).containsExactly(
                "ALTER TABLE \"orders\" ALTER COLUMN \"id\" SET NOT NULL");
    }

    @Test
    void aUniqueKeyIsAConcurrentBuildThenUsingIndex() {
        Plan plan = plan(new AddConstraint(), """
                {"table":"users","constraint":"users_email_key","constraint_type":"unique","columns":["email"]}""", 15, shop());
        assertThat(plan.steps()).extracting(s -> s.sql()).containsExactly(
                "CREATE UNIQUE INDEX CONCURRENTLY \"users_email_key\" ON \"users\" (\"email\")",
                "ALTER TABLE \"users\" ADD CONSTRAINT \"users_email_key\" UNIQUE USING INDEX \"users_email_key\"");
        Statement build = (Statement) plan.steps().get(0);
        assertThat(build.transactional()).isFalse();
        assertThat(build.lock()).isEqualTo(LockMode.SHARE_UPDATE_EXCLUSIVE);
        assertThat(plan.steps().get(1).lock()).isEqualTo(LockMode.ACCESS_EXCLUSIVE);
        assertThat(plan.predictsTableLocked()).isFalse();
    }

    @Test
    void aPrimaryKeyOnNullableColumnsFrom12ButNoSafeWayBefore() {
        SimCatalog catalog = SimCatalog.of(new Schema(15, Map.of(SqlName.of("codes"), new Schema.Table(100,
                columns("code", "text", "label", "text"), List.of(), Map.of(), Map.of())), java.util.Set.of()),
                ServerVersion.DEFAULT);
        Plan plan = plan(new AddConstraint(), """
                {"table":"codes","constraint":"codes_pkey","constraint_type":"primary_key","columns":["code","label"]}""",
                15, catalog);
        assertThat(plan.steps()).extracting(s -> s.sql()).contains(
                "ALTER TABLE \"codes\" ADD CONSTRAINT \"codes_code_check\" CHECK (\"code\" IS NOT NULL) NOT VALID",
                "ALTER TABLE \"codes\" ADD CONSTRAINT \"codes_label_check\" CHECK (\"label\" IS NOT NULL) NOT VALID",
                "ALTER TABLE \"codes\" ADD CONSTRAINT \"codes_pkey\" PRIMARY KEY USING INDEX \"codes_pkey\"");
        assertThat(plan.steps()).hasSize(10);
        assertThatCode(11, catalog);
    }

    private static void assertThatCode(int version, SimCatalog catalog) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> plan(new AddConstraint(), """
                {"table":"codes","constraint":"codes_pkey","constraint_type":"primary_key","columns":["code"]}""",
                version, catalog)).isInstanceOfSatisfying(dev.zdm.protocol.ZdmException.class,
                e -> assertThat(e.code().code()).isEqualTo(22));
    }

    @Test
    void keyRefusals() {
        refused(new AddConstraint(), """
                {"table":"users","constraint":"users_pk2","constraint_type":"primary_key","columns":["email"]}""", shop(), 22);
        refused(new AddConstraint(), """
                {"table":"users","constraint":"orders","constraint_type":"unique","columns":["email"]}""", shop(), 21);
        refused(new AddConstraint(), """
                {"table":"users","constraint":"k","constraint_type":"unique","columns":[]}""", shop(), 12);
        refused(new AddConstraint(), """
                {"table":"users","constraint":"k","constraint_type":"unique","columns":["email","email"]}""", shop(), 12);
    }
}
