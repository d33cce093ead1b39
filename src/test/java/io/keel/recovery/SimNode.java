package io.keel.recovery;

import io.microraft.RaftConfig;
import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.persistence.RestoredRaftState;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One simulated process: its disk outlives it; its executor, state machine and Raft node are
 * replaced on every restart.
 */
final class SimNode {
  private static final long DEAD_LEADER_CHECK_MS = 1_000;

  final String name;
  final NodeEndpoint endpoint;
  final SimDisk disk = new SimDisk();
  // The members the node starts its group with when its disk holds nothing yet.
  final List<RaftEndpoint> initialMembers;
  VirtualExecutor executor;
  SimCounterMachine machine;
  RaftNode raft;
  PartitionStateMachineAdapter adapter;
  int incarnation;

  SimNode(String name, List<RaftEndpoint> initialMembers) {
    this.name = name;
    this.endpoint = new NodeEndpoint(name);
    this.initialMembers = List.copyOf(initialMembers);
  }

  boolean isUp() {
    return raft != null;
  }

  /** Starts (or restarts) the process from what its disk holds. */
  void start(SimCluster cluster, RaftConfig config, long seed) {
    if (isUp()) {
      throw new IllegalStateException(name + " is already up");
    }
    incarnation++;
    executor = new VirtualExecutor(cluster.queue, e -> cluster.onRaftTaskError(name, e));
    machine = new SimCounterMachine(cluster.checker.observer(name));
    RestoredRaftState restored = disk.restoredState();
    PartitionStateMachineAdapter adapter = new PartitionStateMachineAdapter(machine, 64);
    if (this.adapter != null) {
      cluster.selfRemovalStops += this.adapter.selfRemovalStops();
    }
    this.adapter = adapter;
    RaftNode.RaftNodeBuilder builder = RaftNode.newBuilder().setGroupId("p0").setConfig(config)
        .setExecutor(executor).setTransport(cluster.guardCampaigns
            ? new CampaignGuard(cluster.network.transport(name), g -> raft)
            : cluster.network.transport(name))
        .setStateMachine(adapter).setStore(disk)
        .setClock(new VirtualClock(cluster.queue)).setRandom(new Random(seed));
    if (restored == null) {
      builder.setLocalEndpoint(endpoint).setInitialGroupMembers(initialMembers);
    } else {
      builder.setRestoredState(restored);
    }
    raft = builder.build();
    if (cluster.selfRemovalRemedy) {
      adapter.attach(raft);
    }
    raft.start();
    if (cluster.deadLeaderRemedy) {
      checkDeadLeader(executor);
    }
  }

  /**
   * Once a virtual second, as {@code PartitionGroups} does on a real node: the remedy for
   * MicroRaft's follower that never suspects its leader again ({@link DeadLeader}).
   */
  private void checkDeadLeader(VirtualExecutor own) {
    own.schedule(() -> {
      if (raft != null && executor == own) {
        DeadLeader.unstick(raft);
        checkDeadLeader(own);
      }
    }, DEAD_LEADER_CHECK_MS, TimeUnit.MILLISECONDS);
  }

  /** Kills the process; its disk loses what was not synced, as {@link SimDisk#crash} says. */
  int crash(SimCluster cluster, boolean keepUnsynced, boolean tear) {
    if (!isUp()) {
      throw new IllegalStateException(name + " is already down");
    }
    executor.close();
    raft = null;
    machine = null;
    cluster.checker.crashed(name);
    return disk.crash(cluster.random, keepUnsynced, tear);
  }

  /** True if this node believes it is the leader of its current term. */
  boolean isLeader() {
    return isUp() && endpoint.equals(raft.getTerm().getLeaderEndpoint());
  }
}
