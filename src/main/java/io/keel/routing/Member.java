package io.keel.routing;

/**
 * A data member of the cluster as placement sees it: its stable node name (never the random
 * cluster node id, so that a restarted node gets its partitions back) and its weight.
 *
 * <p>A member of weight {@code w} gets a share {@code w / (sum of weights)} of the partitions.
 *
 * @param name the stable node name, 1 to 128 characters
 * @param weight the relative capacity, 1 to 100
 */
public record Member(String name, int weight) {

  /** The longest accepted name, in characters. */
  public static final int NAME_LENGTH_MAX = 128;
  /** The largest accepted weight. */
  public static final int WEIGHT_MAX = 100;

  /**
   * Validates the fields.
   *
   * @throws IllegalArgumentException if the name is null, empty or too long, or the weight is
   *     out of range
   */
  public Member {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("name must not be empty, was " + name);
    }
    if (name.length() > NAME_LENGTH_MAX) {
      throw new IllegalArgumentException(
          "name must be at most " + NAME_LENGTH_MAX + " characters, was " + name.length());
    }
    if (weight < 1 || weight > WEIGHT_MAX) {
      throw new IllegalArgumentException("weight must be in 1.." + WEIGHT_MAX + ", was " + weight);
    }
  }

  /**
   * Returns a member of weight 1.
   *
   * @param name the stable node name
   * @return the member
   */
  public static Member of(String name) {
    return new Member(name, 1);
  }
}
