package dev.zdm.postgres.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The pauses between runs of a batch that lost a deadlock: doubling, jittered, a few in a row at most. */
class ConflictRetryTest {

    @Test
    void pausesDoubleWithJitterAndTheSixthLossInARowGivesUp() {
        ConflictRetry lowest = new ConflictRetry(() -> 0.0);
        ConflictRetry highest = new ConflictRetry(() -> 0.999);
        List<Long> low = new ArrayList<>();
        List<Long> high = new ArrayList<>();
        for (int i = 0; i < ConflictRetry.MAX_RETRIES; i++) {
            low.add(lowest.lost().orElseThrow().toMillis());
            high.add(highest.lost().orElseThrow().toMillis());
        }
        assertThat(low).containsExactly(10L, 20L, 40L, 80L, 160L);
        assertThat(high).allSatisfy(ms -> assertThat(ms).isPositive());
        for (int i = 0; i < low.size(); i++) {
            assertThat(high.get(i)).as("jitter spreads pause %d", i).isGreaterThan(low.get(i) * 2 - 1);
        }
        assertThat(lowest.lost()).as("one loss too many").isEmpty();
        assertThat(lowest.inARow()).isEqualTo(ConflictRetry.MAX_RETRIES + 1);
        assertThat(lowest.retries()).isEqualTo(ConflictRetry.MAX_RETRIES);
    }

    @Test
    void aCommittedBatchStartsTheCountAgain() {
        ConflictRetry retry = new ConflictRetry(() -> 0.5);
        for (int i = 0; i < ConflictRetry.MAX_RETRIES; i++) {
            assertThat(retry.lost()).isPresent();
        }
        retry.committed();
        Optional<Duration> again = retry.lost();
        assertThat(again).contains(ConflictRetry.FIRST_PAUSE);
        assertThat(retry.retries()).isEqualTo(ConflictRetry.MAX_RETRIES + 1);
    }
}
