package io.keel.recovery;

import io.microraft.RaftNodeStatus;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.impl.log.RaftLog;
import io.microraft.impl.state.RaftState;
import io.microraft.model.groupop.RaftGroupOp;
import io.microraft.model.groupop.UpdateRaftGroupMembersOp;
import io.microraft.model.log.LogEntry;
import io.microraft.model.message.AppendEntriesRequest;
import java.util.List;

/**
 * Lets a replica whose log holds entries after its snapshot accept an append that starts right
 * at the snapshot: a work-around for a liveness defect of MicroRaft 0.7.
 *
 * <p>The defect. A replica with a snapshot at index S and log entries after S (restored so, or
 * it took the snapshot with entries already appended) checks an append whose previous index is
 * S by looking up the log entry at S. There is none, it is in the snapshot, so the replica
 * refuses, and the leader cannot go back further than the index it knows the replica holds
 * ("Cannot decrement next index"). The replica is stuck until the leader sends a snapshot,
 * which it does only once its own log no longer holds the entries after S: possibly never
 * ({@code SimMicroRaftStallTest}; plain simulation seeds 6845, 10284, 10732: a replica
 * restored from a snapshot stopped 4 entries short for good). MicroRaft's main branch takes the
 * snapshot's term for S in that check; 0.7, the latest release, does not.
 *
 * <p>The remedy, for such an append from a leader not behind the replica's term whose previous
 * term is the snapshot's (so the two logs agree up to S), does what Raft asks of the check:
 * <ul>
 *   <li>when the append's first entries match the replica's own, it is handed over starting
 *       after the last of them, with that entry as its previous one, which the replica finds in
 *       its log. It is the same append from the same leader, and its answer names the same
 *       last index;</li>
 *   <li>when its first entry (S + 1) conflicts with the replica's, the replica drops its
 *       entries from S + 1 on, as Raft says and as MicroRaft's handler does after the check
 *       (failing the futures of those entries, reverting a membership change among them), and
 *       then takes the append unchanged: its previous index is now the replica's last.</li>
 * </ul>
 * Everything else is handed over as it came. This uses MicroRaft's implementation classes; it
 * must run on the replica's executor, right before the append's handler.
 */
final class SnapshotTail {
  private SnapshotTail() {}

  /** {@code append} as {@code impl} can take it, after any cut of its tail; on its executor. */
  static AppendEntriesRequest adapt(RaftNodeImpl impl, AppendEntriesRequest append) {
    RaftNodeStatus status = impl.getStatus();
    if (RaftNodeStatus.isTerminal(status) || status == RaftNodeStatus.INITIAL) {
      return append;
    }
    RaftState state = impl.state();
    RaftLog log = state.log();
    long snapshot = log.snapshotIndex();
    List<LogEntry> entries = append.getLogEntries();
    if (snapshot == 0 || append.getPreviousLogIndex() != snapshot
        || log.lastLogOrSnapshotIndex() <= snapshot || entries.isEmpty()
        || append.getTerm() < state.term()
        || append.getPreviousLogTerm() != log.snapshotEntry().getTerm()) {
      return append;
    }
    int matching = 0;
    for (LogEntry e : entries) {
      LogEntry own = log.getLogEntry(e.getIndex());
      if (own == null || own.getTerm() != e.getTerm()) {
        break;
      }
      matching++;
    }
    if (matching == 0) {
      cut(impl, snapshot + 1);
      return append;
    }
    LogEntry last = entries.get(matching - 1);
    return impl.getModelFactory().createAppendEntriesRequestBuilder()
        .setGroupId(append.getGroupId()).setSender(append.getSender()).setTerm(append.getTerm())
        .setPreviousLogIndex(last.getIndex()).setPreviousLogTerm(last.getTerm())
        .setCommitIndex(append.getCommitIndex())
        .setLogEntries(List.copyOf(entries.subList(matching, entries.size())))
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
