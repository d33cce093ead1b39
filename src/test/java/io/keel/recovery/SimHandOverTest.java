package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.recovery.SimCounterMachine.Command;
import io.microraft.impl.RaftNodeImpl;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link HandOver}: a leader hands over only when everything it holds is committed and the
 * target holds it too, on real MicroRaft nodes in the simulation.
 */
class SimHandOverTest {

  @BeforeAll
  static void quiet() {
    SimRun.quietRaftLogs();
  }

  private static boolean ready(SimNode leader, SimNode to) {
    return HandOver.ready((RaftNodeImpl) leader.raft, to.endpoint);
  }

  @Test
  void a_leader_is_ready_only_when_the_target_holds_everything_committed() {
    SimCluster cluster = new SimCluster(11, 3);
    SimNode leader = cluster.startAndElect();
    List<SimNode> followers = cluster.upOthers(leader);
    SimNode cut = followers.get(0);
    SimNode kept = followers.get(1);
    CompletableFuture<?> first = leader.raft.replicate(new Command(1, 1, "k", 1).encode());
    assertThat(cluster.runUntil(first::isDone, 10_000)).isTrue();
    cluster.runForMs(1_000);
    assertThat(ready(leader, cut)).as("idle, everyone caught up").isTrue();
    assertThat(ready(cut, leader)).as("a follower hands nothing over").isFalse();

    // One follower cut off: a write commits without it, so only the other is ready.
    cluster.partition(List.of(cut.name));
    CompletableFuture<?> second = leader.raft.replicate(new Command(1, 2, "k", 1).encode());
    assertThat(cluster.runUntil(second::isDone, 10_000)).isTrue();
    cluster.runForMs(200);
    assertThat(ready(leader, cut)).as("the cut-off follower lacks an entry").isFalse();
    assertThat(ready(leader, kept)).isTrue();

    // Both cut off: an entry the leader holds is not committed, so nobody is ready.
    cluster.network.cutBoth(leader.name, kept.name);
    leader.raft.replicate(new Command(1, 3, "k", 1).encode());
    cluster.runForMs(200);
    assertThat(ready(leader, kept)).as("an entry is not committed").isFalse();

    cluster.heal();
    assertThat(cluster.runUntil(() -> cluster.leader() != null
        && ready(cluster.leader(), cluster.upNodes().stream()
            .filter(n -> n != cluster.leader()).findFirst().orElseThrow()), 20_000))
        .as("healed: ready again").isTrue();
    cluster.settleAndCheck();
  }
}
