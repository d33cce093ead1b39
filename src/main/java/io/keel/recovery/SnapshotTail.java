package io.keel.recovery;

import io.microraft.RaftEndpoint;
import io.microraft.RaftNodeStatus;
import io.microraft.RaftRole;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.impl.handler.AppendEntriesRequestHandler;
import io.microraft.impl.log.RaftLog;
import io.microraft.impl.state.RaftState;
import io.microraft.model.groupop.RaftGroupOp;
import io.microraft.model.groupop.UpdateRaftGroupMembersOp;
import io.microraft.model.log.LogEntry;
import io.microraft.model.message.AppendEntriesRequest;
import java.util.List;

/**
 * Lets a replica take an append that starts at or before its snapshot: a work-around for a
 * liveness defect of MicroRaft 0.7.
 *
 * <p>The defect. A replica with a snapshot at index S checks an append whose previous index is
 * S or below by looking that entry up in its log. There is none, it is in the snapshot (unless
 * the previous index is S and the log holds nothing after S), so the replica refuses, and the
 * leader cannot go back further than the index it knows the replica holds ("Cannot decrement
 * next index"). The replica is stuck until the leader sends a snapshot, which it does only
 * once its own log no longer holds the entries the replica needs: possibly never
 * ({@code SimMicroRaftStallTest}). Two ways in, both after a crash: the replica restarts from a
 * snapshot with entries after it, and the leader resends from S (plain simulation seeds 6845,
 * 10284, 10732); or the replica took its snapshot past the last index the leader heard it
 * acknowledge, and the leader resends from below S (plain seeds 6385, 10515). MicroRaft's main
 * branch takes the snapshot's term for S in that check; 0.7, the latest release, does not.
 *
 * <p>The remedy does what Raft asks of the check. Everything up to S is committed, so the
 * leader's log agrees with the snapshot there; the remedy checks the one term it can (the
 * append's entry or previous term at S is the snapshot's) and then hands the replica the part
 * of the append after S:
 * <ul>
 *   <li>from after the last of its first entries that the replica already holds with the same
 *   term, with that entry as the previous one, which the replica finds in its log;</li>
 *   <li>from S + 1, with the snapshot's term as the previous one, when the replica holds
 *   nothing after S or its entry at S + 1 conflicts. In the second case the replica first
 *   drops its entries from S + 1 on, as Raft says and as MicroRaft's handler does after the
 *   check (failing the futures of those entries, reverting a membership change among them).
 *   Its last index is then S, so the check takes the snapshot's term.</li>
 * </ul>
 * It is the same append from the same leader, and its answer names the same last index. An
 * append from a leader behind the replica's term, or that a replica of 0.7 takes anyway, is
 * handed over as it came.
 *
 * <p>An append with nothing after S (a heartbeat while the leader still looks for where the
 * logs agree, or a batch that ends at or before S) would be refused the same way, for ever
 * (membership seeds 2239 and 3323: a new leader whose commit index was behind a follower's
 * snapshot probed it with empty appends from below S). The remedy answers it as
 * the handler would answer an append that agrees up to S: the replica takes the sender as its
 * leader of that term, and succeeds with S as its last index, which is true, since everything
 * up to S is committed and a leader holds every committed entry. The leader then sends from
 * S + 1, which the remedy above hands over. This uses MicroRaft's implementation classes;
 * {@link #handle} runs the append's handler itself, on the replica's executor.
 */
final class SnapshotTail {
  private SnapshotTail() {}

  /**
   * Hands {@code append} to {@code impl}'s append handler, as {@code RaftNode.handle} would,
   * with the remedy on the way; on its executor, as one task.
   */
  static void handle(RaftNodeImpl impl, AppendEntriesRequest append) {
    RaftNodeStatus status = impl.getStatus();
    RaftState state = impl.state();
    RaftLog log = state.log();
    long snapshot = log.snapshotIndex();
    long prev = append.getPreviousLogIndex();
    boolean taken = RaftNodeStatus.isTerminal(status) || status == RaftNodeStatus.INITIAL
        || snapshot == 0 || prev > snapshot || append.getTerm() < state.term()
        || (prev == snapshot && log.lastLogOrSnapshotIndex() == snapshot);
    if (taken) { // as 0.7 takes it, or refused for the leader's stale term
      new AppendEntriesRequestHandler(impl, append).run();
    } else if (prev + append.getLogEntries().size() <= snapshot) {
      answerAtSnapshot(impl, append, snapshot);
    } else {
      new AppendEntriesRequestHandler(impl, afterSnapshot(impl, append, snapshot)).run();
    }
  }

