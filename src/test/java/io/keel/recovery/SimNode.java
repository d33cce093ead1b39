package io.keel.recovery;

import io.microraft.RaftConfig;
import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.RaftNodeStatus;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.persistence.RestoredRaftState;
import io.microraft.transport.Transport;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One simulated process: its disk outlives it; its executor, state machine and Raft node are
 * replaced on every restart.
 */
final class SimNode {
  private static final long DEAD_LEADER_CHECK_MS = 1_000;

  final String name;
  final NodeEndpoint endpoint;
  final SimDisk disk;
  // The members the node starts its group with when its disk holds nothing yet.
  final List<RaftEndpoint> initialMembers;
  VirtualExecutor executor;
  SimCounterMachine machine;
  RaftNode raft;
  PartitionStateMachineAdapter adapter;
  // This incarnation's part in leader leases (LeaseReads).
  LeaderLease lease;
  int incarnation;
  // This incarnation's messages, and its reports to the checker and clients: each waits until
  // what it depends on is on the disk, as a Keel node's do (DurableSends, the log's barrier).
  private DurableSends sends;
  // This incarnation's QuietAppends, if the cluster uses them.
  QuietAppends quiet;
  private DurableOrder told;
  private boolean holding;

  SimNode(String name, List<RaftEndpoint> initialMembers, SimDisk disk) {
    this.name = name;
    this.disk = disk;
    this.endpoint = new NodeEndpoint(name);
    this.initialMembers = List.copyOf(initialMembers);
  }

  boolean isUp() {
    return raft != null;
  }

  /**
   * Adds what this incarnation's remedies counted to {@code cluster}'s totals, before it is
   * replaced by the next incarnation or retired.
   */
  void tallyInto(SimCluster cluster) {
    cluster.selfRemovalStops += adapter == null ? 0 : adapter.selfRemovalStops();
    cluster.quietDropped += quiet == null ? 0 : quiet.dropped();
  }

  /** Starts (or restarts) the process from what its disk holds. */
  void start(SimCluster cluster, RaftConfig config, long seed) {
    if (isUp()) {
      throw new IllegalStateException(name + " is already up");
    }
    incarnation++;
    executor = new VirtualExecutor(cluster.queue, e -> cluster.onRaftTaskError(name, e));
    told = new DurableOrder(Runnable::run);
    holding = cluster.holdUntilDurable;
    machine = new SimCounterMachine(afterDurable(cluster.checker.observer(name)));
    sends = new DurableSends(cluster.network.transport(name), this::barrier, Runnable::run,
        cluster.earlyAppends ? new DefaultRaftModelFactory() : null);
    RestoredRaftState restored = disk.restoredState();
    PartitionStateMachineAdapter adapter = new PartitionStateMachineAdapter(machine, 64);
    tallyInto(cluster);
    quiet = cluster.quietAppends ? new QuietAppends(sends, () -> cluster.queue.nowMs() * 1_000_000L,
        PartitionGroups.QUIET_APPENDS_NANOS) : null;
    Transport out = quiet != null ? quiet : sends;
    this.adapter = adapter;
    RaftNode.RaftNodeBuilder builder = RaftNode.newBuilder().setGroupId("p0").setConfig(config)
        .setExecutor(executor).setTransport(cluster.guardCampaigns
            ? new CampaignGuard(out, g -> raft) : out)
        .setStateMachine(adapter).setStore(disk)
        .setClock(new VirtualClock(cluster.queue)).setRandom(new Random(seed));
    if (restored == null) {
      builder.setLocalEndpoint(endpoint).setInitialGroupMembers(initialMembers);
    } else {
      builder.setRestoredState(restored);
    }
    raft = builder.build();
    lease = new LeaderLease(LeaseReads.leaseNanos(config));
    if (restored != null && cluster.leaseReads && cluster.restartKeepsPromise) {
      LeaseReads.restored((RaftNodeImpl) raft);
    }
    if (cluster.selfRemovalRemedy) {
      adapter.attach(raft);
    }
    raft.start();
    if (cluster.deadLeaderRemedy) {
      checkDeadLeader(executor);
    }
  }

  /**
   * Runs {@code action} once every write this node made so far is durable, in order with its
   * other reports; never if it crashes first. A node's applications, acknowledgements and
   * answers are what other processes learn of it: they wait, as on a Keel node.
   */
  void afterDurable(Runnable action) {
    told.submit(barrier(), action);
  }

  /** What this node's telling waits for: its disk's sync, unless it does not hold. */
  private CompletableFuture<?> barrier() {
    return holding ? disk.barrier() : CompletableFuture.completedFuture(null);
  }

  private SimCounterMachine.Observer afterDurable(SimCounterMachine.Observer inner) {
    return new SimCounterMachine.Observer() {
      @Override
      public void applied(long index, byte[] command, byte[] result) {
        inner.appliedUntold(index, command);
        afterDurable(() -> inner.applied(index, command, result));
      }

      @Override
      public void installed(long index, byte[] snapshot) {
        if (raft.getStatus() == RaftNodeStatus.INITIAL) { // restoring from this node's disk
          inner.restored(index, snapshot);
        } else {
          afterDurable(() -> inner.installed(index, snapshot));
        }
      }
    };
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
    sends.close();
    told.close();
    raft = null;
    machine = null;
    cluster.checker.crashed(name);
    return disk.crash(cluster.random, keepUnsynced, tear);
  }

  /**
   * True if this node leads a term that is on its disk: a node that won an election and died
   * before its term was durable never sent anything as leader, and may win that term again.
   */
  boolean leadsDurably() {
    return isLeader() && disk.durableTerm() >= raft.getTerm().getTerm();
  }

  /** True if this node believes it is the leader of its current term. */
  boolean isLeader() {
    return isUp() && endpoint.equals(raft.getTerm().getLeaderEndpoint());
  }
}
