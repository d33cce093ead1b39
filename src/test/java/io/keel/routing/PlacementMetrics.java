package io.keel.routing;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Balance and movement of partition tables, shared by the property tests and
 * {@code io.keel.bench.PlacementReport}. Public only so that the report (another package) can
 * reach the package-private placement variants.
 */
public final class PlacementMetrics {

  /** The placement variants, by name (see {@link HashRing.Strategy}). */
  public static final List<String> VARIANTS = List.of(
      "RING_GREEDY", "RING_IN_ORDER", "HRW_GREEDY", "HRW_IN_ORDER");

  private PlacementMetrics() {
  }

  /**
   * Computes a table with a named placement variant; {@code NAME@x} uses the load factor
   * {@code x} for replica slots instead of the configuration's.
   */
  public static PartitionTable compute(List<Member> members, PlacementConfig config,
      String variant) {
    String[] parts = variant.split("@", 2);
    double replicaLoadFactor = parts.length == 2
        ? Double.parseDouble(parts[1]) : config.loadFactor();
    return PartitionTable.compute(1, members, config, HashRing.Strategy.valueOf(parts[0]),
        replicaLoadFactor);
  }

  /** Returns {@code n} members named {@code node-<random>} of weight 1. */
  public static List<Member> randomMembers(SplittableRandom random, int n) {
    List<Member> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    while (out.size() < n) {
      String name = "node-" + Long.toHexString(random.nextLong());
      if (names.add(name)) {
        out.add(new Member(name, 1));
      }
    }
    return out;
  }

  /** Returns a fresh random member whose name is not in {@code members}. */
  public static Member newMember(SplittableRandom random, List<Member> members, int weight) {
    while (true) {
      String name = "node-" + Long.toHexString(random.nextLong());
      if (members.stream().noneMatch(m -> m.name().equals(name))) {
        return new Member(name, weight);
      }
    }
  }

  /**
   * Returns the largest ratio of a member's primary count to its weighted fair share
   * {@code P * weight / totalWeight}.
   */
  public static double primaryBalance(PartitionTable t) {
    double total = totalWeight(t);
    double worst = 0;
    for (Member m : t.members()) {
      double fair = t.partitionCount() * m.weight() / total;
      worst = Math.max(worst, t.primaryPartitions(m.name()).length / fair);
    }
    return worst;
  }

  /** Returns the largest primary count of any member. */
  public static int primaryMax(PartitionTable t) {
    int max = 0;
    for (Member m : t.members()) {
      max = Math.max(max, t.primaryPartitions(m.name()).length);
    }
    return max;
  }

  /**
   * Returns the largest ratio of a member's replica slots to its weighted fair share
   * {@code P * min(R, N) * weight / totalWeight} (equal weights assumed for the share).
   */
  public static double replicaBalance(PartitionTable t) {
    double total = totalWeight(t);
    int width = Math.min(t.config().replicas(), t.members().size());
    double worst = 0;
    for (Member m : t.members()) {
      double fair = (double) t.partitionCount() * width * m.weight() / total;
      worst = Math.max(worst, t.replicaPartitions(m.name()).length / fair);
    }
    return worst;
  }

  /** The movement between two tables, against the ideal for the member that came or went. */
  public record Movement(int primaries, int primariesBetweenStayers, int replicaSlots,
      double idealPrimaries, double idealReplicaSlots) {

    /** Primaries moved over the ideal. */
    public double primaryRatio() {
      return primaries / idealPrimaries;
    }

    /** Replica slots moved over the ideal. */
    public double replicaRatio() {
      return replicaSlots / idealReplicaSlots;
    }
  }

  /**
   * Measures the movement from {@code before} to {@code after}, where exactly one member
   * {@code changed} joined (it is in {@code after}) or left (it is in {@code before}).
   */
  public static Movement movement(PartitionTable before, PartitionTable after, Member changed) {
    boolean join = after.members().contains(changed);
    PartitionTable big = join ? after : before;
    double share = changed.weight() / totalWeight(big);
    int width = Math.min(big.config().replicas(), big.members().size());
    int primaries = 0;
    int stayers = 0;
    int slots = 0;
    for (int p = 0; p < before.partitionCount(); p++) {
      String a = before.primary(p);
      String b = after.primary(p);
      if (!a.equals(b)) {
        primaries++;
        if (!a.equals(changed.name()) && !b.equals(changed.name())) {
          stayers++;
        }
      }
      for (String r : after.replicas(p)) {
        if (!before.replicas(p).contains(r)) {
          slots++;
        }
      }
    }
    int partitions = before.partitionCount();
    return new Movement(primaries, stayers, slots, partitions * share,
        (double) partitions * width * share);
  }

  private static double totalWeight(PartitionTable t) {
    double total = 0;
    for (Member m : t.members()) {
      total += m.weight();
    }
    return total;
  }
}