  /** Answers {@code append}, which lies wholly at or before {@code snapshot}. */
  private static void answerAtSnapshot(RaftNodeImpl impl, AppendEntriesRequest append,
      long snapshot) {
    RaftState state = impl.state();
    // What the handler does before its check: newer term, leader, heartbeat.
    if (append.getTerm() > state.term()
        || (state.role() != RaftRole.FOLLOWER && state.role() != RaftRole.LEARNER)) {
      impl.toFollower(append.getTerm());
    }
    RaftEndpoint leader = append.getSender();
    if (!leader.equals(state.leader())) {
      impl.leader(leader);
    }
    impl.leaderHeartbeatReceived();
    impl.send(leader, impl.getModelFactory().createAppendEntriesSuccessResponseBuilder()
        .setGroupId(impl.getGroupId()).setSender(impl.getLocalEndpoint()).setTerm(state.term())
        .setLastLogIndex(snapshot).setQuerySequenceNumber(append.getQuerySequenceNumber())
        .setFlowControlSequenceNumber(append.getFlowControlSequenceNumber()).build());
  }

  /**
   * The part of {@code append}, which starts at or before {@code snapshot} and goes past it,
   * that {@code impl} can take, after any cut of its tail.
   */
  private static AppendEntriesRequest afterSnapshot(RaftNodeImpl impl,
      AppendEntriesRequest append, long snapshot) {
    RaftLog log = impl.state().log();
    long prev = append.getPreviousLogIndex();
    List<LogEntry> entries = append.getLogEntries();
    int snapshotTerm = log.snapshotEntry().getTerm();
    int agreed = prev == snapshot ? append.getPreviousLogTerm()
        : entries.get((int) (snapshot - prev - 1)).getTerm();
    if (agreed != snapshotTerm) {
      return append;
    }
    List<LogEntry> after = entries.subList((int) (snapshot - prev), entries.size());
    int matching = 0;
    for (LogEntry e : after) {
      LogEntry own = log.getLogEntry(e.getIndex());
      if (own == null || own.getTerm() != e.getTerm()) {
        break;
      }
      matching++;
    }
    if (matching == 0 && log.lastLogOrSnapshotIndex() > snapshot) {
      cut(impl, snapshot + 1);
    }
    LogEntry last = matching == 0 ? null : after.get(matching - 1);
    return impl.getModelFactory().createAppendEntriesRequestBuilder()
        .setGroupId(append.getGroupId()).setSender(append.getSender()).setTerm(append.getTerm())
        .setPreviousLogIndex(last == null ? snapshot : last.getIndex())
        .setPreviousLogTerm(last == null ? snapshotTerm : last.getTerm())
        .setCommitIndex(append.getCommitIndex())
        .setLogEntries(List.copyOf(after.subList(matching, after.size())))
        .setQuerySequenceNumber(append.getQuerySequenceNumber())
        .setFlowControlSequenceNumber(append.getFlowControlSequenceNumber()).build();
  }

  /** Drops {@code from} and every later entry, as MicroRaft's append handler does. */
  private static void cut(RaftNodeImpl impl, long from) {
    RaftState state = impl.state();
    List<LogEntry> dropped = state.log().truncateEntriesFrom(from);
    state.invalidateFuturesFrom(from, impl.newNotLeaderException());
    for (LogEntry e : dropped) {
      if (e.getOperation() instanceof RaftGroupOp) {
        impl.setStatus(RaftNodeStatus.ACTIVE);
        if (e.getOperation() instanceof UpdateRaftGroupMembersOp) {
          impl.revertGroupMembers();
        }
        break;
      }
    }
    state.log().flush();
  }
}
