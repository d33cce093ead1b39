package io.keel.routing;

/**
 * Whether this node's partition table is the cluster's newest, so that its leaders may move
 * groups toward it, and when a node that is not should claim the newest epoch for its own view.
 *
 * <p>Every node computes its table from its own member list. When two nodes' lists differ (after
 * a kill and restart, Hazelcast's members can disagree about their master for a while, or a
 * member answers one node's event bus and not another's), they compute two tables, and each
 * agreed an epoch for its own. Leaders on both sides then move the same groups toward two
 * different replica sets: each adds the replica the other removes, and hands leadership to
 * the primary the other hands it back from, about once a second for as long as the lists
 * differ. So only a node whose table is at the newest epoch in the registry takes membership
 * steps; the others serve and wait. When their lists come to agree, they adopt the newest epoch
 * (same fingerprint) or agree a newer one, and steps resume.
 *
 * <p>A data node whose list still differs from the newest one after {@link #REASSERT_MS}, with
 * no newer epoch in between, claims a new epoch for its own list. This keeps a writer that
 * drives no groups (a client node, whose list can differ for good) from stopping every leader's
 * steps; two data nodes whose lists stay different trade the newest epoch every
 * {@link #REASSERT_MS}, not every second.
 *
 * <p>Time comes in as an argument. Single-threaded; the owner publishes what others read.
 */
final class TableAuthority {
  /** How long a data node waits on a newest table it did not compute before it claims one. */
  static final long REASSERT_MS = 15_000;

  // Invariant: newestEpoch is the greatest epoch seen, and newestFingerprint its table's.
  private long newestEpoch;
  private String newestFingerprint = "";
  private long newestSinceMs;

  /** Hears an epoch and its table's fingerprint: a registry entry or this node's agreement. */
  void saw(long epoch, String fingerprint, long nowMs) {
    if (epoch > newestEpoch) {
      newestEpoch = epoch;
      newestFingerprint = fingerprint;
      newestSinceMs = nowMs;
    }
  }

  /** The greatest epoch seen. */
  long newestEpoch() {
    return newestEpoch;
  }

  /** Whether a table at {@code tableEpoch} is the newest seen. */
  boolean current(long tableEpoch) {
    return tableEpoch >= newestEpoch;
  }

  /**
   * Whether a data node whose table is at {@code tableEpoch} and whose member list gives
   * {@code viewFingerprint} should claim a new epoch for it now.
   */
  boolean shouldReassert(long tableEpoch, String viewFingerprint, boolean dataNode, long nowMs) {
    return dataNode && !current(tableEpoch) && !viewFingerprint.equals(newestFingerprint)
        && nowMs - newestSinceMs >= REASSERT_MS;
  }

  /**
   * Whether a node that has just agreed {@code agreedEpoch} for the list it had when it asked
   * ({@code claimedFingerprint}), and whose list now gives {@code viewFingerprint}, should claim
   * an epoch for its present list at once: yes when the epoch it agreed is still the newest and
   * names a list it no longer has. Say a starting node asked for its list of three before its
   * probe of the fourth member came back, while the others agreed the list of four: its claim
   * replaces theirs, and neither it nor anyone else adopts it. Every node's table is then behind
   * the newest epoch, and no leader takes a membership step until a data node claims again
   * {@link #REASSERT_MS} later (2 of 12 benchmark joins stood still that way for 15 s).
   */
  boolean claimedForListGone(long agreedEpoch, String claimedFingerprint,
      String viewFingerprint) {
    return agreedEpoch >= newestEpoch && claimedFingerprint.equals(newestFingerprint)
        && !viewFingerprint.equals(claimedFingerprint);
  }
}
