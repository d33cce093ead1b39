package io.keel.recovery;

import io.microraft.RaftNode;
import io.microraft.RaftNodeStatus;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.impl.handler.AppendEntriesRequestHandler;
import io.microraft.model.message.AppendEntriesRequest;
import io.microraft.model.message.PreVoteResponse;
import io.microraft.model.message.RaftMessage;

/**
 * Hands a received Raft message to its replica, as {@code RaftNode.handle} does, with Keel's
 * work-arounds for MicroRaft 0.7 on the way: an append goes through {@link SnapshotTail} on the
 * replica's executor right before its handler, in one task as {@code handle} would run it; a
 * refused pre-vote is then seen by {@link StaleTerm}. The event-bus transport and the
 * simulation's network both deliver through here.
 */
final class RaftDelivery {
  private RaftDelivery() {}

  /** Delivers {@code message} to {@code raft}. */
  static void deliver(RaftNode raft, RaftMessage message) {
    if (!(raft instanceof RaftNodeImpl impl)) {
      raft.handle(message);
      return;
    }
    if (message instanceof AppendEntriesRequest append) {
      if (!RaftNodeStatus.isTerminal(impl.getStatus())) {
        impl.getExecutor().execute(() ->
            new AppendEntriesRequestHandler(impl, SnapshotTail.adapt(impl, append)).run());
      }
      return;
    }
    impl.handle(message);
    if (message instanceof PreVoteResponse refusal && !refusal.isGranted()) {
      StaleTerm.refused(impl, refusal);
    }
  }
}
