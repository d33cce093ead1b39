package io.keel.recovery;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Tells a replica that is stuck from one that is only slow, so that a group replaces it rather
 * than waiting for it forever. MicroRaft 0.7 can leave a replica that way: a learner that
 * applied an old configuration without itself terminates; a follower restored from a snapshot
 * with entries after it stops applying. A replica that is down is not stuck: its node comes
 * back and it catches up, so only replicas whose node is reachable are judged.
 *
 * <p>The leader judges ({@link #stuckMembers}): a member is stuck when, with its node
 * reachable, it has not answered for {@code stuckAfterMs}, or its log has stayed behind the
 * commit index without moving for that long, counted from the first look that found it behind
 * at that index. Only the leader decides: a replica that retired itself on its own view could
 * take a group's majority with it (two stalled voters of three), whereas the leader removes a
 * voter only while the voters that stay are caught up.
 *
 * <p>Pure and single-threaded; the caller supplies the time and the facts.
 */
public final class CatchUpWatch {
  private final long stuckAfterMs;
  // Per member: the last match index seen and since when it has not moved.
  private final Map<String, long[]> progress = new HashMap<>();

  /** A watch that calls a replica stuck after {@code stuckAfterMs} without progress. */
  public CatchUpWatch(long stuckAfterMs) {
    if (stuckAfterMs < 1) {
      throw new IllegalArgumentException("stuckAfterMs must be >= 1, was " + stuckAfterMs);
    }
    this.stuckAfterMs = stuckAfterMs;
  }

  /**
   * The leader's view at {@code nowMs}: which of {@code match}'s members (the leader's
   * followers and learners, with their match index) are stuck.
   *
   * @param commit the leader's commit index
   * @param lastAnswerMs when each member last answered the leader; a member missing here is
   *     judged on its progress alone
   * @param reachable the members whose node is up and reachable
   * @param leaderSinceMs when this node became the leader: nobody is judged on less time
   */
  public Set<String> stuckMembers(long nowMs, Map<String, Long> match, long commit,
      Map<String, Long> lastAnswerMs, Set<String> reachable, long leaderSinceMs) {
    progress.keySet().retainAll(match.keySet());
    Set<String> stuck = new TreeSet<>();
    for (Map.Entry<String, Long> e : match.entrySet()) {
      String m = e.getKey();
      long index = e.getValue();
      long[] seen = progress.get(m);
      if (index >= commit) {
        // Caught up: a later lag starts a clock of its own. Counted from when the index last
        // moved, a follower idle and caught up for minutes, one entry behind for the moment the
        // leader's newest commit takes to reach it, was "behind for minutes".
        progress.remove(m);
      } else if (seen == null || seen[0] != index) {
        seen = new long[] {index, nowMs};
        progress.put(m, seen);
      }
      if (!reachable.contains(m) || nowMs - leaderSinceMs < stuckAfterMs) {
        continue;
      }
      Long answered = lastAnswerMs.get(m);
      boolean silent = answered != null
          && nowMs - Math.max(answered, leaderSinceMs) >= stuckAfterMs;
      boolean behind = index < commit && nowMs - Math.max(seen[1], leaderSinceMs)
          >= stuckAfterMs;
      if (silent || behind) {
        stuck.add(m);
      }
    }
    return stuck;
  }
}
