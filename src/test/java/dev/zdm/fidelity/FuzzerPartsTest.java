package dev.zdm.fidelity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The fuzzer's own parts, without a server: reproducible scripts, shrinking, and what depends on data, how batch counts compare. */
class FuzzerPartsTest {

    static List<String> scripts(long seed, int n) {
        ScriptGenerator generator = new ScriptGenerator(seed);
        List<String> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(generator.next().jsonl());
        }
        return all;
    }

    /** Every key a users table can have comes up, and a key range only where the key is one integer. */
    @Test
    void scriptsCoverEveryKeyAndAskForKeyRangesOnlyOfIntegerKeys() {
        ScriptGenerator generator = new ScriptGenerator(99);
        Set<Script.Key> keys = new HashSet<>();
        for (int i = 0; i < 400; i++) {
            Script script = generator.next();
            keys.add(script.key());
            for (var m : script.messages()) {
                if (!script.key().integer()) {
                    assertThat(m.path("where").asText()).as(script.jsonl()).doesNotStartWith("id ");
                }
            }
        }
        assertThat(keys).containsExactlyInAnyOrder(Script.Key.values());
    }

    /** Issue 14's refusals are sent: what the server refuses of create_table, a CHECK, inherited and identity columns. */
    @Test
    void theScriptsSendWhatTheServerRefusesOfTheCatalogue() {
        String all = String.join("\n", scripts(14141, 1000));
        assertThat(all).contains("\"xmin\"", "no_such_schema", "(SELECT 1)", "no_such_column > 0", "count(*) > 0",
                "generate_series(1, 2) > 0", "\"table\":\"users_kid2\"", "users_id_not_null",
                "\"type\":\"drop_default\",\"column\":\"email_lower\"");
    }

    @Test
    void theSameSeedGivesTheSameScriptsAndAnotherSeedOthers() {
        assertThat(scripts(7, 50)).isEqualTo(scripts(7, 50));
        assertThat(scripts(8, 50)).isNotEqualTo(scripts(7, 50));
    }

    @Test
    void theScriptsCoverEveryLockModeEveryOperationAndRepeats() {
        Set<String> modes = new HashSet<>();
        Set<String> types = new HashSet<>();
        ScriptGenerator generator = new ScriptGenerator(20261125L);
        int repeats = 0;
        for (int i = 0; i < 500; i++) {
            Script s = generator.next();
            s.messages().forEach(m -> {
                types.add(m.path("type").asText());
                if (m.path("type").asText().equals("open_transaction")) {
                    modes.add(m.path("mode").asText("none"));
                }
            });
            List<String> ops = s.messages().stream().filter(m -> !m.path("type").asText().endsWith("_transaction"))
                    .map(Object::toString).toList();
            repeats += ops.size() == 2 && ops.get(0).equals(ops.get(1)) ? 1 : 0;
        }
        assertThat(modes).hasSize(9);
        assertThat(types).contains("create_index", "add_column", "migrate_data", "open_transaction", "close_transaction");
        assertThat(repeats).isGreaterThan(10);
    }

    @Test
    void shrinkingKeepsOnlyWhatTheDisagreementNeeds() {
        ScriptGenerator generator = new ScriptGenerator(3);
        Script big = null;
        while (big == null || big.messages().size() < 3 || !big.any("create_index")) {
            big = generator.next();
        }
        // A stand-in disagreement: any script with a create_index still "disagrees".
        Script small = Shrinker.shrink(big, s -> s.any("create_index"));
        assertThat(small.messages()).hasSize(1);
        assertThat(small.messages().get(0).path("type").asText()).isEqualTo("create_index");
        assertThat(small.rows()).isLessThanOrEqualTo(big.rows());
    }

    @Test
    void onlyAUniqueIndexOnAddedDataMakesAScriptDependOnDataAndAConditionOffTheKeyOnlyItsCounts() {
        var mapper = dev.zdm.protocol.Json.MAPPER;
        var offTheKey = mapper.createObjectNode().put("type", "migrate_data").put("where", "email LIKE '%7%'");
        var onTheKey = mapper.createObjectNode().put("type", "migrate_data").put("where", "id > 100000");
        var uniqueOnAdded = mapper.createObjectNode().put("type", "create_index").put("column", "status").put("unique", true);
        var uniqueOnEmail = mapper.createObjectNode().put("type", "create_index").put("column", "email").put("unique", true);
        assertThat(new Script("t", 10, List.of(uniqueOnAdded)).dependsOnData()).isTrue();
        assertThat(new Script("t", 10, List.of(offTheKey, onTheKey, uniqueOnEmail)).dependsOnData()).isFalse();
        String predicted = "data_migrated total_rows=999 batches=1 table_locked=false lock=ROW EXCLUSIVE";
        String seen = "data_migrated total_rows=271 batches=1 table_locked=false lock=ROW EXCLUSIVE";
        assertThat(ScriptRunner.countsOfData(offTheKey, seen)).isEqualTo(ScriptRunner.countsOfData(offTheKey, predicted));
        assertThat(ScriptRunner.countsOfData(onTheKey, seen)).isNotEqualTo(ScriptRunner.countsOfData(onTheKey, predicted));
        assertThat(ScriptRunner.countsOfData(offTheKey, seen.replace("ROW EXCLUSIVE", "none")))
                .as("the lock is still compared").isNotEqualTo(ScriptRunner.countsOfData(offTheKey, predicted));
    }

    @Test
    void aBatchCountAboveTheFirstBatchIsComparedByWhatHoldsWhateverTheDurations() {
        var request = dev.zdm.protocol.Json.MAPPER.createObjectNode().put("type", "migrate_data").put("batch_size", 5000);
        String predicted = ScriptRunner.timeSizedBatches(request, "data_migrated total_rows=2500 batches=1 table_locked=false");
        String warmedUp = ScriptRunner.timeSizedBatches(request, "data_migrated total_rows=2500 batches=2 table_locked=false");
        String tooFew = ScriptRunner.timeSizedBatches(request, "data_migrated total_rows=12000 batches=2 table_locked=false");
        assertThat(warmedUp).isEqualTo(predicted);
        assertThat(tooFew).contains("batches=2 (fewer");
        var small = request.deepCopy().put("batch_size", 1000);
        assertThat(ScriptRunner.timeSizedBatches(small, "data_migrated total_rows=2500 batches=3 table_locked=false"))
                .endsWith("batches=3 table_locked=false");
    }
}
