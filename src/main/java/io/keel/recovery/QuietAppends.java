package io.keel.recovery;

import io.microraft.RaftEndpoint;
import io.microraft.model.message.AppendEntriesRequest;
import io.microraft.model.message.RaftMessage;
import io.microraft.transport.Transport;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A Raft transport that drops a leader's empty append to a follower that heard from it a moment
 * ago, when MicroRaft waits for no answer to it: it would only tell the follower a newer commit
 * index, which the next append or heartbeat tells it anyway.
 *
 * <p>Why. After every commit MicroRaft sends each follower that holds the leader's log and owes it
 * no answer an empty append with the new commit index, and the follower answers it: a second round
 * trip per follower and write, after the one that carried the entry, for news no one waits for. A
 * client's answer depends only on the leader's commit; a follower applies the entry once it learns
 * of the commit, with the next append of the group (which carries the commit index) or the next
 * heartbeat, so its state trails by at most a heartbeat period (as the executor's timers stretch
 * it) plus {@code quietNanos}. Reads from followers (stale reads) were allowed to trail anyway.
 *
 * <p>Which. An {@link AppendEntriesRequest} with no entries and no flow-control sequence number
 * (MicroRaft sets one when it waits for the answer: to learn a follower's log, or for a query
 * round), to a target that was sent an append of the same group less than {@code quietNanos}
 * ago. A heartbeat is dropped by the same rule, so a follower that receives appends is sent
 * heartbeats only in pauses of at least {@code quietNanos}; a follower's leader timeout, the
 * leader's quorum timeout and its lease are all renewed by any append and its answer, and the
 * gap between two appends sent to a follower stays below the heartbeat period plus
 * {@code quietNanos} (a heartbeat dropped came less than {@code quietNanos} after an append; the
 * next one comes a period later), which must be well below those timeouts.
 *
 * <p>Why it is safe. Raft tolerates any message lost; this loses only messages whose answer no
 * one waits for. Every other message passes unchanged and in order. All methods run on the
 * owning thread.
 */
public final class QuietAppends implements Transport {
  private static final int TARGETS_MAX = 16;
  private final Transport inner;
  private final LongSupplier nanoClock;
  private final long quietNanos;
  // Per group and target: when the last append left.
  private final Map<Object, Map<RaftEndpoint, Long>> lastSent = new HashMap<>();
  private long dropped;

  /**
   * Sends through {@code inner}, dropping as above the empty appends that follow another to the
   * same target within {@code quietNanos} of {@code nanoClock}.
   */
  public QuietAppends(Transport inner, LongSupplier nanoClock, long quietNanos) {
    if (quietNanos < 0) {
      throw new IllegalArgumentException("quietNanos must be >= 0, was " + quietNanos);
    }
    this.inner = inner;
    this.nanoClock = nanoClock;
    this.quietNanos = quietNanos;
  }

  @Override
  public void send(RaftEndpoint target, RaftMessage message) {
    if (message instanceof AppendEntriesRequest a) {
      long now = nanoClock.getAsLong();
      Map<RaftEndpoint, Long> group = lastSent.computeIfAbsent(a.getGroupId(),
          g -> new HashMap<>());
      if (group.size() > TARGETS_MAX) {
        // Replicas come and go under fresh ids: forget them all now and then. The next append
        // to each target leaves, and the rule holds again from there.
        group.clear();
      }
      Long last = group.get(target);
      if (a.getLogEntries().isEmpty() && a.getFlowControlSequenceNumber() == 0 && last != null
          && now - last < quietNanos) {
        dropped++;
        return;
      }
      group.put(target, now);
    }
    inner.send(target, message);
  }

  @Override
  public boolean isReachable(RaftEndpoint target) {
    return inner.isReachable(target);
  }

  /** How many appends were dropped. */
  public long dropped() {
    return dropped;
  }
}
