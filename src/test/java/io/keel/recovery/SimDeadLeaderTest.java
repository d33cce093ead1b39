package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.microraft.impl.RaftNodeImpl;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A liveness defect of MicroRaft 0.7, reproduced step by step on the simulation, and Keel's
 * remedy ({@link DeadLeader}).
 *
 * <p>A follower cut off from its leader past the heartbeat timeout starts a pre-vote; when the
 * link comes back before an election, it follows the same leader again but stays a
 * pre-candidate, and then never suspects that leader. With both followers of a three-node group
 * in that state, killing the leader leaves the group without a leader until the leader comes
 * back. When the first test fails because a leader is elected, MicroRaft was fixed.
 */
class SimDeadLeaderTest {
  private static final long WAIT_MS = 60_000;

  @BeforeAll
  static void quiet() {
    SimRun.quietRaftLogs();
  }

  private static boolean preCandidate(SimNode n) {
    return ((RaftNodeImpl) n.raft).state().preCandidateState() != null;
  }

  private static boolean follows(SimNode n, SimNode leader) {
    return leader.endpoint.equals(n.raft.getTerm().getLeaderEndpoint());
  }

  /**
   * A cluster whose leader is dead and whose two followers each started a pre-vote while that
   * leader was alive, then followed it again in the same term.
   */
  private static SimCluster strandedFollowers(long seed) {
    SimCluster cluster = new SimCluster(seed, 3);
    cluster.deadLeaderRemedy = false;
    SimNode leader = cluster.startAndElect();
    assertThat(cluster.runUntil(() -> cluster.upNodes().stream().allMatch(n -> follows(n, leader)),
        10_000)).as("every node follows %s", leader.name).isTrue();
    int term = leader.raft.getTerm().getTerm();
    for (SimNode f : cluster.upNodes()) {
      if (f == leader) {
        continue;
      }
      cluster.partition(List.of(f.name));
      assertThat(cluster.runUntil(() -> preCandidate(f), 10_000)).as("%s pre-votes", f.name)
          .isTrue();
      cluster.heal();
      assertThat(cluster.runUntil(() -> follows(f, leader), 10_000))
          .as("%s follows %s again", f.name, leader.name).isTrue();
      assertThat(preCandidate(f)).as("%s is still a pre-candidate", f.name).isTrue();
    }
    assertThat(leader.raft.getTerm().getTerm()).as("no election happened").isEqualTo(term);
    cluster.crash(leader.name, false, false);
    return cluster;
  }

  @Test
  void microraft_followers_stranded_as_pre_candidates_never_elect_after_the_leader_dies() {
    SimCluster cluster = strandedFollowers(11);
    assertThat(cluster.runUntil(() -> cluster.leader() != null, WAIT_MS))
        .as("a leader within %d virtual ms", WAIT_MS).isFalse();
  }

  @Test
  void a_follower_that_hears_its_leader_is_left_alone() {
    SimCluster cluster = new SimCluster(11, 3);
    cluster.startAndElect();
    cluster.runForMs(5_000);
    for (SimNode n : cluster.upNodes()) {
      assertThat(DeadLeader.unstick(n.raft)).as(n.name).isFalse();
    }
  }

  @Test
  void dropping_the_silent_leader_lets_them_elect_one() {
    SimCluster cluster = strandedFollowers(11);
    cluster.runForMs(5_000);
    for (SimNode n : cluster.upNodes()) {
      assertThat(DeadLeader.unstick(n.raft)).as("%s drops its silent leader", n.name).isTrue();
      assertThat(DeadLeader.unstick(n.raft)).as("%s, once more", n.name).isFalse();
    }
    assertThat(cluster.runUntil(() -> cluster.leader() != null, 10_000))
        .as("a leader within 10 virtual s").isTrue();
  }
}
