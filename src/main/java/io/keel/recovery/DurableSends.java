package io.keel.recovery;

import io.microraft.RaftEndpoint;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.message.AppendEntriesRequest;
import io.microraft.model.message.RaftMessage;
import io.microraft.transport.Transport;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * A Raft transport that lets a message leave only once everything its node wrote to its log
 * before the send is durable. With it, a group's store need not wait for fsync when MicroRaft
 * asks it to flush: nothing that depends on unsynced writes can be seen outside the node.
 *
 * <p>Why. MicroRaft calls {@code RaftStore.flush()} on the group's thread and waits: a follower
 * before it acknowledges entries, a leader before it counts its own copy. A node that runs
 * hundreds of groups on a few threads then waits for one fsync per group, one group at a time
 * per thread. Holding messages instead turns every group's flush into one shared fsync, which
 * is how multi-Raft systems persist a batch of groups and then send what depends on it.
 *
 * <p>Why it is safe. A crashed node's log keeps a prefix of its writes, so its disk is what the
 * node had written at some earlier moment; every message, acknowledgement and answer it gave
 * after that moment was still held here (or, for clients, by the same {@code barrier}) and died
 * with it. A follower's acknowledgement and a vote leave only after the entries or the vote are
 * on disk; a leader's commit index reaches followers only after its own copy is on disk, so an
 * entry anyone knows committed is on a majority of disks. A leader may apply an entry before
 * its copy is durable; its answers wait for the same barrier, so that state is never observed
 * if the entry is lost with the leader.
 *
 * <p>Early appends. Given a {@link RaftModelFactory}, a leader's append requests do not wait:
 * its entries go to the followers while its own copy is being written, as Raft allows (the
 * leader's disk write and the followers' run in parallel, and one at a time a write waits for
 * one fsync instead of two in a row). What must not leave early is the leader's commit
 * index, since the leader counted its own copy before it was durable. So each append leaves
 * with its commit index lowered to the highest one known safe, the greater of:
 * <ul>
 *   <li>the commit index the leader had when it sent an earlier message whose barrier has since
 *   completed: entries up to it were in the leader's log then, so they are on its disk now, and
 *   on the disks of the followers that acknowledged them, a majority;
 *   <li>the commit index, if the leader's own disk holds its log up to it: the last index of an
 *   earlier append of the same term whose barrier has since completed (MicroRaft writes an
 *   entry to the store before it sends it, and a leader never cuts its log within its term;
 *   another term's record counts for nothing, since the log may have been cut since).
 * </ul>
 * The second keeps followers current: the append that tells them of a commit usually leaves
 * after the leader's own write of the entry is done, since that write began before the
 * followers'. Answers to clients wait for the barrier anyway. A leader's first appends of a
 * term wait like other messages, until a barrier shows its term is on its disk (see
 * {@link #send}).
 *
 * <p>Every other message leaves in the order it was sent, after its barrier. Appends may pass
 * messages held before them, as a network may reorder; Raft takes that. All methods run on the
 * owning thread; {@code owner} brings the release back to it when a barrier completes
 * elsewhere.
 */
public final class DurableSends implements Transport {
  private final Transport inner;
  private final Supplier<? extends CompletableFuture<?>> barrier;
  private final DurableOrder order;
  private final RaftModelFactory early;
  // Per group: the highest commit index known to be on a majority of disks (see above).
  private final Map<Object, Long> safeCommits = new HashMap<>();
  // Per group: the last log index on this node's disk, as of the newest term it led.
  private final Map<Object, DurableLog> durableLogs = new HashMap<>();
  private boolean closed;

  /** A leader's log up to {@code index} is on disk; valid only within {@code term}. */
  private record DurableLog(int term, long index) {
    DurableLog newer(DurableLog other) {
      return other.term > term || (other.term == term && other.index > index) ? other : this;
    }
  }

  /**
   * Sends through {@code inner} once the future {@code barrier} gives at the time of the send
   * completes; one that fails (the log failed) drops its messages. Holds appends too.
   *
   * @param owner runs a task on the thread that owns this transport
   */
  public DurableSends(Transport inner, Supplier<? extends CompletableFuture<?>> barrier,
      Executor owner) {
    this(inner, barrier, owner, null);
  }

  /**
   * The same, but a leader's appends leave at once, with a commit index known safe, rebuilt with
   * {@code early} (null: hold them like the rest).
   */
  public DurableSends(Transport inner, Supplier<? extends CompletableFuture<?>> barrier,
      Executor owner, RaftModelFactory early) {
    this.inner = inner;
    this.barrier = barrier;
    this.order = new DurableOrder(owner);
    this.early = early;
  }

  @Override
  public void send(RaftEndpoint target, RaftMessage message) {
    if (closed) {
      return;
    }
    CompletableFuture<?> b = barrier.get();
    if (early == null || !(message instanceof AppendEntriesRequest a)) {
      order.submit(b, () -> inner.send(target, message));
      return;
    }
    Object group = a.getGroupId();
    long commit = a.getCommitIndex();
    DurableLog sent = new DurableLog(a.getTerm(),
        a.getPreviousLogIndex() + a.getLogEntries().size());
    // Once b completes, every entry up to commit, and the log up to the last entry sent, are
    // on this node's disk.
    Runnable learn = () -> {
      safeCommits.merge(group, commit, Math::max);
      durableLogs.merge(group, sent, DurableLog::newer);
    };
    DurableLog durable = durableLogs.get(group);
    if (durable == null || durable.term() != a.getTerm()) {
      // Until one barrier of this term has completed, the term itself may not be on disk: a
      // leader that is its group's only voter wins without sending a vote request, and if it
      // died now it could win the same term again with other entries at the same indices.
      order.submit(b, () -> {
        learn.run();
        inner.send(target, message);
      });
      return;
    }
    // Runs at once when nothing is waiting and b is done, so an idle leader's heartbeat
    // carries its commit index unchanged.
    order.submit(b, learn);
    long safe = Math.min(commit, Math.max(safeCommits.getOrDefault(group, 0L),
        durable.index()));
    inner.send(target, safe == commit ? a : withCommit(a, safe));
  }

  private AppendEntriesRequest withCommit(AppendEntriesRequest a, long commit) {
    return early.createAppendEntriesRequestBuilder().setGroupId(a.getGroupId())
        .setSender(a.getSender()).setTerm(a.getTerm()).setPreviousLogTerm(a.getPreviousLogTerm())
        .setPreviousLogIndex(a.getPreviousLogIndex()).setCommitIndex(commit)
        .setLogEntries(a.getLogEntries()).setQuerySequenceNumber(a.getQuerySequenceNumber())
        .setFlowControlSequenceNumber(a.getFlowControlSequenceNumber()).build();
  }

  @Override
  public boolean isReachable(RaftEndpoint target) {
    return inner.isReachable(target);
  }

  /** Drops every held message and sends nothing more: the node died, or its groups stopped. */
  public void close() {
    closed = true;
    order.close();
  }
}
