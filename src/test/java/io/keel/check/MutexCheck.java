package io.keel.check;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a history of a mutex (a lock with leases and fencing tokens) as clients observed it,
 * with real-time order from one clock:
 *
 * <ul>
 *   <li>no token is granted twice (to two different requests);
 *   <li>the writes a fenced resource accepted carry strictly increasing tokens, in the order
 *       it accepted them;
 *   <li>no two holders overlap: a hold that certainly began inside another's certain hold is a
 *       violation, unless that earlier hold's lease had certainly ended by then.
 * </ul>
 *
 * <p>Certainty comes from the invocation and completion times. A grant happened somewhere
 * between its acquire's invocation and its completion, so hold A certainly covers the time
 * from its completion to the earlier of its release's invocation and the earliest moment its
 * lease could end (the invocation of its last renewal that succeeded, or of its acquire, plus
 * the lease). Hold B certainly began inside that if its whole acquire (invocation to
 * completion) lies inside it. Anything less certain is not reported: the check has no false
 * alarms, and it catches two holders that each knew, at the same time, that they held the lock.
 *
 * <p>A lock without leases (Vert.x's {@code SharedData} lock) is checked with an unbounded lease
 * and tokens the client numbers itself.
 */
public final class MutexCheck {
  /** A lease that never ends, for a lock without leases. */
  public static final long NO_LEASE = Long.MAX_VALUE / 4;

  private final List<Hold> holds = new ArrayList<>();
  private final List<Long> accepted = new ArrayList<>();

  /**
   * One grant as its client saw it, on one nanosecond clock.
   *
   * @param request the acquire's request id (a retried acquire keeps its id)
   * @param token the grant's fencing token
   * @param invokedNanos when the acquire was first sent
   * @param grantedNanos when the client received the grant
   * @param leaseNanos the lease it was granted with ({@link #NO_LEASE} for none)
   * @param renewedNanos the invocation of the last renewal that succeeded, or -1
   * @param releasedNanos when the client sent its release (or stopped using the lock), or
   *     {@code Long.MAX_VALUE} if it never did
   * @param revocableNanos from when the lock service may rightly have ended the hold before its
   *     lease (Keel ends the leases of a holder whose node leaves the cluster: the first fault
   *     of the node the holder spoke through, during the hold), or {@code Long.MAX_VALUE}
   */
  public record Hold(String request, long token, long invokedNanos, long grantedNanos,
      long leaseNanos, long renewedNanos, long releasedNanos, long revocableNanos) {

    /** This hold on a lock without leases. */
    public Hold withNoLease() {
      return new Hold(request, token, invokedNanos, grantedNanos, NO_LEASE, renewedNanos,
          releasedNanos, revocableNanos);
    }

    /** The end of the time this hold certainly had the lock. */
    long certainEnd() {
      long leaseFrom = renewedNanos >= 0 ? renewedNanos : invokedNanos;
      long leaseEnd = leaseNanos >= NO_LEASE ? Long.MAX_VALUE : leaseFrom + leaseNanos;
      return Math.min(Math.min(releasedNanos, leaseEnd), revocableNanos);
    }
  }

  /** Records a grant. */
  public synchronized void hold(Hold h) {
    holds.add(h);
  }

  /** Records a write the fenced resource accepted, in the order it accepted them. */
  public synchronized void accepted(long token) {
    accepted.add(token);
  }

  /** How many grants were recorded. */
  public synchronized int holds() {
    return holds.size();
  }

  /** Every violation found, each as a sentence; empty when the history is correct. */
  public synchronized List<String> violations() {
    List<String> out = fencing();
    out.addAll(overlaps());
    return out;
  }

  /**
   * The violations of the fencing tokens alone: a token granted twice, or a fenced write
   * accepted after one with a token as large. These hold whatever the clocks do.
   */
  public synchronized List<String> fencing() {
    List<String> out = new ArrayList<>();
    Map<Long, String> byToken = new HashMap<>();
    for (Hold h : holds) {
      String other = byToken.putIfAbsent(h.token(), h.request());
      if (other != null && !other.equals(h.request())) {
        out.add("token " + h.token() + " was granted twice: to " + other + " and to "
            + h.request());
      }
    }
    for (int i = 1; i < accepted.size(); i++) {
      if (accepted.get(i) <= accepted.get(i - 1)) {
        out.add("the fenced resource accepted token " + accepted.get(i) + " after token "
            + accepted.get(i - 1));
      }
    }
    return out;
  }

  /**
   * Holds that certainly overlapped while the earlier one's lease, counted by its client, had
   * not ended: what leases promise only while the lock service's clock keeps time.
   */
  public synchronized List<String> overlaps() {
    List<String> out = new ArrayList<>();
    List<Hold> sorted = new ArrayList<>(holds);
    sorted.sort(Comparator.comparingLong(Hold::grantedNanos));
    for (int a = 0; a < sorted.size(); a++) {
      Hold first = sorted.get(a);
      long end = first.certainEnd();
      for (int b = a + 1; b < sorted.size(); b++) {
        Hold second = sorted.get(b);
        if (second.grantedNanos() > end) {
          break; // sorted by completion: no later hold can complete inside this one
        }
        if (second.token() != first.token() && second.invokedNanos() >= first.grantedNanos()) {
          out.add(String.format("%s (token %d) was granted while %s (token %d) still held the"
              + " lock: asked %.1f ms after that grant, granted %.1f ms before that hold's"
              + " release or earliest lease end", second.request(), second.token(),
              first.request(), first.token(),
              (second.invokedNanos() - first.grantedNanos()) / 1e6,
              (end - second.grantedNanos()) / 1e6));
        }
      }
    }
    return out;
  }
}
