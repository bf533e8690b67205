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
import org.junit.jupiter.api.Test;

class CreateTableTest {

    private static final String ORDERS = """
            {"table":"orders","columns":{"id":{"type":"bigserial"},"user_id":{"type":"bigint","nullable":false},
             "note":{"type":"varchar(20)","default":"it's"}},"primary_key":["id"]}""";

    @Test
    void oneStatementNamingItsKeyAndSequenceAsPostgresqlWould() {
        Plan plan = plan(new CreateTable(), ORDERS, 15, users());

        Statement create = (Statement) plan.steps().get(0);
        assertThat(plan.steps()).hasSize(1);
        assertThat(plan.createsTable()).isTrue();
        assertThat(create.sql()).isEqualTo("CREATE TABLE \"orders\" (\"id\" bigserial, \"user_id\" bigint NOT NULL,"
                + " \"note\" varchar(20) DEFAULT 'it''s', PRIMARY KEY (\"id\"))");
        assertThat(create.lock()).isEqualTo(LockMode.ACCESS_EXCLUSIVE);
        CatalogChange.CreateTable change = (CatalogChange.CreateTable) create.change();
        assertThat(change.primaryIndex()).isEqualTo(SqlName.of("orders_pkey"));
        assertThat(change.columns().get(0).ownedSequence()).isEqualTo(SqlName.of("orders_id_seq"));
        assertThat(change.columns().get(0).type().sql()).isEqualTo("bigint");
        assertThat(change.ifNotExists()).isFalse();
    }

    @Test
    void theSameTableAgainIsIfNotExistsAnotherIs21() {
        var catalog = users();
        // users (id bigint primary key, email text, name text), as int8 and its key: the same table.
        Plan again = plan(new CreateTable(), """
                {"table":"users","columns":{"id":{"type":"int8"},"email":{"type":"text"},"name":{"type":"text"}},
                 "primary_key":["id"]}""", 15, catalog);
        assertThat(((Statement) again.steps().get(0)).sql()).startsWith("CREATE TABLE IF NOT EXISTS \"users\"");
        assertThat(((CatalogChange.CreateTable) ((Statement) again.steps().get(0)).change()).ifNotExists()).isTrue();
        refused(new CreateTable(), """
                {"table":"users","columns":{"id":{"type":"int8"},"email":{"type":"text"},"name":{"type":"text"}}}""",
                catalog, 21);
        refused(new CreateTable(), """
                {"table":"users","columns":{"id":{"type":"int"}},"primary_key":["id"]}""", catalog, 21);
        refused(new CreateTable(), """
                {"table":"users_pkey","columns":{"id":{"type":"int"}}}""", catalog, 21);
    }

    @Test
    void malformedRequestsAre12() {
        refused(new CreateTable(), """
                {"table":"t","columns":{}}""", users(), 12);
        // a string default that reads as SQL, as add_column refuses it: now for a date would be frozen at creation
        refused(new CreateTable(), """
                {"table":"t","columns":{"d":{"type":"date","default":"now"}}}""", users(), 12);
        refused(new CreateTable(), """
                {"table":"t","columns":{"u":{"type":"uuid","default":"gen_random_uuid()"}}}""", users(), 12);
        refused(new CreateTable(), """
                {"table":"t","columns":{"a":{"type":"int references users"}}}""", users(), 12);
        refused(new CreateTable(), """
                {"table":"t","columns":{"a":{"type":"int","default":1,"default_sql":"2"}}}""", users(), 12);
        refused(new CreateTable(), """
                {"table":"t","columns":{"a":{"type":"serial","default":1}}}""", users(), 12);
        refused(new CreateTable(), """
                {"table":"t","columns":{"a":{"type":"int"}},"primary_key":["a","a"]}""", users(), 12);
        refused(new CreateTable(), """
                {"table":"t","columns":{"a":{"type":"int","check":"a > 0"}}}""", users(), 12);
        refused(new CreateTable(), """
                {"table":"t","columns":{"a":{"type":"int","default_sql":"1; DROP TABLE users"}}}""", users(), 12);
        refused(new CreateTable(), """
                {"schema":"pg_catalog","table":"t","columns":{"a":{"type":"int"}}}""", users(), 22);
    }
}
