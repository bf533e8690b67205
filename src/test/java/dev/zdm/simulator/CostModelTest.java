package dev.zdm.simulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.zdm.config.Config;
import dev.zdm.pg.TableWork;
import org.junit.jupiter.api.Test;

class CostModelTest {

    final CostModel model = CostModel.DEFAULT;

    @Test
    void aConcurrentBuildOnTheDefaultCatalogReportsTheSeeds120Seconds() {
        double seconds = model.statement(TableWork.BUILD_INDEX_CONCURRENTLY, Config.DEFAULT_SIMULATED_ROWS);
        assertThat(CostModel.reported(seconds)).isEqualTo(120.0);
        assertThat(Config.DEFAULT_SIMULATED_ROWS).isEqualTo(6_000_000L);
    }

    @Test
    void aCatalogOnlyChangeReportsTheSeeds0point1Seconds() {
        assertThat(CostModel.reported(model.statement(TableWork.CATALOG_ONLY, 6_000_000))).isEqualTo(0.1);
        assertThat(model.statement(TableWork.CATALOG_ONLY, 0))
                .isEqualTo(model.statement(TableWork.CATALOG_ONLY, 1_000_000_000L));
    }

    @Test
    void buildTimeScalesWithRows() {
        double once = model.statement(TableWork.BUILD_INDEX_CONCURRENTLY, 6_000_000) - model.statementSeconds();
        double twice = model.statement(TableWork.BUILD_INDEX_CONCURRENTLY, 12_000_000) - model.statementSeconds();
        assertThat(twice).isCloseTo(2 * once, within(1e-9));
        assertThat(CostModel.reported(model.statement(TableWork.BUILD_INDEX_CONCURRENTLY, 12_000_000)))
                .isEqualTo(240.0);
    }

    @Test
    void aConcurrentBuildTakesTwoPassesAndAPlainOne() {
        double plain = model.statement(TableWork.BUILD_INDEX, 1_000_000) - model.statementSeconds();
        double concurrent = model.statement(TableWork.BUILD_INDEX_CONCURRENTLY, 1_000_000) - model.statementSeconds();
        assertThat(concurrent).isCloseTo(2 * plain, within(1e-9));
        assertThat(plain).isPositive();
    }

    @Test
    void rewritesAndScansCostRows() {
        assertThat(model.statement(TableWork.REWRITE, 6_000_000)).isGreaterThan(model.statement(TableWork.CATALOG_ONLY, 6_000_000));
        assertThat(model.statement(TableWork.SCAN, 6_000_000)).isGreaterThan(model.statement(TableWork.SCAN, 1));
    }

    @Test
    void theParametersDriveTheFigures() {
        CostModel slower = new CostModel(0.2, 50_000, 1_000_000, 200_000, 50_000, 0.005);
        assertThat(slower.statement(TableWork.CATALOG_ONLY, 10)).isEqualTo(0.2);
        assertThat(CostModel.reported(slower.statement(TableWork.BUILD_INDEX_CONCURRENTLY, 6_000_000))).isEqualTo(240.0);
    }

    @Test
    void batchesPayRowsCommitsAndSleepsBetween() {
        double noSleep = model.batches(10_000, 10, 0);
        double withSleep = model.batches(10_000, 10, 100);
        assertThat(withSleep - noSleep).as("9 sleeps between 10 batches").isCloseTo(0.9, within(1e-9));
        assertThat(model.batches(20_000, 20, 0)).isCloseTo(2 * noSleep, within(1e-9));
        assertThat(model.batches(0, 0, 1000)).isZero();
        assertThatThrownBy(() -> model.statement(TableWork.UPDATE_ROWS, 10))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void reportedKeepsThreeSignificantDigits() {
        assertThat(CostModel.reported(120.1)).isEqualTo(120.0);
        assertThat(CostModel.reported(0.1 + 0.2)).isEqualTo(0.3);
        assertThat(CostModel.reported(1234.5)).isEqualTo(1230.0);
        assertThat(CostModel.reported(0.012345)).isEqualTo(0.0123);
        assertThat(CostModel.reported(2.0)).isEqualTo(2.0);
        assertThat(CostModel.reported(0)).isZero();
        assertThat(CostModel.reported(99.96)).isEqualTo(100.0);
    }
}
