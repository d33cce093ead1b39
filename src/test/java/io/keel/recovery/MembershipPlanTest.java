package io.keel.recovery;

import static io.keel.recovery.MembershipPlan.Action.ADD_LEARNER;
import static io.keel.recovery.MembershipPlan.Action.NONE;
import static io.keel.recovery.MembershipPlan.Action.PROMOTE;
import static io.keel.recovery.MembershipPlan.Action.REMOVE;
import static io.keel.recovery.MembershipPlan.Action.TRANSFER_LEADERSHIP;
import static io.keel.recovery.MembershipPlan.Action.WAIT_FOR_CATCH_UP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.recovery.MembershipPlan.Step;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MembershipPlanTest {

  @Test
  void a_group_that_matches_the_table_does_nothing() {
    assertThat(MembershipPlan.next("a", List.of("a", "b", "c"), List.of("a", "b", "c"),
        List.of("c", "b", "a"), Set.of())).isEqualTo(new Step(NONE, null));
  }

  @Test
  void a_missing_replica_is_added_as_a_learner_first() {
    assertThat(MembershipPlan.next("a", List.of("a", "b", "c"), List.of("a", "b", "c"),
        List.of("a", "b", "d"), Set.of())).isEqualTo(new Step(ADD_LEARNER, "d"));
  }

  @Test
  void a_learner_is_promoted_only_once_caught_up() {
    List<String> members = List.of("a", "b", "d");
    List<String> voting = List.of("a", "b");
    assertThat(MembershipPlan.next("a", members, voting, List.of("a", "b", "d"), Set.of("b")))
        .isEqualTo(new Step(WAIT_FOR_CATCH_UP, null));
    assertThat(MembershipPlan.next("a", members, voting, List.of("a", "b", "d"),
        Set.of("b", "d"))).isEqualTo(new Step(PROMOTE, "d"));
  }

  @Test
  void the_replaced_voter_leaves_before_the_new_one_votes_so_voters_never_number_four() {
    List<String> members = List.of("a", "b", "c", "d");
    List<String> voting = List.of("a", "b", "c");
    List<String> wanted = List.of("a", "b", "d");
    // d caught up, but b (which stays) has not: with c gone, a and b must carry every commit.
    assertThat(MembershipPlan.next("a", members, voting, wanted, Set.of("d")))
        .isEqualTo(new Step(WAIT_FOR_CATCH_UP, null));
    assertThat(MembershipPlan.next("a", members, voting, wanted, Set.of("b", "d")))
        .isEqualTo(new Step(REMOVE, "c"));
    // An unwanted leader hands over first.
    assertThat(MembershipPlan.next("c", members, voting, wanted, Set.of("a", "b", "d")))
        .isEqualTo(new Step(TRANSFER_LEADERSHIP, "a"));
    // The order the simulation first used promoted to four voters.
    assertThat(MembershipPlan.next("a", members, voting, wanted, Set.of("b", "d"), false))
        .isEqualTo(new Step(PROMOTE, "d"));
  }

  @Test
  void more_than_three_wanted_replicas_are_refused() {
    assertThatThrownBy(() -> MembershipPlan.next("a", List.of("a"), List.of("a"),
        List.of("a", "b", "c", "d"), Set.of())).hasMessageContaining("at most 3");
  }

  @Test
  void an_unwanted_member_is_removed_only_after_the_new_one_votes() {
    assertThat(MembershipPlan.next("a", List.of("a", "b", "c", "d"),
        List.of("a", "b", "c", "d"), List.of("a", "b", "d"), Set.of()))
        .isEqualTo(new Step(REMOVE, "c"));
  }

  @Test
  void an_unwanted_leader_hands_over_instead_of_removing_itself() {
    assertThat(MembershipPlan.next("a", List.of("a", "b", "c", "d"),
        List.of("a", "b", "c", "d"), List.of("d", "b", "c"), Set.of()))
        .isEqualTo(new Step(TRANSFER_LEADERSHIP, "b"));
  }

  @Test
  void inconsistent_views_are_refused() {
    assertThatThrownBy(() -> MembershipPlan.next("a", List.of("a"), List.of("a", "b"),
        List.of("a"), Set.of())).hasMessageContaining("not all in members");
    assertThatThrownBy(() -> MembershipPlan.next("a", List.of("a"), List.of("a"), List.of(),
        Set.of())).hasMessageContaining("at least one wanted replica");
  }

  /**
   * From any group to any wanted set of up to three: following the plan (members catch up at
   * once) reaches the wanted set, never gives the group an even number of voters above two, and
   * removes a voter before all wanted ones vote only to make room for one of them.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
  void following_the_plan_reaches_the_wanted_set_one_safe_step_at_a_time(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<String> nodes = List.of("a", "b", "c", "d", "e", "f");
    for (int run = 0; run < 200; run++) {
      TreeSet<String> voting = pick(r, nodes, 1 + r.nextInt(3));
      TreeSet<String> members = new TreeSet<>(voting);
      TreeSet<String> wanted = pick(r, nodes, 1 + r.nextInt(3));
      String leader = voting.first();
      for (int step = 0; step < 40; step++) {
        Step s = MembershipPlan.next(leader, members, voting, wanted, members);
        String ctx = "seed=" + seed + " run=" + run + " step=" + s;
        if (s.action() == NONE) {
          break;
        }
        switch (s.action()) {
          case ADD_LEARNER:
            assertThat(members).as(ctx).doesNotContain(s.node());
            members.add(s.node());
            break;
          case PROMOTE:
            voting.add(s.node());
            break;
          case REMOVE:
            if (!voting.containsAll(wanted)) {
              // Making room: the removed voter is unwanted, a caught-up wanted learner waits.
              assertThat(wanted).as(ctx).doesNotContain(s.node());
              assertThat(voting.size()).as(ctx).isEqualTo(3);
            }
            assertThat(s.node()).as(ctx).isNotEqualTo(leader);
            members.remove(s.node());
            voting.remove(s.node());
            break;
          case TRANSFER_LEADERSHIP:
            assertThat(wanted).as(ctx).contains(s.node());
            leader = s.node();
            break;
          default:
            throw new AssertionError(ctx);
        }
        assertThat(voting).as(ctx).isNotEmpty();
        assertThat(voting.size() >= 4 && voting.size() % 2 == 0).as(ctx + " voters " + voting)
            .isFalse();
      }
      assertThat(members).as("seed=%d run=%d", seed, run).isEqualTo(wanted);
      assertThat(voting).as("seed=%d run=%d", seed, run).isEqualTo(wanted);
    }
  }

  private static TreeSet<String> pick(SplittableRandom r, List<String> from, int n) {
    List<String> copy = new ArrayList<>(from);
    TreeSet<String> out = new TreeSet<>();
    while (out.size() < n) {
      out.add(copy.remove(r.nextInt(copy.size())));
    }
    return out;
  }

  @Test
  void a_stuck_learner_goes_first_and_a_fresh_one_takes_its_place() {
    List<String> members = List.of("a", "b", "c", "d");
    List<String> voting = List.of("a", "b", "c");
    assertThat(MembershipPlan.next("a", members, voting, List.of("a", "b", "d"),
        Set.of("a", "b", "c"), Set.of("d"))).isEqualTo(new Step(REMOVE, "d"));
    // Without it the plan waits for d forever.
    assertThat(MembershipPlan.next("a", members, voting, List.of("a", "b", "d"),
        Set.of("a", "b", "c"), Set.of()).action()).isNotEqualTo(REMOVE);
  }

  @Test
  void a_stuck_voter_goes_only_while_the_voters_that_stay_are_caught_up() {
    List<String> abc = List.of("a", "b", "c");
    assertThat(MembershipPlan.next("a", abc, abc, abc, Set.of("a", "b"), Set.of("c")))
        .isEqualTo(new Step(REMOVE, "c"));
    // b is behind: removing c would leave a and b needing each other, and b cannot keep up.
    assertThat(MembershipPlan.next("a", abc, abc, abc, Set.of("a"), Set.of("c")))
        .isNotEqualTo(new Step(REMOVE, "c"));
    // Both followers stuck: neither can go (the group would be left with a stuck voter).
    assertThat(MembershipPlan.next("a", abc, abc, abc, Set.of("a"), Set.of("b", "c")).action())
        .isNotEqualTo(REMOVE);
    // The leader is never removed as stuck.
    assertThat(MembershipPlan.next("a", abc, abc, abc, Set.of("a", "b", "c"), Set.of("a")))
        .isEqualTo(Step.NONE);
  }
}
