package io.keel.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class OwnershipChangeTest {
  private static final PlacementConfig CONFIG = new PlacementConfig(64, 2, 16, 0.05);

  @Test
  void a_joining_node_gains_what_the_others_lose() {
    PartitionTable two = PartitionTable.compute(1, List.of(new Member("a", 1),
        new Member("b", 1)), CONFIG);
    PartitionTable three = PartitionTable.compute(2, List.of(new Member("a", 1),
        new Member("b", 1), new Member("c", 1)), CONFIG);
    OwnershipChange c = OwnershipChange.between("c", two, three);
    assertThat(c.epoch()).isEqualTo(2);
    assertThat(c.previousEpoch()).isEqualTo(1);
    assertThat(c.lostPrimary()).isEmpty();
    assertThat(c.gainedPrimary()).containsExactlyElementsOf(
        java.util.Arrays.stream(three.primaryPartitions("c")).boxed().toList());
    // Under a load bound an old member can also gain a partition that another gave up.
    OwnershipChange a = OwnershipChange.between("a", two, three);
    assertThat(a.lostPrimary()).isNotEmpty();
    for (int p : a.lostPrimary()) {
      assertThat(two.primary(p)).isEqualTo("a");
      assertThat(three.primary(p)).isNotEqualTo("a");
    }
    for (int p : a.gainedPrimary()) {
      assertThat(two.primary(p)).isNotEqualTo("a");
      assertThat(three.primary(p)).isEqualTo("a");
    }
    for (int p = 0; p < 64; p++) {
      boolean was = "a".equals(two.primary(p));
      boolean is = "a".equals(three.primary(p));
      assertThat(a.lostPrimary().contains(p)).as("partition %d", p).isEqualTo(was && !is);
      assertThat(a.gainedPrimary().contains(p)).as("partition %d", p).isEqualTo(!was && is);
    }
    assertThat(OwnershipChange.between("a", three, three).isEmpty()).isTrue();
  }
}
