package io.keel.recovery;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The next single membership change that moves a partition's Raft group toward the replica set
 * the partition table wants: placement drives group membership one step at a time, and a new
 * replica catches up before an old one leaves.
 *
 * <p>Implementation notes. The order of steps is: add a missing replica as a learner (it
 * receives the log but does not vote, so a slow catch-up cannot cost the group its majority);
 * once it has caught up, remove the voter it replaces, then promote it; only when every wanted
 * replica votes, remove what is left that is not wanted. A leader that is itself unwanted first
 * hands leadership to a wanted voter instead of removing itself. Names are taken in sorted
 * order, so every leader plans the same sequence. Pure: the caller supplies the group's committed
 * view and catch-up facts.
 *
 * <p>Why remove before promoting: the group must never have an even number of voters above two.
 * MicroRaft 0.7 commits with half of an even voter set ({@code RaftState
 * .logReplicationQuorumSize}), and that half need not intersect a majority of the configuration
 * one member smaller that an older leader may have left, uncommitted, in another node's log;
 * that node can then win an election and overwrite committed entries (found by the simulation,
 * membership seed 3140, and reproduced by {@code SimRaftDirectedTest}). So a replica is replaced
 * as 3, 2, 3 voters rather than 3, 4, 3: with 1, 2 or 3 voters the commit quorum is a plain
 * majority. The removal waits until every voter that stays has caught up, since two voters need
 * each other for every election and commit. This is also why a group has at most 3 replicas.
 */
public final class MembershipPlan {
  /** The most replicas a group may want: see the class notes. */
  public static final int REPLICAS_MAX = 3;
  /** MicroRaft's limit on learners at once. */
  static final int LEARNERS_MAX = 2;

  /** What to do next. */
  public enum Action {
    /** Nothing: the group is what the table wants. */
    NONE,
    /** Add {@link Step#node()} as a learner. */
    ADD_LEARNER,
    /** Promote the caught-up learner {@link Step#node()} to a voting follower. */
    PROMOTE,
    /** Remove the unwanted member {@link Step#node()}. */
    REMOVE,
    /** Transfer leadership to {@link Step#node()} before the leader removes itself. */
    TRANSFER_LEADERSHIP,
    /** Wait: a learner (or a voter that stays) is still catching up. */
    WAIT_FOR_CATCH_UP
  }

  /**
   * One step.
   *
   * @param action what to do
   * @param node whom it concerns (null for {@code NONE} and {@code WAIT_FOR_CATCH_UP})
   */
  public record Step(Action action, String node) {
    static final Step NONE = new Step(Action.NONE, null);
    static final Step WAIT = new Step(Action.WAIT_FOR_CATCH_UP, null);
  }

  private MembershipPlan() {}

  /**
   * The next step for a group led by {@code leader}.
   *
   * @param leader the group's leader (the node that will carry out the step)
   * @param members the committed members, voting or not
   * @param voting the committed voting members
   * @param wanted the replica set the partition table wants (at most {@link #REPLICAS_MAX})
   * @param caughtUp the members whose log has reached the leader's commit index
   */
  public static Step next(String leader, Collection<String> members, Collection<String> voting,
      Collection<String> wanted, Collection<String> caughtUp) {
    return next(leader, members, voting, wanted, caughtUp, Set.of());
  }

  /**
   * As {@link #next(String, Collection, Collection, Collection, Collection)}, and first removes
   * a {@code stuck} member ({@link CatchUpWatch}), so that a fresh replica can take its place:
   * a learner at once, a voter when the voters that stay are caught up (two voters need each
   * other) and their number stays safe. The leader is never stuck.
   */
  public static Step next(String leader, Collection<String> members, Collection<String> voting,
      Collection<String> wanted, Collection<String> caughtUp, Collection<String> stuck) {
    if (wanted.size() > REPLICAS_MAX) {
      throw new IllegalArgumentException("a group may want at most " + REPLICAS_MAX
          + " replicas, not " + wanted.size() + ": " + wanted);
    }
    Step removal = removeStuck(leader, members, voting, caughtUp, stuck);
    return removal != null ? removal : next(leader, members, voting, wanted, caughtUp, true);
  }

