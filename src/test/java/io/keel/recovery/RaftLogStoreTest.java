package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.microraft.RaftConfig;
import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.executor.impl.DefaultRaftNodeExecutor;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.model.message.RaftMessage;
import io.microraft.persistence.RestoredRaftState;
import io.microraft.transport.Transport;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real MicroRaft group persisting through the write-ahead log, stopped and restored from the
 * log alone: what a restarted node does for each of its groups.
 */
class RaftLogStoreTest {
  private static final RaftConfig CONFIG = RaftConfig.newBuilder()
      .setLeaderElectionTimeoutMillis(200).setLeaderHeartbeatPeriodSecs(1)
      .setLeaderHeartbeatTimeoutSecs(2).build();
  private static final RaftConfig SNAPSHOT_EVERY_100 = RaftConfig.newBuilder()
      .setLeaderElectionTimeoutMillis(200).setLeaderHeartbeatPeriodSecs(1)
      .setLeaderHeartbeatTimeoutSecs(2).setCommitCountToTakeSnapshot(100).build();
  private static final Transport NOWHERE = new Transport() {
    @Override
    public void send(RaftEndpoint target, RaftMessage message) {
      throw new AssertionError("a one-member group sends nothing, was " + message);
    }

    @Override
    public boolean isReachable(RaftEndpoint target) {
      return false;
    }
  };

  @TempDir
  Path dir;

  private final RaftModelFactory factory = new DefaultRaftModelFactory();
  private final RaftCodec codec = new RaftCodec(factory, NodeEndpoint::new,
      Map.of((byte) 1, "new-term"));
  private final RaftEndpoint a = new NodeEndpoint("a");

  private RaftNode node(RaftLogStore store, BusTransportIT.Sum sum,
      RestoredRaftState restored) {
    return node(store, sum, restored, new DefaultRaftNodeExecutor());
  }

  private RaftNode node(RaftLogStore store, BusTransportIT.Sum sum, RestoredRaftState restored,
      DefaultRaftNodeExecutor executor) {
    return node(store, sum, restored, executor, CONFIG);
  }

  private RaftNode node(RaftLogStore store, BusTransportIT.Sum sum, RestoredRaftState restored,
      DefaultRaftNodeExecutor executor, RaftConfig config) {
    RaftNode.RaftNodeBuilder b = RaftNode.newBuilder().setGroupId(3).setConfig(config)
        .setExecutor(executor).setTransport(NOWHERE).setStateMachine(sum)
        .setStore(store).setModelFactory(factory);
    if (restored == null) {
      b.setLocalEndpoint(a).setInitialGroupMembers(List.of(a));
    } else {
      b.setRestoredState(restored);
    }
    return b.build();
  }

  private static byte[] value(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  @Test
  void a_group_restored_from_the_log_has_every_committed_write() throws Exception {
    WriteAheadLog wal = WriteAheadLog.open(dir, new WalOptions());
    BusTransportIT.Sum before = new BusTransportIT.Sum();
    RaftNode first = node(RaftLogStore.fresh(wal, codec, 3), before, null);
    first.start().get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() ->
        a.equals(first.getTerm().getLeaderEndpoint()));
    for (long i = 1; i <= 100; i++) {
      first.replicate(value(i)).get(10, TimeUnit.SECONDS);
    }
    assertThat(before.sum).isEqualTo(5050);
    first.terminate().get(10, TimeUnit.SECONDS);
    wal.close();

    RaftLogReplay replay = new RaftLogReplay(codec, factory);
    WriteAheadLog reopened = WriteAheadLog.open(dir, new WalOptions(), replay);
    Map<Integer, GroupImage> images = replay.images();
    assertThat(images).containsOnlyKeys(3);
    RestoredRaftState restored = images.get(3).restored();
    assertThat(restored.getLocalEndpointPersistentState().getLocalEndpoint()).isEqualTo(a);
    assertThat(restored.getLogEntries()).hasSizeGreaterThanOrEqualTo(100);

    BusTransportIT.Sum after = new BusTransportIT.Sum();
    RaftNode second = node(RaftLogStore.restored(reopened, codec, images.get(3),
        replay.neededFrom(3)), after, restored);
    second.start().get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> after.sum == 5050);
    second.replicate(value(1)).get(10, TimeUnit.SECONDS);
    assertThat(after.sum).isEqualTo(5051);
    assertThat(second.getTerm().getTerm()).isGreaterThan(restored.getTermPersistentState()
        .getTerm());
    second.terminate().get(10, TimeUnit.SECONDS);
    reopened.close();
  }

  @Test
  void a_checkpoint_frees_the_old_segments_and_the_group_restores_from_what_is_left()
      throws Exception {
    WalOptions small = new WalOptions().setSegmentBytesMax(4096).setRecordBytesMax(2048);
    WriteAheadLog wal = WriteAheadLog.open(dir, small);
    RaftLogStore store = RaftLogStore.fresh(wal, codec, 3);
    DefaultRaftNodeExecutor executor = new DefaultRaftNodeExecutor();
    BusTransportIT.Sum before = new BusTransportIT.Sum();
    RaftNode first = node(store, before, null, executor, SNAPSHOT_EVERY_100);
    first.start().get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() ->
        a.equals(first.getTerm().getLeaderEndpoint()));
    for (long i = 1; i <= 250; i++) {
      first.replicate(value(i)).get(10, TimeUnit.SECONDS);
    }
    // The store does not wait for the log when MicroRaft flushes; a Keel node waits here.
    wal.barrier().get(10, TimeUnit.SECONDS);
    assertThat(wal.segmentCount()).isGreaterThan(3);
    // The group's first records pin the first segment: nothing can go yet.
    assertThat(wal.releaseBefore(store.neededFrom())).isZero();

    CompletableFuture<Long> checkpointed = new CompletableFuture<>();
    executor.execute(() -> store.checkpoint().whenComplete((lsn, e) -> {
      if (e != null) {
        checkpointed.completeExceptionally(e);
      } else {
        checkpointed.complete(lsn);
      }
    }));
    long from = checkpointed.get(10, TimeUnit.SECONDS);
    assertThat(from).isEqualTo(store.neededFrom()).isGreaterThan(wal.oldestSegmentLastLsn());
    int segments = wal.segmentCount();
    assertThat(wal.releaseBefore(store.neededFrom())).isPositive();
    assertThat(wal.segmentCount()).isLessThan(segments);
    // Written after the checkpoint: replay must apply them on top of its copy.
    for (long i = 251; i <= 300; i++) {
      first.replicate(value(i)).get(10, TimeUnit.SECONDS);
    }
    first.terminate().get(10, TimeUnit.SECONDS);
    wal.close();

    RaftLogReplay replay = new RaftLogReplay(codec, factory);
    WriteAheadLog reopened = WriteAheadLog.open(dir, small, replay);
    assertThat(reopened.recovery().firstLsn()).isGreaterThan(1);
    RestoredRaftState restored = replay.images().get(3).restored();
    assertThat(restored.getSnapshotEntry()).isNotNull();
    BusTransportIT.Sum after = new BusTransportIT.Sum();
    RaftNode second = node(RaftLogStore.restored(reopened, codec, replay.images().get(3),
        replay.neededFrom(3)), after, restored, new DefaultRaftNodeExecutor(),
        SNAPSHOT_EVERY_100);
    second.start().get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> after.sum == 300 * 301 / 2);
    second.terminate().get(10, TimeUnit.SECONDS);
    reopened.close();
  }
}
