package io.keel.recovery;

import io.microraft.RaftNodeStatus;
import io.microraft.RaftRole;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.impl.state.RaftState;
import io.microraft.model.message.PreVoteResponse;

/**
 * Lets a pre-candidate whose term is behind learn the newer term from a refused pre-vote
 * ({@link RaftDelivery}): a work-around for a liveness defect of MicroRaft 0.7.
 *
 * <p>The defect. A replica refuses a pre-vote for a term below its own and answers with its own
 * term, as Raft says; but MicroRaft's {@code PreVoteResponseHandler} only counts grants and never
 * looks at that term. A replica whose term fell behind (it was down or cut off while the others
 * held elections that nobody won) then asks for pre-votes at its old term for ever. When that
 * replica has the longest log, nobody can win: the others refuse its pre-votes for their higher
 * terms, it refuses theirs for their shorter logs (simulation seed 6426: three live replicas and
 * no leader 30 s after healing).
 *
 * <p>The remedy does what etcd's Raft does with such an answer: the replica moves to the higher
 * term as a follower ({@code RaftNodeImpl.toFollower}: no vote, no leader in that term), and its
 * next pre-vote asks for the term after it. Moving to a term another replica already has is
 * always safe in Raft. Only refusals for a stale term count: they carry a term above the one
 * the pre-vote asked for (the replica's own plus one); the other refusals carry that very term.
 */
final class StaleTerm {
  private StaleTerm() {}

  /** After {@code refusal} reached {@code impl}: applies the remedy on its executor. */
  static void refused(RaftNodeImpl impl, PreVoteResponse refusal) {
    impl.getExecutor().submit(() -> catchUp(impl, refusal.getTerm()));
  }

  /** On the replica's executor: moves it to {@code term} if it is a follower far behind it. */
  static boolean catchUp(RaftNodeImpl impl, int term) {
    if (RaftNodeStatus.isTerminal(impl.getStatus()) || impl.getStatus() == RaftNodeStatus.INITIAL) {
      return false;
    }
    RaftState state = impl.state();
    if (state.role() != RaftRole.FOLLOWER || term <= state.term() + 1) {
      return false;
    }
    impl.toFollower(term);
    return true;
  }
}
