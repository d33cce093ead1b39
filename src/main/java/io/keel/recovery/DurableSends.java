package io.keel.recovery;

import io.microraft.RaftEndpoint;
import io.microraft.model.message.RaftMessage;
import io.microraft.transport.Transport;
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
 * <p>Messages leave in the order they were sent. All methods run on the owning thread;
 * {@code owner} brings the release back to it when a barrier completes elsewhere.
 */
public final class DurableSends implements Transport {
  private final Transport inner;
  private final Supplier<? extends CompletableFuture<?>> barrier;
  private final DurableOrder order;

  /**
   * Sends through {@code inner} once the future {@code barrier} gives at the time of the send
   * completes; one that fails (the log failed) drops its messages.
   *
   * @param owner runs a task on the thread that owns this transport
   */
  public DurableSends(Transport inner, Supplier<? extends CompletableFuture<?>> barrier,
      Executor owner) {
    this.inner = inner;
    this.barrier = barrier;
    this.order = new DurableOrder(owner);
  }

  @Override
  public void send(RaftEndpoint target, RaftMessage message) {
    order.submit(barrier.get(), () -> inner.send(target, message));
  }

  @Override
  public boolean isReachable(RaftEndpoint target) {
    return inner.isReachable(target);
  }

  /** Drops every held message and sends nothing more: the node died, or its groups stopped. */
  public void close() {
    order.close();
  }
}
