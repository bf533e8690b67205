package dev.zdm.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.KeyPosition;
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
            Checkpoints.create(c, first, "t_pkey id", KeyPosition.of("1000"), true);
            Checkpoints.advance(c, first, KeyPosition.of("500"), 500L, true);

            assertThat(Checkpoints.read(c, first)).hasValueSatisfying(s -> assertThat(s.lastKey()).isEqualTo(KeyPosition.of("500")));
            assertThat(Checkpoints.read(c, new Checkpoints.Binding(id, 1, 4242L, 6))).isEmpty();
            assertThat(Checkpoints.read(c, first)).as("forgotten, not kept aside").isEmpty();
        }
    }

    /** A checkpoint an older zdm wrote (bigint positions, no walk) is read as a position of one value. */
    @Test
    void anIntegerCheckpointOfAnOlderZdmIsReadAsAPosition() throws Exception {
        upgrade();
        try (Connection c = SharedPostgres.connect(); java.sql.Statement s = c.createStatement()) {
            long id = Ledger.begin(c, Fingerprint.of("ledger-test-old-checkpoint"), "migrate_data", "t", 4343L, "{}", "[]", true);
            s.execute("INSERT INTO zdm.checkpoints (operation_id, step, table_oid, last_key, end_key, rows_done, batches_done)"
                    + " VALUES (" + id + ", 0, 4343, 1200, 9000, 1200, 3)");
            Checkpoints.Binding binding = new Checkpoints.Binding(id, 0, 4343L, null);
            assertThat(Checkpoints.read(c, binding)).hasValueSatisfying(state -> {
                assertThat(state.lastKey()).isEqualTo(KeyPosition.of("1200"));
                assertThat(state.endKey()).isEqualTo(KeyPosition.of("9000"));
                assertThat(state.walk()).isNull();
                assertThat(state.rowsDone()).isEqualTo(1200);
            });
            // Written back along a walk by a key of text: no bigint to keep beside it.
            Checkpoints.advance(c, binding, KeyPosition.of("b'x", "2"), 10, false);
            assertThat(Checkpoints.read(c, binding)).hasValueSatisfying(state ->
                    assertThat(state.lastKey()).isEqualTo(KeyPosition.of("b'x", "2")));
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
