package io.keel.recovery;

import io.microraft.Ordered;
import io.microraft.QueryPolicy;
import io.microraft.RaftConfig;
import io.microraft.RaftEndpoint;
import io.microraft.RaftNodeStatus;
import io.microraft.RaftRole;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.impl.log.RaftLog;
import io.microraft.impl.state.RaftState;
import io.microraft.model.log.BaseLogEntry;
import io.microraft.model.message.AppendEntriesRequest;
import io.microraft.model.message.AppendEntriesSuccessResponse;
import io.microraft.model.message.RaftMessage;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Linearizable reads of a partition's leader: from its own state while it holds a
 * {@link LeaderLease}, otherwise after a round of heartbeats to a majority (MicroRaft's
 * {@code LINEARIZABLE} query).
 *
 * <p>Why not MicroRaft's own {@code LEADER_LEASE} policy: MicroRaft 0.7 takes the time a
 * majority last answered, not the time the answered heartbeats left, so a late answer stretches
 * its lease past the followers' promise; it reads before the leader has committed an entry of
 * its term, when its commit index may still lag what an earlier leader acknowledged; and it
 * ignores leadership transfers, whose target campaigns at once. This class checks all three on
 * the replica's executor, in the same task that then queries.
 *
 * <p>Every node that runs groups does the same four things: stamps its messages
 * ({@link #stamp}), delivers through {@link RaftDelivery} with the replica's lease, makes a
 * replica restored from disk keep its promise ({@link #restored}), and transfers leadership
 * through {@link #transfer}. Keel's nodes and the simulation share this code. It uses
 * MicroRaft's implementation classes, the only way to see that state.
 */
final class LeaseReads {
  private LeaseReads() {}

  /**
   * How long a lease lasts under {@code config}: two thirds of the heartbeat timeout, the
   * followers' promise; the rest is margin for clock rates and scheduling.
   */
  static long leaseNanos(RaftConfig config) {
    return TimeUnit.SECONDS.toNanos(config.getLeaderHeartbeatTimeoutSecs()) * 2 / 3;
  }

  /**
   * The stamp {@code message} carries when its replica sends it at {@code now}: a leader's
   * append carries the time it leaves, a follower's successful answer echoes the newest append
   * its lease ({@code leaseOf}, asked only then; null for none) accepted; nothing else is
   * stamped.
   */
  static long stamp(RaftMessage message, Function<RaftMessage, LeaderLease> leaseOf, long now) {
    if (message instanceof AppendEntriesRequest) {
      return now;
    }
    if (message instanceof AppendEntriesSuccessResponse) {
      LeaderLease lease = leaseOf.apply(message);
      return lease == null ? LeaderLease.NONE : lease.echo(message.getTerm());
    }
    return LeaderLease.NONE;
  }

  /**
   * Call right after building a replica from its disk, before it starts. Before it stopped it
   * may have answered a leader whose lease counts on its vote for a heartbeat timeout, and it
   * remembers nothing of that: it neither campaigns nor votes for a timeout from now, as if it
   * had just heard a leader.
   */
  static void restored(RaftNodeImpl impl) {
    impl.getExecutor().execute(impl::leaderHeartbeatReceived);
  }

  /**
   * Starts a leadership transfer to {@code to}, ending {@code impl}'s lease for the rest of its
   * term first: the target campaigns without stickiness. Call on the replica's executor.
   */
  static CompletableFuture<Ordered<Object>> transfer(RaftNodeImpl impl, LeaderLease lease,
      RaftEndpoint to) {
    lease.suspend(impl.state().term());
    return impl.transferLeadership(to);
  }

  /** Whether {@code impl} may answer a linearizable read from its own state at {@code now}. */
  static boolean holds(RaftNodeImpl impl, LeaderLease lease, long now) {
    RaftState state = impl.state();
    if (impl.getStatus() != RaftNodeStatus.ACTIVE || state.role() != RaftRole.LEADER
        || state.leadershipTransferState() != null) {
      return false;
    }
    long commit = state.commitIndex();
    RaftLog log = state.log();
    BaseLogEntry committed = commit == log.snapshotIndex() ? log.snapshotEntry()
        : log.getLogEntry(commit);
    if (committed == null || committed.getTerm() != state.term()) {
      return false; // its commit index may lag an earlier leader's acknowledgements
    }
    if (state.lastApplied() < commit) {
      return false;
    }
    return lease.holds(state.term(), impl.getLocalEndpoint(),
        state.effectiveGroupMembers().getVotingMembers(), now);
  }

  /**
   * Answers {@code query} linearizably on {@code impl}'s executor, {@code clock} giving the
   * time in the lease's nanoseconds; with a null {@code lease}, always after a heartbeat round.
   * {@code leased} hears whether the lease served it. Fails as MicroRaft's query does when
   * {@code impl} does not lead.
   */
  static <T> CompletableFuture<Ordered<T>> query(RaftNodeImpl impl, LeaderLease lease,
      Object query, LongSupplier clock, Consumer<Boolean> leased) {
    CompletableFuture<Ordered<T>> read = new CompletableFuture<>();
    impl.getExecutor().execute(() -> {
      boolean local = lease != null && holds(impl, lease, clock.getAsLong());
      leased.accept(local);
      CompletableFuture<Ordered<T>> answer = local
          // It has applied everything committed; the read sees at least that.
          ? impl.query(query, QueryPolicy.EVENTUAL_CONSISTENCY,
              Optional.of(impl.state().commitIndex()), Optional.empty())
          : impl.query(query, QueryPolicy.LINEARIZABLE, Optional.empty(), Optional.empty());
      answer.whenComplete((ordered, e) -> {
        if (e != null) {
          read.completeExceptionally(e);
        } else {
          read.complete(ordered);
        }
      });
    });
    return read;
  }
}
