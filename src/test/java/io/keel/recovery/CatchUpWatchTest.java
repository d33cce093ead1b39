package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The leader's judgement of stuck members: slow is not stuck, down is not stuck. */
class CatchUpWatchTest {
  private final CatchUpWatch watch = new CatchUpWatch(1_000);

  @Test
  void a_member_behind_without_progress_is_stuck_once_the_time_is_up() {
    Set<String> all = Set.of("b", "c");
    assertThat(watch.stuckMembers(0, Map.of("b", 5L, "c", 9L), 10, Map.of(), all, 0)).isEmpty();
    assertThat(watch.stuckMembers(999, Map.of("b", 5L, "c", 10L), 10, Map.of(), all, 0))
        .isEmpty();
    assertThat(watch.stuckMembers(1_000, Map.of("b", 5L, "c", 10L), 12, Map.of(), all, 0))
        .containsExactly("b");
  }

  @Test
  void progress_or_being_caught_up_is_not_stuck() {
    Set<String> all = Set.of("b");
    watch.stuckMembers(0, Map.of("b", 5L), 10, Map.of(), all, 0);
    // Moved: the clock starts again.
    assertThat(watch.stuckMembers(900, Map.of("b", 6L), 10, Map.of(), all, 0)).isEmpty();
    assertThat(watch.stuckMembers(1_800, Map.of("b", 6L), 10, Map.of(), all, 0)).isEmpty();
    assertThat(watch.stuckMembers(1_900, Map.of("b", 6L), 10, Map.of(), all, 0))
        .containsExactly("b");
    // Caught up with an idle leader: nothing to make progress on.
    assertThat(watch.stuckMembers(5_000, Map.of("b", 10L), 10, Map.of(), all, 0)).isEmpty();
  }

  @Test
  void a_member_long_caught_up_and_then_one_entry_behind_gets_the_full_time() {
    Set<String> all = Set.of("b");
    assertThat(watch.stuckMembers(0, Map.of("b", 10L), 10, Map.of(), all, 0)).isEmpty();
    assertThat(watch.stuckMembers(5_000, Map.of("b", 10L), 10, Map.of(), all, 0)).isEmpty();
    // The others acknowledged a new entry first: b is one behind, and not since time 0.
    assertThat(watch.stuckMembers(6_000, Map.of("b", 10L), 11, Map.of(), all, 0)).isEmpty();
    assertThat(watch.stuckMembers(6_999, Map.of("b", 10L), 11, Map.of(), all, 0)).isEmpty();
    assertThat(watch.stuckMembers(7_000, Map.of("b", 10L), 11, Map.of(), all, 0))
        .containsExactly("b");
  }

  @Test
  void a_silent_member_is_stuck_even_when_it_looked_caught_up() {
    Set<String> all = Set.of("b");
    assertThat(watch.stuckMembers(500, Map.of("b", 10L), 10, Map.of("b", 400L), all, 0))
        .isEmpty();
    assertThat(watch.stuckMembers(1_400, Map.of("b", 10L), 10, Map.of("b", 400L), all, 0))
        .containsExactly("b");
  }

  @Test
  void an_unreachable_member_and_a_new_leader_get_time() {
    // Down (not reachable): it will catch up when it comes back.
    assertThat(watch.stuckMembers(0, Map.of("b", 1L), 10, Map.of("b", 0L), Set.of(), 0))
        .isEmpty();
    assertThat(watch.stuckMembers(5_000, Map.of("b", 1L), 10, Map.of("b", 0L), Set.of(), 0))
        .isEmpty();
    // Leader since 4,500: nobody is judged before 5,500, whatever the older timestamps say.
    assertThat(watch.stuckMembers(5_000, Map.of("b", 1L), 10, Map.of("b", 0L), Set.of("b"),
        4_500)).isEmpty();
    assertThat(watch.stuckMembers(5_500, Map.of("b", 1L), 10, Map.of("b", 0L), Set.of("b"),
        4_500)).containsExactly("b");
  }
}