  /** The removal of a stuck member, or null when none can go now. */
  static Step removeStuck(String leader, Collection<String> members, Collection<String> voting,
      Collection<String> caughtUp, Collection<String> stuck) {
    for (String m : new TreeSet<>(stuck)) {
      if (m.equals(leader) || !members.contains(m)) {
        continue;
      }
      if (!voting.contains(m)) {
        return new Step(Action.REMOVE, m);
      }
      Set<String> staying = new TreeSet<>(voting);
      staying.remove(m);
      boolean ready = !unsafe(staying.size()) && staying.stream()
          .allMatch(v -> v.equals(leader) || (caughtUp.contains(v) && !stuck.contains(v)));
      if (ready) {
        return new Step(Action.REMOVE, m);
      }
    }
    return null;
  }

  /**
   * As {@link #next(String, Collection, Collection, Collection, Collection)}; without
   * {@code guardEvenVoters}, the order the simulation first used (promote, then remove: 3, 4, 3
   * voters), kept only so that it can replay the seeds found with it.
   */
  static Step next(String leader, Collection<String> members, Collection<String> voting,
      Collection<String> wanted, Collection<String> caughtUp, boolean guardEvenVoters) {
    Objects.requireNonNull(leader, "leader");
    if (wanted.isEmpty()) {
      throw new IllegalArgumentException("a partition needs at least one wanted replica");
    }
    Set<String> memberSet = new TreeSet<>(members);
    Set<String> votingSet = new TreeSet<>(voting);
    Set<String> wantedSet = new TreeSet<>(wanted);
    if (!memberSet.containsAll(votingSet)) {
      throw new IllegalArgumentException("voting members " + votingSet + " not all in members "
          + memberSet);
    }
    Set<String> learners = new TreeSet<>(memberSet);
    learners.removeAll(votingSet);
    for (String w : wantedSet) {
      if (!memberSet.contains(w)) {
        if (learners.size() < LEARNERS_MAX) {
          return new Step(Action.ADD_LEARNER, w);
        }
        for (String l : learners) {
          if (!wantedSet.contains(l)) {
            return new Step(Action.REMOVE, l); // make room for a wanted learner
          }
        }
      }
    }
    boolean waiting = false;
    for (String w : wantedSet) {
      if (!votingSet.contains(w)) {
        if (!caughtUp.contains(w)) {
          waiting = true;
        } else if (guardEvenVoters && unsafe(votingSet.size() + 1)) {
          return makeRoom(leader, votingSet, wantedSet, caughtUp);
        } else {
          return new Step(Action.PROMOTE, w);
        }
      }
    }
    if (waiting) {
      return Step.WAIT;
    }
    for (String m : memberSet) {
      if (!wantedSet.contains(m)) {
        if (m.equals(leader)) {
          return new Step(Action.TRANSFER_LEADERSHIP, first(wantedSet, votingSet));
        }
        return new Step(Action.REMOVE, m);
      }
    }
    return Step.NONE;
  }

  /** An even number of voters above two: MicroRaft 0.7 then commits with half of them. */
  static boolean unsafe(int voters) {
    return voters >= 4 && voters % 2 == 0;
  }

  /** The step that lets a caught-up learner be promoted without an even voter count. */
  private static Step makeRoom(String leader, Set<String> voting, Set<String> wanted,
      Collection<String> caughtUp) {
    for (String v : voting) {
      if (wanted.contains(v) || v.equals(leader)) {
        continue;
      }
      for (String stays : voting) {
        if (!stays.equals(v) && !stays.equals(leader) && !caughtUp.contains(stays)) {
          return Step.WAIT;
        }
      }
      return new Step(Action.REMOVE, v);
    }
    if (!wanted.contains(leader)) {
      // The leader is the only unwanted voter, so the others are wanted: hand over first.
      return new Step(Action.TRANSFER_LEADERSHIP, first(wanted, voting));
    }
    throw new IllegalStateException("promoting one of " + wanted + " would give " + voting
        + " an even number of voters and no unwanted voter can leave first");
  }

  private static String first(Collection<String> wanted, Set<String> voting) {
    List<String> sorted = List.copyOf(new TreeSet<>(wanted));
    for (String w : sorted) {
      if (voting.contains(w)) {
        return w;
      }
    }
    throw new IllegalStateException("no wanted voter to hand leadership to in " + sorted);
  }
}
