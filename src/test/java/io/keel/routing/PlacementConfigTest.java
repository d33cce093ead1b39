package io.keel.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Validation of the placement configuration and of members. */
class PlacementConfigTest {

  @Test
  void defaults_are_valid_and_named() {
    PlacementConfig c = PlacementConfig.defaults();
    assertThat(c.partitions()).isEqualTo(PlacementConfig.DEFAULT_PARTITIONS);
    assertThat(c.replicas()).isEqualTo(3);
    assertThat(c.vnodes()).isEqualTo(PlacementConfig.DEFAULT_VNODES);
    assertThat(c.loadFactor()).isEqualTo(PlacementConfig.DEFAULT_LOAD_FACTOR);
  }

  @Test
  void partitions_out_of_range_are_rejected_with_the_value() {
    assertThatThrownBy(() -> new PlacementConfig(0, 3, 64, 0.05))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("partitions must be in 1..65536, was 0");
    assertThatThrownBy(() -> new PlacementConfig(65537, 3, 64, 0.05))
        .hasMessage("partitions must be in 1..65536, was 65537");
  }

  @Test
  void replicas_out_of_range_are_rejected_with_the_value() {
    assertThatThrownBy(() -> new PlacementConfig(271, 0, 64, 0.05))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("replicas must be in 1..7, was 0");
    assertThatThrownBy(() -> new PlacementConfig(271, 8, 64, 0.05))
        .hasMessage("replicas must be in 1..7, was 8");
  }

  @Test
  void vnodes_out_of_range_are_rejected_with_the_value() {
    assertThatThrownBy(() -> new PlacementConfig(271, 3, 0, 0.05))
        .hasMessage("vnodes must be in 1..1024, was 0");
    assertThatThrownBy(() -> new PlacementConfig(271, 3, 1025, 0.05))
        .hasMessage("vnodes must be in 1..1024, was 1025");
  }

  @Test
  void load_factor_out_of_range_or_nan_is_rejected_with_the_value() {
    assertThatThrownBy(() -> new PlacementConfig(271, 3, 64, -0.01))
        .hasMessage("loadFactor must be in 0.0..1.0, was -0.01");
    assertThatThrownBy(() -> new PlacementConfig(271, 3, 64, 1.5))
        .hasMessage("loadFactor must be in 0.0..1.0, was 1.5");
    assertThatThrownBy(() -> new PlacementConfig(271, 3, 64, Double.NaN))
        .hasMessage("loadFactor must be in 0.0..1.0, was NaN");
  }

  @Test
  void bounds_are_accepted() {
    assertThat(new PlacementConfig(1, 1, 1, 0.0)).isNotNull();
    assertThat(new PlacementConfig(65536, 7, 1024, 1.0)).isNotNull();
  }

  @Test
  void negative_zero_load_factor_equals_zero() {
    assertThat(new PlacementConfig(271, 3, 64, -0.0))
        .isEqualTo(new PlacementConfig(271, 3, 64, 0.0));
  }

  @Test
  void members_are_validated_with_the_value() {
    assertThatThrownBy(() -> new Member("", 1))
        .hasMessage("name must not be empty, was ");
    assertThatThrownBy(() -> new Member(null, 1))
        .hasMessage("name must not be empty, was null");
    assertThatThrownBy(() -> new Member("x".repeat(129), 1))
        .hasMessage("name must be at most 128 characters, was 129");
    assertThatThrownBy(() -> new Member("a", 0)).hasMessage("weight must be in 1..100, was 0");
    assertThatThrownBy(() -> new Member("a", 101))
        .hasMessage("weight must be in 1..100, was 101");
    assertThat(new Member("x".repeat(128), 100).weight()).isEqualTo(100);
  }
}
