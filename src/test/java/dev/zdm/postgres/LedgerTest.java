package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.postgres.ledger.Checkpoints;
import dev.zdm.postgres.ledger.Fingerprint;
import dev.zdm.postgres.ledger.Ledger;
import dev.zdm.postgres.ledger.LedgerSchema;
import java.sql.Connection;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The ledger's own rules: created once, upgraded idempotently, checkpoints bound to what they fill. */
class LedgerTest {

    @Test
    void upgradingTwiceAndFromTwoConnectionsAtOnceLeavesOneVersion() throws Exception {
        CompletableFuture<Void> a = CompletableFuture.runAsync(LedgerTest::upgrade);
        CompletableFuture<Void> b = CompletableFuture.runAsync(LedgerTest::upgrade);
        a.get();
        b.get();
        upgrade();

        assertThat(SharedPostgres.number("SELECT count(*) FROM zdm.schema_version")).isEqualTo(1);
        assertThat(SharedPostgres.number("SELECT version FROM zdm.schema_version"))
                .isEqualTo(LedgerSchema.latestVersion());
    }

    @Test
    void aFingerprintsLockKeyIsTheFirstEightBytesOfItsHex() {
        Fingerprint f = Fingerprint.of("create_index:IndexSpec[table=users]");
        assertThat(Fingerprint.ofHex(f.hex())).isEqualTo(f);
        assertThat(f.hex()).hasSize(64);
        assertThat(Fingerprint.of("create_index:IndexSpec[table=users]")).isEqualTo(f);
        assertThat(Fingerprint.of("create_index:IndexSpec[table=other]").lockKey()).isNotEqualTo(f.lockKey());
    }

    @Test
    void aCheckpointBoundToAnotherAttnumIsForgotten() throws Exception {
        upgrade();
        try (Connection c = SharedPostgres.connect()) {
            long id = Ledger.begin(c, Fingerprint.of("ledger-test-binding"), "add_column", "t", 4242L, "{}", "[]", true);
            Checkpoints.Binding first = new Checkpoints.Binding(id, 1, 4242L, 5);
            Checkpoints.create(c, first, 1_000L);
            Checkpoints.advance(c, first, 500L, 500L);

            assertThat(Checkpoints.read(c, first)).hasValueSatisfying(s -> assertThat(s.lastKey()).isEqualTo(500L));
            assertThat(Checkpoints.read(c, new Checkpoints.Binding(id, 1, 4242L, 6))).isEmpty();
            assertThat(Checkpoints.read(c, first)).as("forgotten, not kept aside").isEmpty();
        }
    }

    private static void upgrade() {
        try (Connection c = SharedPostgres.connect()) {
            LedgerSchema.upgrade(c);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
