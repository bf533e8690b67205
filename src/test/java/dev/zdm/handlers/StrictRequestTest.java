package dev.zdm.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.SqlName;
import dev.zdm.protocol.ErrorCode;
import dev.zdm.protocol.ZdmException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Input zdm would otherwise ignore or misread is error 12, before anything runs. */
class StrictRequestTest {

    private final SimulatedNode node = new SimulatedNode();

    @Test
    void an_unknown_field_is_12_naming_it_and_the_known_ones_and_nothing_runs() {
        ZdmException e = node.fails("""
                {"type":"add_column","table":"users","column":"status","default":"active","dry_run":true}""");
        assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED_REQUEST);
        assertThat(e.getMessage()).contains("'dry_run'", "plan: true", "known: table, column, data_type, default",
                "max_lock_duration_ms", "explain");
        assertThat(node.engine.model().columns(SqlName.of("users"))).doesNotContain(SqlName.of("status"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"type\":\"create_index\",\"table\":\"users\",\"column\":\"email\",\"sleep_ms\":5}",
            "{\"type\":\"migrate_data\",\"table\":\"users\",\"batch_size\":10,\"concurrently\":true}",
            "{\"type\":\"open_transaction\",\"session\":\"s\",\"table\":\"users\",\"explain\":true}",
            "{\"type\":\"close_transaction\",\"session\":\"s\",\"table\":\"users\"}"})
    void each_message_knows_only_its_own_fields(String body) {
        assertThat(node.fails(body).code()).isEqualTo(ErrorCode.MALFORMED_REQUEST);
    }

    @Test
    void every_field_a_handler_declares_is_accepted() {
        assertThat(node.send("""
                {"type":"create_index","table":"users","columns":["email"],"index":"i","unique":false,
                 "concurrently":true,"explain":false,"plan":false,"max_lock_duration_ms":1000}""").get("type").asText())
                .isEqualTo("index_created");
        assertThat(node.send("""
                {"type":"add_column","table":"users","column":"c","data_type":"int","default":1,"nullable":false,
                 "safe":true,"sleep_ms":0,"max_replica_lag_ms":1000,"max_active_sessions":10,"max_throttle_ms":1000}""")
                .get("type").asText()).isEqualTo("column_added");
        assertThat(node.send("""
                {"type":"migrate_data","table":"users","batch_size":1000,"total_rows":10,"set":{"name":"upper(name)"},
                 "where":"id > 0","sleep_ms":0}""").get("type").asText()).isEqualTo("data_migrated");
    }

    @ParameterizedTest
    @ValueSource(strings = {"now()", " now() + interval '1 day'", "gen_random_uuid()", "nextval('s')",
            "pg_catalog.now()", "CURRENT_TIMESTAMP", "current_date", "LocalTimestamp", "current_user", "NULL",
            "default"})
    void a_string_default_that_reads_as_sql_is_12_pointing_to_default_sql(String text) {
        ZdmException e = node.fails("{\"type\":\"add_column\",\"table\":\"users\",\"column\":\"c\",\"data_type\":\"text\","
                + "\"default\":" + dev.zdm.protocol.Json.MAPPER.valueToTree(text) + "}");
        assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED_REQUEST);
        assertThat(e.getMessage()).contains("default_sql");
        assertThat(node.engine.model().columns(SqlName.of("users"))).doesNotContain(SqlName.of("c"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"timestamptz", "timestamp with time zone", "date", "time(3)", "timestamp"})
    void now_and_today_for_a_date_or_time_column_are_12_for_postgresql_freezes_them(String type) {
        for (String word : new String[] {"now", "Today", "tomorrow", "yesterday"}) {
            ZdmException e = node.fails("{\"type\":\"add_column\",\"table\":\"users\",\"column\":\"c\",\"data_type\":\""
                    + type + "\",\"default\":\"" + word + "\"}");
            assertThat(e.getMessage()).contains("frozen", "default_sql");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"now", "active", "Pending (manual)", "user name", "f (x)", "'quoted'", "::1", ""})
    void other_strings_are_stored_as_text(String text) {
        var reply = node.send("{\"type\":\"add_column\",\"table\":\"users\",\"column\":\"c\",\"default\":"
                + dev.zdm.protocol.Json.MAPPER.valueToTree(text) + "}");
        assertThat(reply.get("type").asText()).isEqualTo("column_added");
    }

    @Test
    void the_text_of_a_function_call_is_stored_through_default_sql() {
        assertThat(node.send("""
                {"type":"add_column","table":"users","column":"c","default_sql":"'now()'"}""").get("type").asText())
                .isEqualTo("column_added");
    }

    /**
     * Two set keys that PostgreSQL reads as one column would leave which one wins to chance; keys that
     * name two columns are two assignments. Which pairs are which is SqlName's rule, whatever it is.
     */
    @Test
    void set_keys_naming_one_column_are_12_and_keys_naming_two_are_two() {
        // Names are exact identifiers: "name" and "NAME" are two columns, and users has no "NAME".
        String body = """
                {"type":"migrate_data","table":"users","batch_size":1000,"set":{"name":"upper(name)","NAME":"lower(name)"}}""";
        ZdmException e = node.fails(body);
        assertThat(e.code()).isEqualTo(ErrorCode.KEY_DOES_NOT_EXIST);
        assertThat(e.getMessage()).contains("NAME");
    }
}
