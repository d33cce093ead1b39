package io.keel.recovery;

import io.microraft.RaftNode;
import io.microraft.RaftNodeStatus;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.impl.state.RaftState;

/**
 * Keeps a replica that has just applied its own removal from spinning for ever: a work-around
 * for a liveness defect of MicroRaft 0.7.
 *
 * <p>The defect. {@code RaftNodeImpl.applyLogEntries} applies committed entries in rounds that
 * end at snapshot points, and takes a snapshot at each point unless the node is terminal. A
 * replica that applies the entry removing it turns TERMINATED and goes on applying the entries
 * after it; if the commit index it knows lies beyond the next snapshot point, the round ends
 * there, no snapshot moves the point, and the loop never ends (membership simulation seed 7012:
 * a follower; seed 1040: a new leader, which {@link CampaignGuard} prevents). On a node, the
 * spinning replica would hold one of the group host threads, and every group on it, for ever.
 *
 * <p>The remedy runs when MicroRaft reports the commit of a membership entry (its
 * {@code InternalCommitAware} hook, which it calls after it set the status): if the replica is
 * now TERMINATED, its commit index is lowered to that entry, so the loop ends after the current
 * round. The replica is out of the group; the entries it does not apply are not its own.
 */
final class SelfRemoval {
  private SelfRemoval() {}

  /** On the replica's executor, once the membership entry at {@code index} is applied. */
  static boolean stopApplying(RaftNode raft, long index) {
    if (!(raft instanceof RaftNodeImpl impl) || impl.getStatus() != RaftNodeStatus.TERMINATED) {
      return false;
    }
    RaftState state = impl.state();
    if (state.commitIndex() <= index) {
      return false;
    }
    state.commitIndex(index); // MicroRaft asserts commit indexes only grow: it runs without -ea
    return true;
  }
}
