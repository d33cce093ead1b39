package io.keel.recovery;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * One replica's part in leader leases: the evidence that lets a leader answer a linearizable
 * read from its own state, without a round of heartbeats to a majority first.
 *
 * <p>Why it is safe. A follower that accepts an append from the leader of its term refuses to
 * vote for, or become, another candidate until it has heard nothing from that leader for the
 * heartbeat timeout (Raft's leader stickiness; a restarted replica keeps this promise by
 * waiting a whole timeout before it campaigns or votes). Every append a leader sends carries
 * a stamp, the leader's own monotonic time at sending; a follower echoes, in its successful
 * responses of that term, the stamp of the newest append it accepted from that term's leader.
 * So a response with stamp {@code s} proves that the follower heard the leader after {@code s}
 * and votes for nobody else until {@code s} plus the timeout at the earliest. While the leader
 * itself and enough followers to make a majority of the voters have echoed a stamp younger than
 * the lease, which is shorter than the timeout by a margin for clock rates, no other leader
 * can have been elected, and the leader's committed state is the newest there is. The stamps
 * never leave the clock that made them: no clocks are compared across machines.
 *
 * <p>The lease only holds for a term whose leader has committed an entry of its own (checked
 * by the caller) and is suspended for the rest of a term in which the leader started a
 * leadership transfer: the transfer's target campaigns without stickiness.
 *
 * <p>Pure and single-threaded: the caller runs it on the replica's executor. Stamps are
 * {@link System#nanoTime}-like values, which may be negative; {@link #NONE} marks no stamp.
 */
final class LeaderLease {
  /** No stamp. */
  static final long NONE = Long.MIN_VALUE;

  private final long leaseNanos;
  // Leader side: the term the acknowledgements belong to, and per voter the newest stamp it
  // echoed in that term.
  private int ackTerm = -1;
  private final Map<Object, Long> acked = new HashMap<>();
  private int suspendedTerm = -1;
  // Follower side: the newest stamp of an append accepted from the leader of heardTerm.
  private int heardTerm = -1;
  private long heardStamp = NONE;

  /** Leases of {@code leaseNanos}, which must be shorter than the heartbeat timeout. */
  LeaderLease(long leaseNanos) {
    if (leaseNanos <= 0) {
      throw new IllegalArgumentException("a lease must be positive, was " + leaseNanos + " ns");
    }
    this.leaseNanos = leaseNanos;
  }

  /** As a follower: this replica accepted an append stamped {@code stamp} in {@code term}. */
  void heard(int term, long stamp) {
    if (stamp == NONE || term < heardTerm) {
      return;
    }
    if (term > heardTerm || heardStamp == NONE) {
      heardTerm = term;
      heardStamp = stamp;
    } else {
      heardStamp = newer(heardStamp, stamp);
    }
  }

  /** The stamp to echo in a successful response of {@code term}, or {@link #NONE}. */
  long echo(int term) {
    return term == heardTerm ? heardStamp : NONE;
  }

  /** As a leader of {@code term}: voter {@code follower} echoed {@code stamp}. */
  void acknowledged(int term, Object follower, long stamp) {
    if (stamp == NONE || term < ackTerm) {
      return;
    }
    if (term > ackTerm) {
      acked.clear();
      ackTerm = term;
    }
    acked.merge(follower, stamp, LeaderLease::newer);
  }

  /** Ends the lease for the rest of {@code term}: a leadership transfer starts. */
  void suspend(int term) {
    suspendedTerm = Math.max(suspendedTerm, term);
  }

  /**
   * Whether {@code self}, leading {@code term} with {@code voters} as the voting members, holds
   * the lease at time {@code now}.
   */
  boolean holds(int term, Object self, Collection<?> voters, long now) {
    if (term != ackTerm || term <= suspendedTerm) {
      return false;
    }
    int votes = voters.contains(self) ? 1 : 0;
    for (Object voter : voters) {
      if (voter.equals(self)) {
        continue;
      }
      Long stamp = acked.get(voter);
      if (stamp != null && now - stamp < leaseNanos) {
        votes++;
      }
    }
    return votes > voters.size() / 2;
  }

  private static long newer(long a, long b) {
    return b - a > 0 ? b : a;
  }
}
