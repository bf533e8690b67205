package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.protocol.ErrorCode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** zdm's ledger and PostgreSQL's catalogs are no operation's target, in the simulator as on a server. */
class SystemSchemasTest {

    private final SimulatedNode node = new SimulatedNode();

    @ParameterizedTest
    @ValueSource(strings = {"zdm", "pg_catalog", "information_schema", "pg_toast", "pg_temp", "pg_temp_3",
            "pg_toast_temp_3"})
    void everyOperationOnATableThereIsRefused(String schema) {
        assertThat(node.fails("""
                {"type":"migrate_data","schema":"%s","table":"operations","batch_size":10,"set":{"state":"'done'"}}"""
                .formatted(schema)).code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThat(node.fails("""
                {"type":"add_column","schema":"%s","table":"operations","column":"x","data_type":"int"}"""
                .formatted(schema)).code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThat(node.fails("""
                {"type":"create_index","schema":"%s","table":"operations","column":"state"}"""
                .formatted(schema)).code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThat(node.fails("""
                {"type":"drop_column","schema":"%s","table":"operations","column":"state"}"""
                .formatted(schema)).code()).isEqualTo(ErrorCode.PRECONDITION_FAILED);
    }

    @ParameterizedTest
    @ValueSource(strings = {"public", "zdm_app", "pg_templates"})
    void aSchemaThatOnlyLooksLikeOneIsNot(String schema) {
        // The simulator's one table is unqualified users: a table in any named schema is one it lacks.
        assertThat(node.fails("""
                {"type":"create_index","schema":"%s","table":"operations","column":"state"}"""
                .formatted(schema)).code()).isEqualTo(ErrorCode.KEY_DOES_NOT_EXIST);
    }
}
