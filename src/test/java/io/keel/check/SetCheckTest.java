package io.keel.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SetCheckTest {

  @Test
  void acknowledged_and_indeterminate_adds_pass() {
    SetCheck c = new SetCheck();
    for (String e : List.of("a", "b", "c")) {
      c.attempted(e);
    }
    c.acknowledged("a");
    c.acknowledged("b");
    // c got no answer: present or not, both are fine.
    assertThat(c.violations(List.of("a", "b"))).isEmpty();
    assertThat(c.violations(List.of("b", "c", "a"))).isEmpty();
  }

  @Test
  void a_lost_add_a_duplicate_and_an_invented_element_are_violations() {
    SetCheck c = new SetCheck();
    c.attempted("a");
    c.attempted("b");
    c.acknowledged("a");
    c.acknowledged("b");
    assertThat(c.violations(List.of("a", "a", "z"))).containsExactly(
        "element a is in the set 2 times",
        "element z is in the set, but no client ever added it",
        "element b was acknowledged but is not in the set");
  }
}
