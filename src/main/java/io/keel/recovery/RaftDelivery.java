package io.keel.recovery;

import io.microraft.RaftNode;
import io.microraft.RaftNodeStatus;
import io.microraft.RaftRole;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.impl.handler.AppendEntriesFailureResponseHandler;
import io.microraft.impl.handler.AppendEntriesSuccessResponseHandler;
import io.microraft.impl.state.RaftState;
import io.microraft.model.message.AppendEntriesFailureResponse;
import io.microraft.model.message.AppendEntriesRequest;
import io.microraft.model.message.AppendEntriesSuccessResponse;
import io.microraft.model.message.PreVoteResponse;
import io.microraft.model.message.RaftMessage;

/**
 * Hands a received Raft message to its replica, as {@code RaftNode.handle} does, with Keel's
 * work-arounds for MicroRaft 0.7 on the way: an append goes to its handler through
 * {@link SnapshotTail}, on the replica's executor in one task as {@code handle} would run it; a
 * refused pre-vote is then seen by {@link StaleTerm}; an answer to an append of an earlier
 * term is dropped, as Raft says. The event-bus transport and the
 * simulation's network both deliver through here. With a {@link LeaderLease}, the stamps of
 * appends a follower accepts and of the successful responses its leader receives are noted in
 * the same task as the handler, so they describe the state the handler left.
 */
final class RaftDelivery {
  private RaftDelivery() {}

  /** Delivers {@code message} to {@code raft}. */
  static void deliver(RaftNode raft, RaftMessage message) {
    deliver(raft, message, LeaderLease.NONE, null);
  }

  /**
   * Delivers {@code message}, stamped {@code stamp}, to {@code raft}, noting the stamp in
   * {@code lease} (the replica's own; null for none).
   */
  static void deliver(RaftNode raft, RaftMessage message, long stamp, LeaderLease lease) {
    if (!(raft instanceof RaftNodeImpl impl)) {
      raft.handle(message);
      return;
    }
    boolean noted = lease != null && stamp != LeaderLease.NONE;
    if (message instanceof AppendEntriesRequest append) {
      if (!RaftNodeStatus.isTerminal(impl.getStatus())) {
        impl.getExecutor().execute(() -> {
          SnapshotTail.handle(impl, append);
          RaftState state = impl.state();
          // Accepted: the sender leads this replica's term, and stickiness holds from now.
          if (noted && state.term() == append.getTerm()
              && append.getSender().equals(state.leader())) {
            lease.heard(append.getTerm(), stamp);
          }
        });
      }
      return;
    }
    // MicroRaft 0.7 drops only answers to appends of a later term. One of an earlier term, late
    // because its sender's disk or the network held it, describes the sender's log as it was
    // then: counted in this term, its index would count a follower as holding entries it lacks,
    // and its query number would acknowledge another term's read. Such answers are dropped.
    if (message instanceof AppendEntriesSuccessResponse
        || message instanceof AppendEntriesFailureResponse) {
      if (!RaftNodeStatus.isTerminal(impl.getStatus())) {
        impl.getExecutor().execute(() -> answer(impl, message, stamp, noted ? lease : null));
      }
      return;
    }
    impl.handle(message);
    if (message instanceof PreVoteResponse refusal && !refusal.isGranted()) {
      StaleTerm.refused(impl, refusal);
    }
  }

  /** Runs an append's answer on the replica's executor, unless it answers an earlier term. */
  private static void answer(RaftNodeImpl impl, RaftMessage message, long stamp,
      LeaderLease lease) {
    if (message.getTerm() < impl.state().term()) {
      return;
    }
    if (message instanceof AppendEntriesSuccessResponse ok) {
      new AppendEntriesSuccessResponseHandler(impl, ok).run();
      RaftState state = impl.state();
      if (lease != null && state.role() == RaftRole.LEADER && state.term() == ok.getTerm()) {
        lease.acknowledged(ok.getTerm(), ok.getSender(), stamp);
      }
    } else {
      new AppendEntriesFailureResponseHandler(impl, (AppendEntriesFailureResponse) message).run();
    }
  }
}
