package io.keel.recovery;

import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.model.message.AppendEntriesRequest;
import io.microraft.model.message.RaftMessage;
import io.microraft.transport.Transport;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * A simulated network: messages travel through the shared {@link TaskQueue} with a seeded
 * delay, may be dropped or duplicated, and never cross a cut link. Links are cut one
 * direction at a time, so partitions may be asymmetric.
 *
 * <p>Messages go through Keel's {@link RaftCodec} (encoded when sent, decoded when delivered,
 * each copy separately), as they will on the event bus: the receiver never shares an object
 * with the sender, and the wire format is exercised by every simulated run.
 */
final class SimNetwork {

  /** The codec tag of the new-term operation (the real node must register the same). */
  static final byte NEW_TERM_TAG = 1;

  private final TaskQueue queue;
  private final SplittableRandom random;
  private final Function<String, RaftNode> liveNodes;
  private final Function<String, LeaderLease> leases;
  private final Set<String> cut = new HashSet<>();
  private final RaftCodec codec = new RaftCodec(new DefaultRaftModelFactory(), NodeEndpoint::new,
      Map.of(NEW_TERM_TAG, PartitionStateMachineAdapter.NewTermOperation.INSTANCE));
  int delayMsMin = 1;
  int delayMsMax = 15;
  double dropRate;
  double duplicateRate;
  // Whether delivery goes through Keel's remedies (RaftDelivery), as on the event bus (off to
  // show the MicroRaft defects they work around).
  boolean staleTermRemedy = true;
  // Whether appends go through SnapshotTail (off to show MicroRaft's stall alone).
  boolean snapshotTailRemedy = true;
  long sent;
  long delivered;
  long dropped;

  /**
   * @param liveNodes the running Raft node of a node id, or null if it is down
   * @param leases the lease of a node id's running replica, or null (down, or no leases): its
   *     messages are stamped and its deliveries noted as on the event bus ({@link LeaseReads})
   */
  SimNetwork(TaskQueue queue, SplittableRandom random, Function<String, RaftNode> liveNodes,
      Function<String, LeaderLease> leases) {
    this.queue = queue;
    this.random = random;
    this.liveNodes = liveNodes;
    this.leases = leases;
  }

  Transport transport(String from) {
    return new Transport() {
      @Override
      public void send(RaftEndpoint target, RaftMessage message) {
        SimNetwork.this.send(from, (String) target.getId(), message);
      }

      @Override
      public boolean isReachable(RaftEndpoint target) {
        return !isCut(from, (String) target.getId());
      }
    };
  }

  void cut(String from, String to) {
    cut.add(from + ">" + to);
  }

  /** Cuts both directions between two nodes. */
  void cutBoth(String a, String b) {
    cut(a, b);
    cut(b, a);
  }

  void healAll() {
    cut.clear();
  }

  boolean isCut(String from, String to) {
    return cut.contains(from + ">" + to);
  }

  int cutLinks() {
    return cut.size();
  }

  private void send(String from, String to, RaftMessage message) {
    sent++;
    if (isCut(from, to) || random.nextDouble() < dropRate) {
      dropped++;
      return;
    }
    byte[] bytes = codec.encode(message);
    long stamp = LeaseReads.stamp(message, m -> leases.apply(from), queue.nowMs() * 1_000_000L);
    int copies = random.nextDouble() < duplicateRate ? 2 : 1;
    for (int i = 0; i < copies; i++) {
      queue.schedule(delayMsMin + random.nextInt(delayMsMax - delayMsMin + 1),
          () -> deliver(from, to, bytes, stamp));
    }
  }

  private void deliver(String from, String to, byte[] bytes, long stamp) {
    RaftNode node = liveNodes.apply(to);
    if (node == null || isCut(from, to)) {
      dropped++;
      return;
    }
    delivered++;
    RaftMessage message = codec.decode(bytes);
    if (staleTermRemedy
        && (snapshotTailRemedy || !(message instanceof AppendEntriesRequest))) {
      RaftDelivery.deliver(node, message, stamp, leases.apply(to));
    } else {
      node.handle(message);
    }
  }
}
