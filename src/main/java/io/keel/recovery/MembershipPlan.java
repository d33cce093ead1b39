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
 * promote a learner once it has caught up; only when every wanted replica votes, remove one
 * member that is not wanted. A leader that is itself unwanted first hands leadership to a wanted
 * voter instead of removing itself. Names are taken in sorted order, so every leader plans the
 * same sequence. Pure: the caller supplies the group's committed view and catch-up facts.
 */
public final class MembershipPlan {
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
    /** Wait: a learner is still catching up. */
    WAIT_FOR_CATCH_UP
  }

  /**
   * One step.
   *
   * @param action what to do
   * @param node whom it concerns (null for {@code NONE})
   */
  public record Step(Action action, String node) {
    static final Step NONE = new Step(Action.NONE, null);
  }

  private MembershipPlan() {}

  /**
   * The next step for a group led by {@code leader}.
   *
   * @param leader the group's leader (the node that will carry out the step)
   * @param members the committed members, voting or not
   * @param voting the committed voting members
   * @param wanted the replica set the partition table wants
   * @param caughtUp the learners whose log has reached the leader's commit index
   */
  public static Step next(String leader, Collection<String> members, Collection<String> voting,
      Collection<String> wanted, Collection<String> caughtUp) {
    Objects.requireNonNull(leader, "leader");
    if (wanted.isEmpty()) {
      throw new IllegalArgumentException("a partition needs at least one wanted replica");
    }
    Set<String> memberSet = new TreeSet<>(members);
    Set<String> votingSet = new TreeSet<>(voting);
    if (!memberSet.containsAll(votingSet)) {
      throw new IllegalArgumentException("voting members " + votingSet + " not all in members "
          + memberSet);
    }
    for (String w : new TreeSet<>(wanted)) {
      if (!memberSet.contains(w)) {
        return new Step(Action.ADD_LEARNER, w);
      }
    }
    boolean waiting = false;
    for (String w : new TreeSet<>(wanted)) {
      if (!votingSet.contains(w)) {
        if (caughtUp.contains(w)) {
          return new Step(Action.PROMOTE, w);
        }
        waiting = true;
      }
    }
    if (waiting) {
      return new Step(Action.WAIT_FOR_CATCH_UP, null);
    }
    for (String m : memberSet) {
      if (!wanted.contains(m)) {
        if (m.equals(leader)) {
          return new Step(Action.TRANSFER_LEADERSHIP, first(wanted, votingSet));
        }
        return new Step(Action.REMOVE, m);
      }
    }
    return Step.NONE;
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
