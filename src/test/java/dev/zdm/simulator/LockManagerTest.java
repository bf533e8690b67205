package dev.zdm.simulator;

import static dev.zdm.pg.LockMode.ACCESS_EXCLUSIVE;
import static dev.zdm.pg.LockMode.ACCESS_SHARE;
import static dev.zdm.pg.LockMode.ROW_EXCLUSIVE;
import static dev.zdm.pg.LockMode.SHARE;
import static dev.zdm.pg.LockMode.SHARE_UPDATE_EXCLUSIVE;
import static dev.zdm.simulator.LockManager.Result.GRANTED;
import static dev.zdm.simulator.LockManager.Result.WAITING;
import static org.assertj.core.api.Assertions.assertThat;

import dev.zdm.pg.SqlName;
import org.junit.jupiter.api.Test;

class LockManagerTest {

    static final SqlName USERS = SqlName.of("users");
    static final SqlName ORDERS = SqlName.of("orders");

    final LockManager locks = new LockManager();

    @Test
    void compatibleModesAreGrantedTogether() {
        assertThat(locks.request("reader", USERS, ACCESS_SHARE)).isEqualTo(GRANTED);
        assertThat(locks.request("writer", USERS, ROW_EXCLUSIVE)).isEqualTo(GRANTED);
        assertThat(locks.request("cic", USERS, SHARE_UPDATE_EXCLUSIVE)).isEqualTo(GRANTED);
        assertThat(locks.isGranted("reader", USERS, ACCESS_SHARE)).isTrue();
        assertThat(locks.isGranted("writer", USERS, ROW_EXCLUSIVE)).isTrue();
        assertThat(locks.isGranted("cic", USERS, SHARE_UPDATE_EXCLUSIVE)).isTrue();
        assertThat(locks.isWaiting("cic", USERS)).isFalse();
    }

    @Test
    void aConflictingRequestWaitsAndNamesItsBlocker() {
        locks.request("writer", USERS, ROW_EXCLUSIVE);
        assertThat(locks.request("ddl", USERS, SHARE)).isEqualTo(WAITING);
        assertThat(locks.isWaiting("ddl", USERS)).isTrue();
        assertThat(locks.isGranted("ddl", USERS, SHARE)).isFalse();
        assertThat(locks.blockers("ddl", USERS)).containsExactly("writer");
    }

    @Test
    void locksOnOtherTablesDoNotConflict() {
        locks.request("app", ORDERS, ACCESS_EXCLUSIVE);
        assertThat(locks.request("ddl", USERS, ACCESS_EXCLUSIVE)).isEqualTo(GRANTED);
    }

    @Test
    void aPendingAccessExclusiveQueuesNewReadersBehindIt() {
        assertThat(locks.request("reader1", USERS, ACCESS_SHARE)).isEqualTo(GRANTED);
        assertThat(locks.request("ddl", USERS, ACCESS_EXCLUSIVE)).isEqualTo(WAITING);
        // The outage: a new reader conflicts with nothing granted, yet waits behind the queued DDL.
        assertThat(locks.request("reader2", USERS, ACCESS_SHARE)).isEqualTo(WAITING);

        assertThat(locks.blockers("ddl", USERS)).containsExactly("reader1");
        assertThat(locks.blockers("reader2", USERS)).containsExactly("ddl");
        assertThat(locks.blockers("reader1", USERS)).as("a holder waits for nobody").isEmpty();
    }

    @Test
    void blockersListsEveryConflictingHolderAndNotTheCompatibleOnes() {
        locks.request("reader", USERS, ACCESS_SHARE);
        locks.request("writer1", USERS, ROW_EXCLUSIVE);
        locks.request("writer2", USERS, ROW_EXCLUSIVE);
        assertThat(locks.request("ddl", USERS, SHARE)).isEqualTo(WAITING);
        assertThat(locks.blockers("ddl", USERS)).containsExactlyInAnyOrder("writer1", "writer2");
        assertThat(locks.holdersConflictingWith(USERS, SHARE, "nobody")).containsExactlyInAnyOrder("writer1", "writer2");
        assertThat(locks.holdersConflictingWith(USERS, SHARE, "writer1")).containsExactly("writer2");
    }

    @Test
    void releasingWakesTheQueueInOrder() {
        locks.request("reader1", USERS, ACCESS_SHARE);
        locks.request("ddl", USERS, ACCESS_EXCLUSIVE);
        locks.request("reader2", USERS, ACCESS_SHARE);

        locks.releaseAll("reader1");

        // The DDL was first in line: it gets the table, the reader behind it still waits.
        assertThat(locks.isGranted("ddl", USERS, ACCESS_EXCLUSIVE)).isTrue();
        assertThat(locks.isWaiting("ddl", USERS)).isFalse();
        assertThat(locks.isWaiting("reader2", USERS)).isTrue();
        assertThat(locks.blockers("reader2", USERS)).containsExactly("ddl");

        locks.releaseAll("ddl");
        assertThat(locks.isGranted("reader2", USERS, ACCESS_SHARE)).isTrue();
        assertThat(locks.isWaiting("reader2", USERS)).isFalse();
    }

