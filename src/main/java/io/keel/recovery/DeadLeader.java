package io.keel.recovery;

import io.microraft.RaftNode;
import io.microraft.RaftNodeStatus;
import io.microraft.RaftRole;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.impl.state.RaftState;

/**
 * Makes a replica give up a leader it no longer hears from, where MicroRaft 0.7 would follow
 * it for ever: a work-around for a liveness defect.
 *
 * <p>The defect. A follower whose leader's heartbeats come late (a loaded machine, a leadership
 * hand-over) starts a pre-vote and becomes a pre-candidate. When the leader's next append
 * arrives in the same term, the follower takes that leader back but keeps its pre-candidate
 * state ({@code AppendEntriesRequestHandler} clears it only on a newer term), and its pre-vote
 * timeout then stops because a leader is known. From then on its heartbeat task never
 * suspects the leader ({@code HeartbeatTask} checks the leader's heartbeats only without a
 * pre-candidate state). Two ways this stalls Keel:
 * <ul>
 *   <li>the leader dies while every follower is in this state: nobody campaigns, and the
 *       group has no leader until the dead node comes back, for good if it never does
 *       ({@code LockCrashIT} in CI; {@code SimDeadLeaderTest});
 *   <li>the group removes such a replica: the leader stops sending to it, the replica never
 *       becomes leaderless, so it never finds out that it was removed, and its node counts it
 *       as a leaving replica for ever ({@code MapCrashIT}).
 * </ul>
 *
 * <p>The remedy does what the heartbeat task would have done: a follower or learner that knows
 * a leader, has not heard from it for the leader heartbeat timeout and is still a pre-candidate
 * moves to follower of its own term ({@code RaftNodeImpl.toFollower}), which drops the leader
 * and the pre-candidate state and keeps the term and the vote, so it is safe. Its next
 * heartbeat round sees no leader and starts a pre-vote. This uses MicroRaft's implementation
 * classes, the only way to see and reach that state; it must run on the replica's executor.
 */
final class DeadLeader {
  private DeadLeader() {}

  /** Unsticks {@code raft} if it is in the state above; true if it did. On its executor. */
  static boolean unstick(RaftNode raft) {
    if (!(raft instanceof RaftNodeImpl impl) || RaftNodeStatus.isTerminal(impl.getStatus())
        || impl.getStatus() == RaftNodeStatus.INITIAL) {
      return false;
    }
    RaftState state = impl.state();
    if ((state.role() != RaftRole.FOLLOWER && state.role() != RaftRole.LEARNER)
        || state.leader() == null || state.preCandidateState() == null
        || !impl.isLeaderHeartbeatTimeoutElapsed()) {
      return false;
    }
    impl.toFollower(state.term());
    return true;
  }
}
