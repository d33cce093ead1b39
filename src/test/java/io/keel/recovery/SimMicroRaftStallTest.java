package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.recovery.SimCounterMachine.Command;
import io.microraft.Ordered;
import io.microraft.report.RaftNodeReport;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A liveness defect of MicroRaft 0.7 that the simulation found (seed 276 before the
 * simulation learnt to work around it; plain seeds 6845, 10284 and 10732 later), reproduced
 * step by step, with and without Keel's remedy ({@link SnapshotTail}).
 *
 * <p>A node restarted from a snapshot at index S keeps only the entries after S in its log.
 * If those entries conflict with the leader's (they were appended in an older term and never
 * committed), the leader backs up to {@code prevLogIndex == S}; the follower then looks up the
 * entry at S, finds none (it is in the snapshot, not the log) and rejects the append, and the
 * leader cannot go below its match index: the follower is stuck ("Cannot decrement next
 * index") until the leader takes a snapshot beyond S and sends it. MicroRaft's main branch
 * answers with the snapshot's term in that case ({@code AppendEntriesRequestHandler
 * .verifyLastLogEntry}); 0.7, the latest release, does not. A leader snapshot frees the
 * follower only once the leader's log no longer holds the entries after S (here it does; in
 * plain seed 3341 it does not, and the follower stays stuck). With the remedy the follower
 * drops its conflicting tail and catches up at once. When the case without the remedy fails
 * because the follower no longer stalls, MicroRaft was fixed.
 */
class SimMicroRaftStallTest {

  @BeforeAll
  static void quiet() {
    SimRun.quietRaftLogs();
  }

  private static <T> T await(SimCluster cluster, CompletableFuture<T> future) {
    assertThat(cluster.runUntil(future::isDone, 10_000)).as("future done").isTrue();
    return future.join();
  }

  @ParameterizedTest(name = "remedy={0}")
  @ValueSource(booleans = {false, true})
  void follower_restored_from_snapshot_with_conflicting_tail(boolean remedy) {
    SimCluster cluster = new SimCluster(7, 3);
    cluster.network.snapshotTailRemedy = remedy;
    SimNode old = cluster.startAndElect();
    Ordered<RaftNodeReport> report = await(cluster, old.raft.getReport());
    long last = report.getResult().getLog().getLastLogOrSnapshotIndex();
    long snapshotAt = SimCluster.config().getCommitCountToTakeSnapshot();
    for (long seq = 1; last < snapshotAt; seq++) {
      last = await(cluster, old.raft.replicate(new Command(1, seq, "k", 1).encode()))
          .getCommitIndex();
    }
    assertThat(cluster.runUntil(() -> old.disk.durableSnapshotIndex() == snapshotAt, 5_000))
        .isTrue();

    // The old leader, cut off, appends entries after its snapshot that will never commit.
    cluster.partition(List.of(old.name));
    for (int i = 0; i < 3; i++) {
      old.raft.replicate(new Command(2, i + 1, "lost", 1).encode());
    }
    cluster.runForMs(200);
    assertThat(old.disk.durableLastIndex()).isEqualTo(snapshotAt + 3);
    assertThat(cluster.runUntil(() -> cluster.leader() != null && cluster.leader() != old,
        20_000)).isTrue();
    SimNode leader = cluster.leader();
    for (int i = 0; i < 5; i++) {
      await(cluster, leader.raft.replicate(new Command(3, i + 1, "k", 1).encode()));
    }

    cluster.crash(old.name, true, false);
    cluster.restart(old.name);
    cluster.network.healAll();
    cluster.runForMs(30_000);
    if (remedy) {
      assertThat(old.machine.lastIndex()).as("caught up without a new snapshot")
          .isEqualTo(cluster.leader().machine.lastIndex()).isGreaterThan(snapshotAt);
      assertThat(cluster.leader().disk.durableSnapshotIndex()).isEqualTo(snapshotAt);
    } else {
      assertThat(old.machine.lastIndex()).as("stalled at its snapshot").isEqualTo(snapshotAt);
      cluster.leader().raft.takeSnapshot();
      assertThat(cluster.runUntil(
          () -> old.machine.lastIndex() >= cluster.leader().machine.lastIndex(), 10_000))
          .as("caught up by the leader's new snapshot").isTrue();
    }
    cluster.settleAndCheck();
  }
}
