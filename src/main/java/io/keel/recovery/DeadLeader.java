package io.keel.recovery;

import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.RaftNodeStatus;
import io.microraft.RaftRole;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.impl.state.RaftState;

/**
 * Makes a replica forget a leader that is gone, so that it campaigns: a work-around for a
 * liveness defect of MicroRaft 0.7.
 *
 * <p>The defect. A follower whose leader's heartbeats come late (a loaded machine, a leadership
 * hand-over) starts a pre-vote and becomes a pre-candidate. When the leader's next append
 * arrives in the same term, the follower takes that leader back but keeps its pre-candidate
 * state ({@code AppendEntriesRequestHandler} clears it only on a newer term), and its pre-vote
 * timeout then stops because a leader is known. From then on its heartbeat task never
 * suspects the leader ({@code HeartbeatTask} checks the leader's heartbeats only without a
 * pre-candidate state). When that leader dies and every follower is in this state, nobody
 * campaigns and the group has no leader until the dead node comes back: a partition stays
 * unavailable for good if it never does. {@code SimDeadLeaderTest} reproduces it.
 *
 * <p>The remedy. A replica whose leader's node has left the cluster is moved to follower of its
 * own term ({@code RaftNodeImpl.toFollower}), which drops the leader and any (pre-)candidate
 * state and keeps the term and the vote: what a follower is after its leader's heartbeats time
 * out, so it is safe. Its next heartbeat round sees no leader and starts a pre-vote. This uses
 * MicroRaft's implementation class, the only way to reach that state; it must run on the
 * replica's executor.
 */
final class DeadLeader {
  private DeadLeader() {}

  /**
   * Makes {@code raft} forget {@code leader} if that is still the leader it follows; true if it
   * did. Call on the replica's executor.
   */
  static boolean forget(RaftNode raft, RaftEndpoint leader) {
    if (!(raft instanceof RaftNodeImpl impl) || RaftNodeStatus.isTerminal(impl.getStatus())
        || impl.getStatus() == RaftNodeStatus.INITIAL) {
      return false;
    }
    RaftState state = impl.state();
    if (state.role() == RaftRole.LEADER || state.role() == RaftRole.CANDIDATE
        || leader == null || !leader.equals(state.leader())) {
      return false;
    }
    impl.toFollower(state.term());
    return true;
  }
}
