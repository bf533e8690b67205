package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.zdm.pg.RetryPolicy;
import dev.zdm.schema.CatalogReader;
import dev.zdm.schema.Schema;
import dev.zdm.simulator.CostModel;
import dev.zdm.simulator.SimCatalog;
import dev.zdm.simulator.SimulatorEngine;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * drop_column names what depends on the column, the same on both engines (hostile report F4): a
 * generated column that reads it, a view, a foreign key of another table once, names as they are.
 * The simulator is given the schema --schema-from reads of this database.
 */
class DropColumnDependentsTest extends OnEmbeddedPostgres {

    private static Node simulator() throws Exception {
        Schema schema;
        try (Connection c = SharedPostgres.connect()) {
            schema = CatalogReader.read(c, line -> { });
        }
        return new Node(new SimulatorEngine(engine.version(), SimCatalog.of(schema, engine.version()), CostModel.DEFAULT,
                RetryPolicy.of(3)), BUDGET);
    }

    @Test
    void aGeneratedColumnThatReadsTheColumnIsNamedOnBothEnginesAndCascadeSaysItGoes() throws Exception {
        SharedPostgres.exec("DROP TABLE IF EXISTS dcd_gen",
                "CREATE TABLE dcd_gen (id int PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a + 1) STORED, c int)",
                "INSERT INTO dcd_gen (id, a, c) SELECT g, g, g FROM generate_series(1, 10) g");
        Node simulator = simulator();
        String drop = """
                {"type":"drop_column","table":"dcd_gen","column":"a"}""";

        for (Node on : List.of(node, simulator)) {
            ObjectNode refused = on.send(drop);
            assertThat(refused.get("code").asInt()).as(refused.toString()).isEqualTo(22);
            assertThat(refused.get("text").asText()).as(refused.toString())
                    .contains("is used by generated column b").doesNotContain("ALTER TABLE");
        }
        assertThat(simulator.send(drop).get("text").asText()).isEqualTo(node.send(drop).get("text").asText());

        String cascade = """
                {"type":"drop_column","table":"dcd_gen","column":"a","cascade":true,"explain":true}""";
        ObjectNode predicted = simulator.send(cascade);
        ObjectNode dropped = node.send(cascade);
        for (ObjectNode reply : List.of(predicted, dropped)) {
            assertThat(reply.get("type").asText()).as(reply.toString()).isEqualTo("column_dropped");
            assertThat(reply.get("notes").toString()).contains("cascade: dropped with the column: generated column b");
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'dcd_gen'::regclass"
                + " AND attname = 'b' AND NOT attisdropped")).isZero();
        // The model dropped b with it too: dropping it now is 20 on both.
        String dropB = """
                {"type":"drop_column","table":"dcd_gen","column":"b"}""";
        assertThat(simulator.send(dropB).get("code").asInt()).isEqualTo(20);
        assertThat(node.send(dropB).get("code").asInt()).isEqualTo(20);
    }

    @Test
    void aForeignKeyWithAnOddNameIsNamedOnceAndAViewIsNamedOnBothEngines() throws Exception {
        SharedPostgres.exec("DROP VIEW IF EXISTS dcd_v", "DROP TABLE IF EXISTS dcd_ord, dcd_cust",
                "CREATE TABLE dcd_cust (id int PRIMARY KEY, name text)",
                "CREATE TABLE dcd_ord (id int PRIMARY KEY, cust int,"
                        + " CONSTRAINT \"ord cust \"\"fk\"\"\" FOREIGN KEY (cust) REFERENCES dcd_cust)",
                "CREATE VIEW dcd_v AS SELECT id, name FROM dcd_cust");
        Node simulator = simulator();
        String dropId = """
                {"type":"drop_column","table":"dcd_cust","column":"id"}""";
        String dropName = """
                {"type":"drop_column","table":"dcd_cust","column":"name"}""";

        for (Node on : List.of(node, simulator)) {
            ObjectNode id = on.send(dropId);
            assertThat(id.get("code").asInt()).as(id.toString()).isEqualTo(22);
            String text = id.get("text").asText();
            assertThat(text).as(text).contains("constraint ord cust \"fk\" on table dcd_ord")
                    .doesNotContain("\"\"").contains("constraint dcd_cust_pkey").contains("view dcd_v");
            assertThat(text.split("ord cust", -1)).as(text).hasSize(2);
            ObjectNode name = on.send(dropName);
            assertThat(name.get("code").asInt()).as(name.toString()).isEqualTo(22);
            assertThat(name.get("text").asText()).contains("is used by view dcd_v");
        }
        assertThat(simulator.send(dropId).get("text").asText()).isEqualTo(node.send(dropId).get("text").asText());
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'dcd_cust'::regclass"
                + " AND attname IN ('id', 'name') AND NOT attisdropped")).isEqualTo(2);
    }
    @Test
    void aTriggerAndAPolicyThatReadTheColumnAreNamedOnBothEngines() throws Exception {
        SharedPostgres.exec("DROP TABLE IF EXISTS dcd_trg",
                "CREATE TABLE dcd_trg (id int PRIMARY KEY, a int, b int, owner text)",
                "CREATE OR REPLACE FUNCTION dcd_noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'",
                "CREATE TRIGGER dcd_on_a BEFORE UPDATE OF a ON dcd_trg FOR EACH ROW EXECUTE PROCEDURE dcd_noop()",
                "CREATE POLICY dcd_mine ON dcd_trg USING (owner = current_user)");
        Node simulator = simulator();
        for (Node on : List.of(node, simulator)) {
            ObjectNode a = on.send("""
                    {"type":"drop_column","table":"dcd_trg","column":"a"}""");
            assertThat(a.path("code").asInt()).as(a.toString()).isEqualTo(22);
            assertThat(a.path("text").asText()).as(a.toString()).contains("trigger dcd_on_a");
            ObjectNode owner = on.send("""
                    {"type":"drop_column","table":"dcd_trg","column":"owner"}""");
            assertThat(owner.path("code").asInt()).as(owner.toString()).isEqualTo(22);
            assertThat(owner.path("text").asText()).as(owner.toString()).contains("policy dcd_mine");
        }
        assertThat(SharedPostgres.number("SELECT count(*) FROM pg_attribute WHERE attrelid = 'dcd_trg'::regclass"
                + " AND attname IN ('a', 'owner') AND NOT attisdropped")).isEqualTo(2);
    }
}
