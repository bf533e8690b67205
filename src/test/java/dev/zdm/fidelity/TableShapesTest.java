package dev.zdm.fidelity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.zdm.fidelity.TableShapes.Shape;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The fuzzer's table shapes, without a server: switched by family, drawn per script, messages retargeted. */
class TableShapesTest {

    @Test
    void familiesSwitchShapesOnAndAnUnknownOneIsRefused() {
        assertThat(TableShapes.enabled("keys")).containsExactly(Shape.KEYS);
        assertThat(TableShapes.enabled("identity, partitioned")).containsExactly(Shape.IDENTITY_ALWAYS,
                Shape.IDENTITY_BY_DEFAULT, Shape.PARTITIONED_RANGE, Shape.PARTITIONED_LIST);
        assertThat(TableShapes.enabled("partitioned_list")).containsExactly(Shape.PARTITIONED_LIST);
        assertThat(TableShapes.enabled("all")).containsExactly(Shape.values());
        assertThatThrownBy(() -> TableShapes.enabled("keys,partitions")).hasMessageContaining("partitions");
    }

    /** A keys script is the one the generator made before shapes, whatever other shapes are on. */
    @Test
    void theGeneratorsStreamIsTheSameWhicheverShapesAreOn() {
        ScriptGenerator keysOnly = new ScriptGenerator(5, new TableShapes(5, "keys"));
        ScriptGenerator every = new ScriptGenerator(5, new TableShapes(5, "all"));
        int keys = 0;
        for (int i = 0; i < 200; i++) {
            Script a = keysOnly.next();
            Script b = every.next();
            assertThat(a.shape()).isEqualTo(Shape.KEYS);
            if (b.shape() == Shape.KEYS) {
                // Every third script is the catalogue's (CatalogueScripts), on users alone: not drawn.
                keys += (i + 1) % 3 == 0 ? 0 : 1;
                assertThat(b.jsonl()).isEqualTo(a.jsonl());
            } else {
                assertThat(b.rows()).isEqualTo(a.rows());
            }
        }
        // Some scripts keep the keys shape, most do not (catalogue scripts among them stay on keys).
        assertThat(keys).isBetween(5, 150);
    }

    /** Two shapes on: both come up (java.util.Random seeded one apart drew the first for every script). */
    @Test
    void everyShapeOnIsDrawnWhenTwoAreOn() {
        ScriptGenerator generator = new ScriptGenerator(9090, new TableShapes(9090, "search_path,schema"));
        Map<Shape, Integer> count = new java.util.EnumMap<>(Shape.class);
        for (int i = 0; i < 120; i++) {
            count.merge(generator.next().shape(), 1, Integer::sum);
        }
        assertThat(count.getOrDefault(Shape.SCHEMA, 0)).isBetween(20, 60);
        assertThat(count.getOrDefault(Shape.SEARCH_PATH, 0)).isBetween(20, 60);
    }

    @Test
    void everyShapeComesUpWithItsOwnTablesHoldersInEveryModeAndItsOwnOperations() {
        ScriptGenerator generator = new ScriptGenerator(11, new TableShapes(11, "all"));
        Map<Shape, Integer> count = new EnumMap<>(Shape.class);
        Set<String> customerModes = new HashSet<>();
        Set<String> holderTables = new HashSet<>();
        Map<String, Integer> sets = new HashMap<>();
        int repeats = 0;
        for (int i = 0; i < 1500; i++) {
            Script s = generator.next();
            count.merge(s.shape(), 1, Integer::sum);
            for (var m : s.messages()) {
                String table = m.path("table").asText();
                if (m.path("type").asText().equals("open_transaction")) {
                    holderTables.add(s.shape() + " " + table);
                    if (s.shape() == Shape.FOREIGN_KEY && table.equals("customers")) {
                        customerModes.add(m.path("mode").asText("none"));
                    }
                }
                if (s.shape() == Shape.SCHEMA && !table.equals("no_such_table") && m.has("schema")) {
                    assertThat(m.path("schema").asText()).isIn(TableShapes.OTHER_SCHEMA, "public");
                }
                m.path("set").fieldNames().forEachRemaining(c -> sets.merge(s.shape() + " " + c, 1, Integer::sum));
            }
            List<String> ops = s.messages().stream().filter(m -> !m.path("type").asText().endsWith("_transaction"))
                    .map(Object::toString).toList();
            repeats += s.shape() != Shape.KEYS && ops.size() == 2 && ops.get(0).equals(ops.get(1)) ? 1 : 0;
        }
        assertThat(count.keySet()).containsExactlyInAnyOrder(Shape.values());
        assertThat(customerModes).as("the referenced table held in each of the eight modes, or idle").hasSize(9);
        assertThat(holderTables).contains("PARTITIONED_RANGE users_p3a", "PARTITIONED_LIST users_us_low",
                "INHERITANCE users_kid1");
        assertThat(sets).containsKeys("FOREIGN_KEY customer_id", "IDENTITY_ALWAYS email_lower", "CONSTRAINED addr",
                "COMPOSITE tenant_id");
        assertThat(repeats).as("a message sent twice is still the same message on a shape").isGreaterThan(5);
    }

