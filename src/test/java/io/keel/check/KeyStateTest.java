package io.keel.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The model's unknown versions, and the order on states that the search prunes with. */
class KeyStateTest {
  private static final KeyState A5 = KeyState.INITIAL.apply(Op.put("c", "k", "a", 0).ok(5, 1));
  private static final KeyState UNSEEN = A5.apply(Op.put("c", "k", "b", 0));

  private static KeyState present(String value, long top, boolean exact, Long... excluded) {
    return new KeyState(true, value, top, exact, List.of(excluded));
  }

  @Test
  void an_unseen_write_leaves_a_least_possible_version() {
    assertThat(UNSEEN).isEqualTo(present("b", 6, false));
    assertThat(UNSEEN).hasToString("PRESENT(\"b\", v >= 6)");
    assertThat(UNSEEN.apply(Op.get("c", "k", 0).found("b", 9, 1))).isEqualTo(present("b", 9, true));
    assertThat(UNSEEN.apply(Op.get("c", "k", 0).found("b", 5, 1))).isNull();
    assertThat(UNSEEN.apply(Op.put("c", "k", "c", 0).ok(7, 1))).isEqualTo(present("c", 7, true));
    assertThat(UNSEEN.apply(Op.put("c", "k", "c", 0).ok(6, 1))).isNull();
  }

  @Test
  void conflicts_exclude_versions_and_the_least_one_moves_past_them() {
    KeyState not8 = UNSEEN.apply(Op.cas("c", "k", 8, "x", 0).conflict(1));
    assertThat(not8).isEqualTo(present("b", 6, false, 8L));
    assertThat(not8).hasToString("PRESENT(\"b\", v >= 6, not 8)");
    KeyState not6 = not8.apply(Op.deleteIf("c", "k", 6, 0).conflict(1));
    KeyState not7 = not6.apply(Op.cas("c", "k", 7, "x", 0).conflict(1));
    assertThat(not7).isEqualTo(present("b", 9, false));
    // A conflict below the least possible version says nothing new.
    assertThat(not7.apply(Op.cas("c", "k", 3, "x", 0).conflict(1))).isSameAs(not7);
  }

  @Test
  void an_absent_key_keeps_only_its_least_possible_top() {
    KeyState gone = UNSEEN.apply(Op.delete("c", "k", 0).deleted(1));
    assertThat(gone).isEqualTo(new KeyState(false, null, 6, true, List.of()));
    assertThat(gone).hasToString("ABSENT (last version >= 6)");
    assertThat(UNSEEN.apply(Op.deleteIf("c", "k", 8, 0)))
        .isEqualTo(new KeyState(false, null, 8, true, List.of()));
  }

  @Test
  void versions_below_the_least_possible_one_are_past() {
    assertThat(UNSEEN.past(5)).isTrue();
    assertThat(UNSEEN.past(6)).isFalse();
    assertThat(A5.past(5)).isFalse();
    KeyState gone = A5.apply(Op.delete("c", "k", 0).deleted(1));
    assertThat(gone.past(5)).isTrue();
    assertThat(gone.past(6)).isFalse();
  }

  @Test
  void a_state_permits_another_when_it_allows_every_version_the_other_allows() {
    assertThat(present("b", 6, false).permits(present("b", 7, false))).isTrue();
    assertThat(present("b", 7, false).permits(present("b", 6, false))).isFalse();
    assertThat(present("b", 6, false).permits(present("b", 9, true))).isTrue();
    assertThat(present("b", 6, false, 9L).permits(present("b", 9, true))).isFalse();
    assertThat(present("b", 6, false, 9L).permits(present("b", 7, false, 9L))).isTrue();
    assertThat(present("b", 6, false, 9L).permits(present("b", 7, false))).isFalse();
    assertThat(present("b", 9, true).permits(present("b", 9, false))).isFalse();
    assertThat(present("b", 9, true).permits(present("c", 9, true))).isFalse();
    KeyState low = new KeyState(false, null, 3, true, List.of());
    KeyState high = new KeyState(false, null, 8, true, List.of());
    assertThat(low.permits(high)).isTrue();
    assertThat(high.permits(low)).isFalse();
    assertThat(low.permits(A5)).isFalse();
  }
}
