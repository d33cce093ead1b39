package io.keel.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ServiceNameTest {
  // The documented rule for a service's name.
  private static final Pattern RULE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

  @Test
  void the_check_by_hand_agrees_with_the_documented_pattern() {
    for (String s : List.of("map", "lock", "a", "A9", "x_y.z-1", "_map", ".map", "-map", "",
        "ma p", "map/x", "é", "m".repeat(64), "m".repeat(65), "9" + "_".repeat(63),
        "9" + "_".repeat(64), "map\n", "\u0660")) {
      assertThat(Routing.isServiceName(s)).as("'%s'", s).isEqualTo(RULE.matcher(s).matches());
    }
    assertThat(Routing.isServiceName(null)).isFalse();
    String alphabet = "aZ09_.-/ é\u0000";
    SplittableRandom random = new SplittableRandom(7);
    for (int n = 0; n < 20_000; n++) {
      StringBuilder s = new StringBuilder();
      for (int i = random.nextInt(68); i > 0; i--) {
        s.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      assertThat(Routing.isServiceName(s.toString())).as("'%s'", s)
          .isEqualTo(RULE.matcher(s).matches());
    }
  }
}
