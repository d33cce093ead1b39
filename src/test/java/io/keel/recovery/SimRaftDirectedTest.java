package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.bus.Failure;
import io.keel.recovery.SimCounterMachine.Command;
import io.microraft.MembershipChangeMode;
import io.microraft.Ordered;
import io.microraft.report.RaftGroupMembers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Directed scenarios on the simulated cluster, each ending with the same end-state checks as
 * the randomized runs ({@link SimCluster#settleAndCheck}).
 */
class SimRaftDirectedTest {

  private static final long SEED = 42;

  @BeforeAll
  static void quiet() {
    SimRun.quietRaftLogs();
  }

  private static SimCluster startedCluster(int nodes) {
    SimCluster cluster = new SimCluster(SEED, nodes);
    cluster.start();
    assertThat(cluster.runUntil(() -> cluster.leader() != null, 10_000)).as("a leader").isTrue();
    return cluster;
  }

  private static long acks(SimCluster cluster) {
    long total = 0;
    for (long n : cluster.acksByNode.values()) {
      total += n;
    }
    return total;
  }

  @Test
  void leader_crash_during_writes_loses_no_acknowledged_write() {
    SimCluster cluster = startedCluster(3);
    cluster.startClients(3);
    cluster.runForMs(3_000);
    SimNode oldLeader = cluster.leader();
    long acksBefore = acks(cluster);
    assertThat(acksBefore).isPositive();

    cluster.crash(oldLeader.name, false, true);
    assertThat(cluster.runUntil(() -> cluster.leader() != null, 15_000)).isTrue();
    assertThat(cluster.leader().name).isNotEqualTo(oldLeader.name);
    cluster.runForMs(5_000);
    assertThat(acks(cluster)).as("writes go on under the new leader").isGreaterThan(acksBefore);

    cluster.restart(oldLeader.name);
    cluster.settleAndCheck();
  }

  @Test
  void majority_partition_serves_and_minority_acknowledges_nothing() {
    SimCluster cluster = startedCluster(5);
    cluster.startClients(3);
    cluster.runForMs(2_000);
    SimNode oldLeader = cluster.leader();
    String partner = oldLeader.name.equals("n1") ? "n2" : "n1";
    List<String> minority = List.of(oldLeader.name, partner);
    cluster.partition(minority);
    // Writes already in flight at the cut may still commit: let those settle first.
    cluster.runForMs(200);
    Map<String, Long> minorityAcks = new TreeMap<>();
    for (String n : minority) {
      minorityAcks.put(n, cluster.acksByNode.getOrDefault(n, 0L));
    }

    // A write sent straight to the minority's leader is never acknowledged.
    List<CompletableFuture<Ordered<Object>>> direct = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      direct.add(oldLeader.raft.replicate(new Command(99, i + 1, "x", 1).encode()));
    }
    long acksAtCut = acks(cluster);
    cluster.runForMs(15_000);

    for (String n : minority) {
      assertThat(cluster.acksByNode.getOrDefault(n, 0L)).as("acks from minority node " + n)
          .isEqualTo(minorityAcks.get(n));
    }
    for (CompletableFuture<Ordered<Object>> f : direct) {
      assertThat(f).isCompletedExceptionally();
      Throwable error = f.handle((r, e) -> e).join();
      assertThat(RaftFailures.classify(error)).isIn(Failure.UNAVAILABLE, Failure.NOT_OWNER);
    }
    SimNode newLeader = cluster.leader();
    assertThat(newLeader).isNotNull();
    assertThat(minority).doesNotContain(newLeader.name);
    assertThat(acks(cluster)).as("the majority serves").isGreaterThan(acksAtCut);

    cluster.settleAndCheck();
  }

  @Test
  void restart_drops_unsynced_writes_and_catches_up() {
    SimCluster cluster = startedCluster(3);
    cluster.startClients(3);
    cluster.runForMs(1_000);
    SimNode leader = cluster.leader();
    // The leader persists new entries in one task and flushes in a later one: stop between.
    assertThat(cluster.runUntil(() -> leader.disk.unsyncedWrites() > 0, 5_000)).isTrue();
    long acksBefore = acks(cluster);

    cluster.crash(leader.name, false, false);
    assertThat(cluster.unsyncedLost).isPositive();
    cluster.runForMs(5_000);
    cluster.restart(leader.name);
    cluster.runForMs(5_000);
    assertThat(acks(cluster)).isGreaterThan(acksBefore);

    cluster.settleAndCheck();
    assertThat(cluster.node(leader.name).machine.stateBytes())
        .isEqualTo(cluster.leader().machine.stateBytes());
  }

  @Test
  void membership_change_adds_a_node_then_removes_an_old_one() {
    SimCluster cluster = startedCluster(3);
    cluster.startClients(2);
    cluster.runForMs(3_000);
    SimNode added = cluster.addNode("n4");

    RaftGroupMembers members = cluster.leader().raft.getCommittedMembers();
    CompletableFuture<Ordered<RaftGroupMembers>> add = cluster.leader().raft.changeMembership(
        added.endpoint, MembershipChangeMode.ADD_OR_PROMOTE_TO_FOLLOWER, members.getLogIndex());
    assertThat(cluster.runUntil(add::isDone, 10_000)).isTrue();
    assertThat(add).isCompleted();
    assertThat(add.join().getResult().getMembers()).contains(added.endpoint);
    SimNode leader = cluster.leader();
    assertThat(cluster.runUntil(
        () -> added.machine.lastIndex() >= cluster.leader().machine.lastIndex(), 20_000))
        .as("the new member catches up").isTrue();

    String old = leader.name.equals("n1") ? "n2" : "n1";
    long index = add.join().getCommitIndex();
    CompletableFuture<Ordered<RaftGroupMembers>> remove = cluster.leader().raft.changeMembership(
        cluster.node(old).endpoint, MembershipChangeMode.REMOVE_MEMBER, index);
    assertThat(cluster.runUntil(remove::isDone, 10_000)).isTrue();
    assertThat(remove.join().getResult().getMembers())
        .doesNotContain(cluster.node(old).endpoint).hasSize(3);
    cluster.retire(old);
    cluster.runForMs(3_000);

    cluster.settleAndCheck();
  }
}