    @Test
    void everyShapeMakesItsTablesAndComparesThem() {
        for (Shape shape : Shape.values()) {
            List<String> sql = shape.setup(10, Script.Key.BIGINT, 15);
            for (var table : shape.compared()) {
                assertThat(String.join("\n", sql)).as(shape + " makes " + table).contains(table.value());
            }
        }
        assertThat(String.join("\n", Shape.IDENTITY_ALWAYS.setup(10, Script.Key.BIGINT, 11))).doesNotContain("STORED");
        assertThat(String.join("\n", Shape.IDENTITY_ALWAYS.setup(10, Script.Key.BIGINT, 12))).contains("STORED");
    }

    @Test
    void aRangeOfIdIsCountedOnlyWhereIdIsTheKeyAndAnAbsentReferencedRowIsData() {
        var mapper = dev.zdm.protocol.Json.MAPPER;
        var onId = mapper.createObjectNode().put("type", "migrate_data").put("where", "id > 100000");
        String predicted = "data_migrated total_rows=999 batches=1 table_locked=false";
        String seen = "data_migrated total_rows=0 batches=0 table_locked=false";
        assertThat(ScriptRunner.countsOfData(onId, seen, Shape.KEYS.keyLeadsWithId()))
                .isNotEqualTo(ScriptRunner.countsOfData(onId, predicted, Shape.KEYS.keyLeadsWithId()));
        assertThat(ScriptRunner.countsOfData(onId, seen, Shape.COMPOSITE.keyLeadsWithId()))
                .isEqualTo(ScriptRunner.countsOfData(onId, predicted, Shape.COMPOSITE.keyLeadsWithId()));
        var absent = mapper.createObjectNode().put("type", "migrate_data");
        absent.putObject("set").put("customer_id", "6");
        var present = mapper.createObjectNode().put("type", "migrate_data");
        present.putObject("set").put("customer_id", "customer_id % 5 + 1");
        assertThat(new Script("t", 10, Script.Key.BIGINT, List.of(absent), Shape.FOREIGN_KEY).dependsOnData()).isTrue();
        assertThat(new Script("t", 0, Script.Key.BIGINT, List.of(absent), Shape.FOREIGN_KEY).dependsOnData()).isFalse();
        assertThat(new Script("t", 10, Script.Key.BIGINT, List.of(present), Shape.FOREIGN_KEY).dependsOnData()).isFalse();
    }

    @Test
    void aShapesDisagreementIsKeptApartByWhatDiffers() {
        assertThat(FuzzReport.signature("message 2: simulator index_created index=\"i\" steps=[] | PostgreSQL error 22"))
                .isEqualTo("index_created / error 22");
        assertThat(FuzzReport.signature("message 1: simulator error 20 | PostgreSQL error 12 table=\"t\""))
                .isEqualTo("error 20 / error 12");
        assertThat(FuzzReport.signature("catalog: simulator columns: a | PostgreSQL columns: b")).isEqualTo("catalog");
        Script keys = new Script("t", 1, List.of());
        Script partitioned = new Script("t", 1, Script.Key.BIGINT, List.of(), Shape.PARTITIONED_RANGE);
        assertThat(FuzzReport.kind(keys, List.of("catalog: x"))).isEqualTo("UNEXPLAINED");
        assertThat(FuzzReport.kind(partitioned, List.of("catalog: x"))).isEqualTo("UNEXPLAINED (shape partitioned_range: catalog)");
    }

    /** The constrained shape's types, as format_type prints them (the typmod of a time type after its first word). */
    @Test
    void aTypeIsCanonicalAsFormatTypePrintsIt() {
        var facts = dev.zdm.pg.PgFacts.of(new dev.zdm.pg.ServerVersion(15));
        assertThat(CatalogShape.canonical(facts, "int")).isEqualTo("integer");
        assertThat(CatalogShape.canonical(facts, "varchar(20)")).isEqualTo("character varying(20)");
        assertThat(CatalogShape.canonical(facts, "numeric(10, 2)")).isEqualTo("numeric(10,2)");
        assertThat(CatalogShape.canonical(facts, "int[]")).isEqualTo("integer[]");
        assertThat(CatalogShape.canonical(facts, "timestamptz")).isEqualTo("timestamp with time zone");
        assertThat(CatalogShape.canonical(facts, "timestamp(3) with time zone")).isEqualTo("timestamp(3) with time zone");
        assertThat(CatalogShape.canonical(facts, "timestamp(3)")).isEqualTo("timestamp(3) without time zone");
        assertThat(CatalogShape.canonical(facts, "fuzz_mood")).isEqualTo("fuzz_mood");
    }
}