    @Test
    void wakingGrantsEveryCompatibleWaiterButNoneBehindAConflictingOne() {
        locks.request("ddl", USERS, ACCESS_EXCLUSIVE);
        locks.request("r1", USERS, ACCESS_SHARE);
        locks.request("r2", USERS, ACCESS_SHARE);
        locks.request("share", USERS, SHARE);
        locks.request("w1", USERS, ROW_EXCLUSIVE);

        locks.releaseAll("ddl");

        assertThat(locks.isGranted("r1", USERS, ACCESS_SHARE)).isTrue();
        assertThat(locks.isGranted("r2", USERS, ACCESS_SHARE)).isTrue();
        assertThat(locks.isGranted("share", USERS, SHARE)).isTrue();
        // ROW EXCLUSIVE conflicts with the SHARE just granted.
        assertThat(locks.isWaiting("w1", USERS)).isTrue();
        assertThat(locks.blockers("w1", USERS)).containsExactly("share");
    }

    @Test
    void aWaiterBehindAnotherConflictingWaiterStaysQueuedWhenTheHolderGoes() {
        locks.request("writer", USERS, ROW_EXCLUSIVE);
        locks.request("share1", USERS, SHARE);             // waits for writer
        locks.request("writer2", USERS, ROW_EXCLUSIVE);    // compatible with writer, but queued behind share1
        assertThat(locks.isWaiting("writer2", USERS)).isTrue();

        locks.releaseAll("writer");

        assertThat(locks.isGranted("share1", USERS, SHARE)).isTrue();
        assertThat(locks.isWaiting("writer2", USERS)).isTrue();
    }

    @Test
    void cancelWaitingLetsTheQueuedReaderThrough() {
        locks.request("reader1", USERS, ACCESS_SHARE);
        locks.request("ddl", USERS, ACCESS_EXCLUSIVE);
        locks.request("reader2", USERS, ACCESS_SHARE);
        assertThat(locks.isWaiting("reader2", USERS)).isTrue();

        locks.cancelWaiting("ddl", USERS); // lock_timeout fired

        assertThat(locks.isWaiting("ddl", USERS)).isFalse();
        assertThat(locks.isGranted("ddl", USERS, ACCESS_EXCLUSIVE)).isFalse();
        assertThat(locks.isGranted("reader2", USERS, ACCESS_SHARE)).isTrue();
        assertThat(locks.isGranted("reader1", USERS, ACCESS_SHARE)).isTrue();
    }

    @Test
    void cancelWaitingKeepsTheCancelledHoldersGrants() {
        locks.request("ddl", USERS, ACCESS_SHARE);
        locks.request("app", USERS, ACCESS_SHARE);
        assertThat(locks.request("ddl", USERS, ACCESS_EXCLUSIVE)).isEqualTo(WAITING);
        assertThat(locks.blockers("ddl", USERS)).containsExactly("app");

        locks.cancelWaiting("ddl", USERS);

        assertThat(locks.isWaiting("ddl", USERS)).isFalse();
        assertThat(locks.isGranted("ddl", USERS, ACCESS_SHARE)).isTrue();
        assertThat(locks.isGranted("ddl", USERS, ACCESS_EXCLUSIVE)).isFalse();
    }

    @Test
    void ownLocksNeverConflict() {
        assertThat(locks.request("tx", USERS, ACCESS_SHARE)).isEqualTo(GRANTED);
        assertThat(locks.request("tx", USERS, ACCESS_EXCLUSIVE)).isEqualTo(GRANTED);
        assertThat(locks.request("tx", USERS, ROW_EXCLUSIVE)).isEqualTo(GRANTED);
        assertThat(locks.isGranted("tx", USERS, ACCESS_EXCLUSIVE)).isTrue();
        // ... while anyone else conflicts with its ACCESS EXCLUSIVE.
        assertThat(locks.request("other", USERS, ACCESS_SHARE)).isEqualTo(WAITING);
        assertThat(locks.blockers("other", USERS)).containsExactly("tx");
    }

    @Test
    void releaseAllDropsGrantsAndWaitsOnEveryTable() {
        locks.request("tx", USERS, ACCESS_EXCLUSIVE);
        locks.request("tx", ORDERS, ACCESS_EXCLUSIVE);
        locks.request("a", USERS, ACCESS_SHARE);
        locks.request("b", ORDERS, ACCESS_SHARE);
        locks.releaseAll("tx");
        assertThat(locks.isGranted("tx", USERS, ACCESS_EXCLUSIVE)).isFalse();
        assertThat(locks.isGranted("a", USERS, ACCESS_SHARE)).isTrue();
        assertThat(locks.isGranted("b", ORDERS, ACCESS_SHARE)).isTrue();
        assertThat(locks.request("c", USERS, ACCESS_EXCLUSIVE)).isEqualTo(WAITING);
        locks.releaseAll("c");
        assertThat(locks.isWaiting("c", USERS)).isFalse();
        assertThat(locks.blockers("c", USERS)).isEmpty();
    }

    @Test
    void unknownTablesAnswerEmpty() {
        assertThat(locks.blockers("x", USERS)).isEmpty();
        assertThat(locks.isWaiting("x", USERS)).isFalse();
        assertThat(locks.isGranted("x", USERS, ACCESS_SHARE)).isFalse();
        assertThat(locks.holdersConflictingWith(USERS, SHARE, "x")).isEmpty();
    }
}
