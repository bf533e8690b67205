package dev.zdm.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class LockModeTest {

    /**
     * The PostgreSQL manual's table "Conflicting Lock Modes" (doc/src/sgml/mvcc.sgml, section
     * "Table-Level Locks"), typed in as the manual lays it out: one row per requested lock mode, one
     * column per existing lock mode, an X where they conflict, the manual's abbreviations kept.
     */
    static final String MANUAL_TABLE = """
            Requested Lock Mode | ACCESS SHARE | ROW SHARE | ROW EXCL. | SHARE UPDATE EXCL. | SHARE | SHARE ROW EXCL. | EXCL. | ACCESS EXCL.
            ACCESS SHARE        |              |           |           |                    |       |                 |       |      X
            ROW SHARE           |              |           |           |                    |       |                 |   X   |      X
            ROW EXCL.           |              |           |           |                    |   X   |        X        |   X   |      X
            SHARE UPDATE EXCL.  |              |           |           |         X          |   X   |        X        |   X   |      X
            SHARE               |              |           |     X     |         X          |       |        X        |   X   |      X
            SHARE ROW EXCL.     |              |           |     X     |         X          |   X   |        X        |   X   |      X
            EXCL.               |              |     X     |     X     |         X          |   X   |        X        |   X   |      X
            ACCESS EXCL.        |      X       |     X     |     X     |         X          |   X   |        X        |   X   |      X
            """;

    record Cell(LockMode requested, LockMode existing, boolean conflicts) {
    }

    /** The manual's spelling ("SHARE UPDATE EXCL.") to the enum, independently of LockMode.parse. */
    static LockMode manualName(String text) {
        String full = text.trim().replace("EXCL.", "EXCLUSIVE").replace(' ', '_').toUpperCase(Locale.ROOT);
        return LockMode.valueOf(full);
    }

    static List<Cell> parseManualTable() {
        List<String> lines = MANUAL_TABLE.lines().filter(l -> !l.isBlank()).toList();
        String[] header = lines.get(0).split("\\|", -1);
        List<LockMode> existing = Arrays.stream(header).skip(1).map(LockModeTest::manualName).toList();
        List<Cell> cells = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] fields = line.split("\\|", -1);
            if (fields.length != header.length) {
                throw new IllegalStateException("row has " + fields.length + " fields: " + line);
            }
            LockMode requested = manualName(fields[0]);
            for (int i = 1; i < fields.length; i++) {
                String mark = fields[i].trim();
                if (!mark.isEmpty() && !mark.equals("X")) {
                    throw new IllegalStateException("not an X: '" + mark + "' in " + line);
                }
                cells.add(new Cell(requested, existing.get(i - 1), mark.equals("X")));
            }
        }
        return cells;
    }

    static Stream<Arguments> manualCells() {
        return parseManualTable().stream()
                .map(c -> Arguments.of(c.requested(), c.existing(), c.conflicts()));
    }

    @Test
    void theTypedTableHasEveryPairOnceInTheManualsOrder() {
        List<Cell> cells = parseManualTable();
        assertThat(cells).hasSize(64);
        assertThat(cells.stream().map(c -> List.of(c.requested(), c.existing())).distinct()).hasSize(64);
        // The manual lists the modes weakest first, as the enum does.
        assertThat(cells.stream().limit(8).map(Cell::existing)).containsExactly(LockMode.values());
        assertThat(cells.stream().filter(Cell::conflicts)).hasSize(38);
    }

    @ParameterizedTest(name = "requested {0}, existing {1}: conflict = {2}")
    @MethodSource("manualCells")
    void eachCellMatchesTheManual(LockMode requested, LockMode existing, boolean conflicts) {
        assertThat(requested.conflictsWith(existing)).isEqualTo(conflicts);
    }

    @Test
    void conflictsAreSymmetric() {
        for (LockMode a : LockMode.values()) {
            for (LockMode b : LockMode.values()) {
                assertThat(a.conflictsWith(b)).as("%s vs %s", a, b).isEqualTo(b.conflictsWith(a));
            }
        }
    }

    @Test
    void blocksReadsAndWritesPerMode() {
        Map<LockMode, boolean[]> expected = new EnumMap<>(LockMode.class);
        // mode -> {blocks SELECT (ACCESS SHARE), blocks INSERT/UPDATE/DELETE (ROW EXCLUSIVE)}
        expected.put(LockMode.ACCESS_SHARE, new boolean[] {false, false});
        expected.put(LockMode.ROW_SHARE, new boolean[] {false, false});
        expected.put(LockMode.ROW_EXCLUSIVE, new boolean[] {false, false});
        expected.put(LockMode.SHARE_UPDATE_EXCLUSIVE, new boolean[] {false, false});
        expected.put(LockMode.SHARE, new boolean[] {false, true});
        expected.put(LockMode.SHARE_ROW_EXCLUSIVE, new boolean[] {false, true});
        expected.put(LockMode.EXCLUSIVE, new boolean[] {false, true});
        expected.put(LockMode.ACCESS_EXCLUSIVE, new boolean[] {true, true});
        assertThat(expected).hasSize(LockMode.values().length);
        expected.forEach((mode, blocks) -> {
            assertThat(mode.blocksReads()).as("%s blocks reads", mode).isEqualTo(blocks[0]);
            assertThat(mode.blocksWrites()).as("%s blocks writes", mode).isEqualTo(blocks[1]);
        });
    }

    @Test
    void strengthFollowsTheManualsOrder() {
        assertThat(LockMode.ACCESS_EXCLUSIVE.isStrongerThan(LockMode.EXCLUSIVE)).isTrue();
        assertThat(LockMode.SHARE.isStrongerThan(LockMode.SHARE_UPDATE_EXCLUSIVE)).isTrue();
        assertThat(LockMode.ACCESS_SHARE.isStrongerThan(LockMode.ROW_SHARE)).isFalse();
        assertThat(LockMode.SHARE.isStrongerThan(LockMode.SHARE)).isFalse();
    }

    @Test
    void namesAreThoseOfLockTableAndPgLocks() {
        assertThat(Arrays.stream(LockMode.values()).map(LockMode::sqlName)).containsExactly(
                "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE",
                "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE");
        assertThat(Arrays.stream(LockMode.values()).map(LockMode::pgLocksName)).containsExactly(
                "AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
                "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock");
    }

    @ParameterizedTest
    @EnumSource(LockMode.class)
    void parseAcceptsEverySpelling(LockMode mode) {
        List<String> spellings = List.of(
                mode.sqlName(),
                mode.sqlName().toLowerCase(Locale.ROOT),
                "  " + mode.sqlName().replace(" ", "   ") + " ",
                mode.pgLocksName(),
                mode.pgLocksName().toLowerCase(Locale.ROOT),
                mode.name(),
                mode.name().toLowerCase(Locale.ROOT),
                mode.sqlName() + " LOCK");
        for (String spelling : spellings) {
            assertThat(LockMode.parse(spelling)).as("parse(\"%s\")", spelling).isEqualTo(mode);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "lock", "ROW", "EXCLUSIVE ROW", "SHARE EXCLUSIVE", "ACCESS", "AccessShare Lock x",
            "access-share", "ACCESS SHARE; DROP TABLE users"})
    void parseRejectsWhatIsNoMode(String text) {
        assertThatThrownBy(() -> LockMode.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a table lock mode");
    }
}
