package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.recovery.SimCounterMachine.Command;
import io.microraft.Ordered;
import io.microraft.impl.RaftNodeImpl;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Leader leases ({@link LeaderLease}, {@link LeaseReads}) on the simulated cluster. Every
 * simulated step checks that no node leads a later term while another holds a lease
 * ({@code SimCluster.checkLeases}); the randomized runs read through leases too.
 */
class SimLeaseTest {

  @BeforeAll
  static void quiet() {
    SimRun.quietRaftLogs();
  }

  @Test
  void randomized_runs_answer_most_reads_under_the_lease() {
    SimCluster cluster = new SimCluster(3, 3);
    cluster.start();
    cluster.startClients(3);
    cluster.runForMs(20_000);
    cluster.settleAndCheck();
    assertThat(cluster.checker.reads).isPositive();
    assertThat(cluster.leaseReads()).as("reads served under a lease")
        .isGreaterThan(cluster.checker.reads / 2);
  }

  /**
   * The leader L holds its lease through follower F, the other follower O is cut off from L
   * and campaigns. F crashes, loses its link to L, and restarts at once. Keeping its promise,
   * F neither votes nor campaigns for a heartbeat timeout, and F and O elect a new leader only
   * after L's lease ran out.
   */
  @Test
  void a_restarted_follower_keeps_the_promise_a_lease_relies_on() {
    Scenario s = new Scenario(true);
    long restartMs = s.cluster.queue.nowMs();
    assertThat(s.cluster.runUntil(s::newLeader, 10_000)).as("F and O elect a leader").isTrue();
    assertThat(s.cluster.queue.nowMs() - restartMs).as("ms from F's restart to the election")
        .isGreaterThanOrEqualTo(3_000);
    assertThat(s.leased()).as("L answers no read from its own state").isFalse();
    s.cluster.settleAndCheck();
  }

  /** Without the promise, F and O elect a leader within L's lease: the step check catches it. */
  @Test
  void without_the_promise_a_new_leader_is_elected_within_the_lease() {
    Scenario s = new Scenario(false);
    assertThatThrownBy(() -> s.cluster.runUntil(s::newLeader, 10_000))
        .isInstanceOf(AssertionError.class).hasMessageContaining("holds a lease in term");
  }

  private static final class Scenario {
    final SimCluster cluster = new SimCluster(11, 3);
    final SimNode leader;
    final SimNode follower;
    final SimNode other;

    Scenario(boolean keepPromise) {
      cluster.restartKeepsPromise = keepPromise;
      leader = cluster.startAndElect();
      List<SimNode> followers = cluster.upOthers(leader);
      follower = followers.get(0);
      other = followers.get(1);
      write(leader, 1);
      cluster.network.cutBoth(leader.name, other.name);
      // O hears nobody for a heartbeat timeout and campaigns; F still hears L and refuses.
      cluster.runForMs(4_000);
      assertThat(leader.isLeader()).as("L still leads through F").isTrue();
      assertThat(cluster.runUntil(this::leased, 2_000)).as("L holds its lease").isTrue();
      cluster.crash(follower.name, true, false);
      cluster.network.cutBoth(leader.name, follower.name);
      cluster.restart(follower.name);
    }

    boolean leased() {
      return LeaseReads.holds((RaftNodeImpl) leader.raft, leader.lease, cluster.nanos());
    }

    /** Whether F or O leads a term after L's. */
    boolean newLeader() {
      SimNode now = cluster.leader();
      return now != null && now != leader;
    }

    private void write(SimNode at, long seq) {
      CompletableFuture<Ordered<Object>> done =
          at.raft.replicate(new Command(99, seq, "k", 1).encode());
      assertThat(cluster.runUntil(done::isDone, 5_000)).as("write " + seq).isTrue();
      assertThat(done).isCompleted();
    }
  }
}
