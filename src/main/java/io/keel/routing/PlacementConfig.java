package io.keel.routing;

/**
 * The parameters of placement. A cluster fixes them when it is created: every member must use
 * the same values, since the partition table is computed from them and the member list alone.
 *
 * @param partitions the partition count P, 1 to 65536; {@code partition = hash64(key) mod P}
 * @param replicas the replica count R (primary included), 1 to 7
 * @param vnodes ring points per unit of member weight, 1 to 1024
 * @param loadFactor the load bound epsilon, 0.0 to 1.0: no member holds more than
 *     {@code (1 + loadFactor)} times its weighted fair share of primaries, nor of replica
 *     slots, except that a bound is never below the fair share rounded up
 */
public record PlacementConfig(int partitions, int replicas, int vnodes, double loadFactor) {

  /** The largest accepted partition count. */
  public static final int PARTITIONS_MAX = 65536;
  /** The largest accepted replica count. */
  public static final int REPLICAS_MAX = 7;
  /** The largest accepted vnode count. */
  public static final int VNODES_MAX = 1024;

  /** The default partition count; see the README's placement section for the measurement. */
  public static final int DEFAULT_PARTITIONS = 512;
  /** The default replica count: a consensus group of 3 survives one failure. */
  public static final int DEFAULT_REPLICAS = 3;
  /** The default ring points per unit of weight. */
  public static final int DEFAULT_VNODES = 256;
  /** The default load bound epsilon. */
  public static final double DEFAULT_LOAD_FACTOR = 0.05;

  /**
   * Validates the fields.
   *
   * @throws IllegalArgumentException naming the field and the offending value
   */
  public PlacementConfig {
    if (partitions < 1 || partitions > PARTITIONS_MAX) {
      throw new IllegalArgumentException(
          "partitions must be in 1.." + PARTITIONS_MAX + ", was " + partitions);
    }
    if (replicas < 1 || replicas > REPLICAS_MAX) {
      throw new IllegalArgumentException(
          "replicas must be in 1.." + REPLICAS_MAX + ", was " + replicas);
    }
    if (vnodes < 1 || vnodes > VNODES_MAX) {
      throw new IllegalArgumentException("vnodes must be in 1.." + VNODES_MAX + ", was " + vnodes);
    }
    if (!(loadFactor >= 0.0 && loadFactor <= 1.0)) {
      throw new IllegalArgumentException("loadFactor must be in 0.0..1.0, was " + loadFactor);
    }
    loadFactor += 0.0; // -0.0 becomes 0.0, so that equal configurations are equal
  }

  /**
   * Returns the default configuration.
   *
   * @return {@code DEFAULT_PARTITIONS}, {@code DEFAULT_REPLICAS}, {@code DEFAULT_VNODES},
   *     {@code DEFAULT_LOAD_FACTOR}
   */
  public static PlacementConfig defaults() {
    return new PlacementConfig(
        DEFAULT_PARTITIONS, DEFAULT_REPLICAS, DEFAULT_VNODES, DEFAULT_LOAD_FACTOR);
  }

  /**
   * Returns the canonical text of this configuration, part of {@link PartitionTable#fingerprint}.
   *
   * @return for example {@code P=512,R=3,V=256,eps=0.05}
   */
  String canonical() {
    return "P=" + partitions + ",R=" + replicas + ",V=" + vnodes + ",eps=" + loadFactor;
  }
}
