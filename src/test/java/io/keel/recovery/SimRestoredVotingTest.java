package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Membership seeds that broke safety before {@link RestoredVoting}: a learner whose promotion
 * entry was appended, persisted with {@code voting=true}, then truncated, restarted as a voter
 * and won an election in the same term as the real leader (seed 1017: two leaders in term 9;
 * seed 1367: a committed entry replaced; seeds since the disks sync after writes as Keel's log
 * does, see SimDisk; 1632 and 1248 before). Each seed must pass with the store's reconciliation
 * and still fail with MicroRaft 0.7's raw flag; when the second half fails, MicroRaft was fixed.
 * The seeds were found while replicas were replaced through 4 voters, and replay only so (the
 * runs ask for that plan); a truncated promotion is as possible with the 3, 2, 3 plan.
 */
class SimRestoredVotingTest {

  @BeforeAll
  static void quiet() {
    SimRun.quietRaftLogs();
  }

  @Test
  void seed_1017_two_leaders_in_one_term_without_reconciliation() {
    SimRun.run(1017, SimRun.DEFAULT_STEPS, false, true, false, true);
    assertThatThrownBy(() -> SimRun.run(1017, SimRun.DEFAULT_STEPS, false, true, true, true))
        .hasMessageContaining("two leaders in term");
  }

  @Test
  void seed_1367_committed_entry_replaced_without_reconciliation() {
    SimRun.run(1367, SimRun.DEFAULT_STEPS, false, true, false, true);
    assertThatThrownBy(() -> SimRun.run(1367, SimRun.DEFAULT_STEPS, false, true, true, true))
        .hasMessageContaining("was committed");
  }
}
