package io.keel.routing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * The partition table: each partition's replica set (primary first) for one member set and
 * configuration, with the epoch under which the cluster published it. Immutable.
 *
 * <p>The table is a pure function of the member set and the configuration: every member
 * computes the same table from the same member list, whatever order the list comes in and on
 * whatever JVM (see {@link HashRing} for the placement itself). The epoch is not part of that
 * function; {@link #equals} and {@link #sameAssignment} ignore it, and {@link #fingerprint}
 * names the inputs so that members can agree on which epoch a member set got.
 *
 * <p>The lookups are the hot path of routing: {@link #primaryOf} and {@link #replicasOf} hash
 * the key and read an array, allocating nothing.
 */
public final class PartitionTable {

  private static final List<Member> NO_MEMBERS = List.of();

  private final long epoch;
  private final PlacementConfig config;
  private final List<Member> members; // sorted by name
  // Invariant: primaries[p] == replicas[p].get(0), or null and empty when there are no members.
  private final String[] primaries;
  private final List<String>[] replicas;
  // P - 1 when P is a power of two (the remainder is then a mask), else -1.
  private final long mask;

  private PartitionTable(long epoch, PlacementConfig config, List<Member> members,
      String[] primaries, List<String>[] replicas) {
    this.epoch = epoch;
    this.config = config;
    this.members = members;
    this.primaries = primaries;
    this.replicas = replicas;
    int p = primaries.length;
    this.mask = (p & (p - 1)) == 0 ? p - 1 : -1;
  }

  /**
   * Computes the table of a member set.
   *
   * @param epoch the epoch to stamp on the table
   * @param members the data members, in any order, with distinct names; may be empty
   * @param config the placement configuration
   * @return the table
   * @throws IllegalArgumentException if two members have the same name
   */
  public static PartitionTable compute(long epoch, Collection<Member> members,
      PlacementConfig config) {
    return compute(epoch, members, config, HashRing.Strategy.RING_GREEDY,
        config.loadFactor());
  }

  /** Computes the table with a given placement variant (for measurements). */
  static PartitionTable compute(long epoch, Collection<Member> members, PlacementConfig config,
      HashRing.Strategy strategy, double replicaLoadFactor) {
    if (config == null) {
      throw new IllegalArgumentException("config must not be null");
    }
    List<Member> sorted = new ArrayList<>(members);
    sorted.sort(Comparator.comparing(Member::name));
    for (int i = 1; i < sorted.size(); i++) {
      if (sorted.get(i).name().equals(sorted.get(i - 1).name())) {
        throw new IllegalArgumentException("duplicate member name " + sorted.get(i).name());
      }
    }
    if (sorted.isEmpty()) {
      return empty(config).withEpoch(epoch);
    }
    int p = config.partitions();
    int width = Math.min(config.replicas(), sorted.size());
    int[] assignment = HashRing.assign(sorted, config, strategy, replicaLoadFactor);
    String[] primaries = new String[p];
    @SuppressWarnings({"unchecked", "rawtypes"})
    List<String>[] replicas = new List[p];
    String[] set = new String[width];
    for (int i = 0; i < p; i++) {
      for (int k = 0; k < width; k++) {
        set[k] = sorted.get(assignment[i * width + k]).name();
      }
      primaries[i] = set[0];
      replicas[i] = List.of(set);
    }
    return new PartitionTable(epoch, config, List.copyOf(sorted), primaries, replicas);
  }

  /**
   * Returns the table of no members: every primary is null, every replica set empty.
   *
   * @param config the placement configuration
   * @return the table, epoch 0
   */
  public static PartitionTable empty(PlacementConfig config) {
    if (config == null) {
      throw new IllegalArgumentException("config must not be null");
    }
    int p = config.partitions();
    @SuppressWarnings({"unchecked", "rawtypes"})
    List<String>[] replicas = new List[p];
    Arrays.fill(replicas, List.of());
    return new PartitionTable(0, config, NO_MEMBERS, new String[p], replicas);
  }

  /** Returns the epoch this table was published under. */
  public long epoch() {
    return epoch;
  }

  /** Returns the configuration. */
  public PlacementConfig config() {
    return config;
  }

  /** Returns the partition count P. */
  public int partitionCount() {
    return primaries.length;
  }

  /** Returns the members, sorted by name, unmodifiable. */
  public List<Member> members() {
    return members;
  }

  /**
   * Returns the partition of a key: {@code hash64(key) mod P}, unsigned.
   *
   * @param key the key
   * @return the partition
   */
  public int partitionOf(CharSequence key) {
    long hash = KeyHash.hash64(key);
    return mask >= 0 ? (int) (hash & mask) : KeyHash.partition(hash, primaries.length);
  }

  /**
   * Returns the primary of a partition.
   *
   * @param partition the partition, {@code 0..P-1}
   * @return the primary's name, or null if the table has no members
   */
  public String primary(int partition) {
    return primaries[partition];
  }

  /**
   * Returns the replica set of a partition: {@code min(R, members)} distinct names, primary
   * first. The list is precomputed and unmodifiable; the call allocates nothing.
   *
   * @param partition the partition, {@code 0..P-1}
   * @return the replica names, empty if the table has no members
   */
  public List<String> replicas(int partition) {
    return replicas[partition];
  }

  /**
   * Returns the primary for a key, without allocating.
   *
   * @param key the key
   * @return the primary's name, or null if the table has no members
   */
  public String primaryOf(CharSequence key) {
    return primaries[partitionOf(key)];
  }

  /**
   * Returns the replica set for a key, without allocating.
   *
   * @param key the key
   * @return the replica names, primary first
   */
  public List<String> replicasOf(CharSequence key) {
    return replicas[partitionOf(key)];
  }

  /**
   * Returns the partitions where a member is primary.
   *
   * @param member the member's name
   * @return the partitions, ascending; empty if it is primary of none
   */
  public int[] primaryPartitions(String member) {
    int[] out = new int[primaries.length];
    int n = 0;
    for (int p = 0; p < primaries.length; p++) {
      if (member.equals(primaries[p])) {
        out[n++] = p;
      }
    }
    return Arrays.copyOf(out, n);
  }

  /**
   * Returns the partitions whose replica set includes a member, primary or not.
   *
   * @param member the member's name
   * @return the partitions, ascending; empty if it holds none
   */
  public int[] replicaPartitions(String member) {
    int[] out = new int[primaries.length];
    int n = 0;
    for (int p = 0; p < primaries.length; p++) {
      if (replicas[p].contains(member)) {
        out[n++] = p;
      }
    }
    return Arrays.copyOf(out, n);
  }

  /**
   * Returns this table under another epoch.
   *
   * @param epoch the new epoch
   * @return a table with the same assignment
   */
  public PartitionTable withEpoch(long epoch) {
    return epoch == this.epoch
        ? this : new PartitionTable(epoch, config, members, primaries, replicas);
  }

  /**
   * Returns whether another table has the same configuration, members and replica sets,
   * whatever the epochs.
   *
   * @param other the other table
   * @return true if they assign the same
   */
  public boolean sameAssignment(PartitionTable other) {
    return other != null && config.equals(other.config) && members.equals(other.members)
        && Arrays.equals(replicas, other.replicas);
  }

  /**
   * Returns the canonical text of the table's inputs: the configuration and the members
   * (name:weight, sorted by name, with {@code \ , : ;} in names escaped by a backslash).
   * Equal fingerprints mean equal assignments.
   *
   * @return for example {@code P=512,R=3,V=256,eps=0.05;a:1,b:2}
   */
  public String fingerprint() {
    StringBuilder sb = new StringBuilder(config.canonical()).append(';');
    for (int i = 0; i < members.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      String name = members.get(i).name();
      for (int c = 0; c < name.length(); c++) {
        char ch = name.charAt(c);
        if (ch == '\\' || ch == ',' || ch == ':' || ch == ';') {
          sb.append('\\');
        }
        sb.append(ch);
      }
      sb.append(':').append(members.get(i).weight());
    }
    return sb.toString();
  }

  /** Equal when {@link #sameAssignment}: the epoch does not count. */
  @Override
  public boolean equals(Object o) {
    return o instanceof PartitionTable && sameAssignment((PartitionTable) o);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * config.hashCode() + members.hashCode()) + Arrays.hashCode(replicas);
  }

  @Override
  public String toString() {
    return "PartitionTable{epoch=" + epoch + ", " + fingerprint() + "}";
  }
}
