package dev.zdm.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.pg.CatalogView;
import dev.zdm.pg.ServerVersion;
import dev.zdm.pg.SqlName;
import dev.zdm.protocol.Json;
import dev.zdm.simulator.SimCatalog;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchemaFileTest {

    static SqlName n(String name) {
        return SqlName.of(name);
    }

    @Test
    void theExampleReadsAsWritten() {
        Schema schema = SchemaFile.read(Path.of("examples/schema.json"));
        assertThat(schema.serverVersion()).isEqualTo(16);
        assertThat(schema.tables().keySet()).containsExactly(n("users"), n("orders"), n("events"));
        Schema.Table orders = schema.tables().get(n("orders"));
        assertThat(orders.rows()).isEqualTo(1_000_000);
        assertThat(orders.columns().keySet()).containsExactly(n("id"), n("user_id"), n("total"), n("status"));
        assertThat(orders.columns().get(n("total")).type().sql()).isEqualTo("numeric(10,2)");
        assertThat(orders.columns().get(n("status")).defaultSql()).isEqualTo("'new'::text");
        assertThat(orders.columns().get(n("user_id")).nullable()).isFalse();
        assertThat(orders.indexes().get(n("idx_user_id")).valid()).isFalse();
        assertThat(schema.otherRelations()).containsExactly(n("users_id_seq"), n("active_users"));
    }

    @Test
    void theSimulatorKnowsExactlyTheSchema() {
        SimCatalog catalog = SimCatalog.of(SchemaFile.read(Path.of("examples/schema.json")), ServerVersion.DEFAULT);
        assertThat(catalog.isOpenWorld()).isFalse();
        assertThat(catalog.tableExists(n("orders"))).isTrue();
        assertThat(catalog.tableExists(n("invoices"))).isFalse();
        assertThat(catalog.column(n("orders"), n("placed_at"))).isEqualTo(CatalogView.Presence.ABSENT);
        assertThat(catalog.index(n("idx_user_id"))).contains(CatalogView.IndexState.INVALID);
        assertThat(catalog.index(n("orders_pkey"))).as("a primary key has its index").contains(CatalogView.IndexState.VALID);
        assertThat(catalog.relationExists(n("users_id_seq"))).isTrue();
        assertThat(catalog.uniqueKeys(n("events"))).isEmpty();
        assertThat(catalog.hasRows(n("events"))).isFalse();
    }

    @Test
    void aNotNullCheckIsFollowedThroughValidation() throws Exception {
        Schema schema = SchemaFile.parse(Json.MAPPER.readTree("""
                {"tables": {"t": {"rows": 5, "columns": {"id": {"type": "int"}, "c": {"type": "text"}},
                 "constraints": {"t_c_not_null": {"type": "check", "definition": "CHECK ((c IS NOT NULL)) NOT VALID", "validated": false}}}}}"""));
        assertThat(schema.tables().get(n("t")).checks()).containsEntry(n("t_c_not_null"), new Schema.NotNullCheck(n("c"), false));
        assertThat(SimCatalog.of(schema, ServerVersion.DEFAULT).table(n("t")).checks()).hasSize(1);
    }

    @Test
    void aTypoIsAnErrorThatSaysWhere() throws Exception {
        assertThatThrownBy(() -> SchemaFile.parse(Json.MAPPER.readTree("""
                {"tables": {"t": {"rows": 5, "colums": {}}}}"""))).hasMessageContaining("tables.t: unknown key 'colums'");
        assertThatThrownBy(() -> SchemaFile.parse(Json.MAPPER.readTree("""
                {"tables": {"t": {"columns": {"id": {"type": "int unique"}}}}}"""))).hasMessageContaining("not a column type");
        assertThatThrownBy(() -> SchemaFile.parse(Json.MAPPER.readTree("""
                {"tables": {"t": {"columns": {"id": {"type": "int"}}, "primary_key": ["key"]}}}"""))).hasMessageContaining("no column key");
        assertThatThrownBy(() -> SchemaFile.parse(Json.MAPPER.readTree("""
                {"tables": {"": {"columns": {}}}}"""))).hasMessageContaining("'' is not an SQL name");
        // A name is exact: T is its own table, not t.
        assertThat(SchemaFile.parse(Json.MAPPER.readTree("""
                {"tables": {"T": {"columns": {}}}}""")).tables()).containsOnlyKeys(dev.zdm.pg.SqlName.of("T"));
        assertThat(List.of()).isEmpty();
    }

    /** A file names each link once, from the child; the parent's children and the partition key follow. */
    @Test
    void partitionsAndInheritanceChildrenAreLinkedFromTheChild() throws Exception {
        Schema schema = SchemaFile.parse(Json.MAPPER.readTree("""
                {"tables": {"sales": {"columns": {"id": {"type": "bigint"}, "region": {"type": "text"}},
                                      "partition_by": ["region", null]},
                            "sales_eu": {"columns": {"id": {"type": "bigint"}, "region": {"type": "text"}},
                                         "partition_of": "sales"},
                            "events": {"columns": {"id": {"type": "bigint"}}}},
                 "schemas": {"archive": {"events_old": {"columns": {"id": {"type": "bigint"}}, "inherits": "events"}}}}"""));
        SimCatalog catalog = SimCatalog.of(schema, ServerVersion.DEFAULT);
        assertThat(catalog.lineage(n("sales")).partitionKey()).containsExactly(n("region"), null);
        assertThat(catalog.lineage(n("sales")).children()).containsExactly(n("sales_eu"));
        assertThat(catalog.lineage(n("sales_eu")).partition()).isTrue();
        assertThat(catalog.lineage(n("sales_eu")).parent()).isEqualTo(n("sales"));
        assertThat(catalog.lineage(n("events")).children()).containsExactly(SqlName.table("archive", "events_old"));
        assertThat(catalog.lineage(SqlName.table("archive", "events_old")).inheritanceChild()).isTrue();
        assertThat(catalog.lineage(n("events")).partitioned()).isFalse();

        assertThatThrownBy(() -> SchemaFile.parse(Json.MAPPER.readTree("""
                {"tables": {"t": {"columns": {"id": {"type": "bigint"}}, "partition_of": "events"},
                            "events": {"columns": {"id": {"type": "bigint"}}}}}""")))
                .hasMessageContaining("t: partition_of events, which has no partition_by");
        assertThatThrownBy(() -> SchemaFile.parse(Json.MAPPER.readTree("""
                {"tables": {"t": {"columns": {"id": {"type": "bigint"}}, "partition_by": ["nope"]}}}""")))
                .hasMessageContaining("t.partition_by: no column nope");
    }

    /** An expression in the key is written as itself: the columns it reads are what a set may not assign. */
    @Test
    void aKeyExpressionNamesTheColumnsItReads() throws Exception {
        Schema schema = SchemaFile.parse(Json.MAPPER.readTree("""
                {"tables": {"acc": {"columns": {"id": {"type": "bigint"}, "email": {"type": "text"}, "n": {"type": "int"}},
                                    "partition_by": [{"expression": "lower(email)"}]},
                            "acc_a": {"columns": {"id": {"type": "bigint"}, "email": {"type": "text"}, "n": {"type": "int"}},
                                      "partition_of": "acc", "primary_key": ["id"]}}}"""));
        SimCatalog catalog = SimCatalog.of(schema, ServerVersion.DEFAULT);
        assertThat(catalog.lineage(n("acc")).partitionKey()).containsExactly((SqlName) null);
        assertThat(catalog.lineage(n("acc")).keyExpressionColumns()).containsExactly(n("email"));
        assertThatThrownBy(() -> SchemaFile.parse(Json.MAPPER.readTree("""
                {"tables": {"t": {"columns": {"id": {"type": "bigint"}}, "partition_by": [{"expr": "id"}]}}}""")))
                .hasMessageContaining("t.partition_by: an element is a column name, null, or");
    }
}
