package io.keel.routing;

import java.util.List;

/**
 * How one node's share of partitions changed between two partition tables: the hook where a
 * capability moves its state (a gained replica fetches, a lost one hands off).
 *
 * @param node the node's name
 * @param previousEpoch the epoch of the table before (0 for none)
 * @param epoch the epoch of the new table
 * @param gainedPrimary partitions this node is now the primary of, and was not
 * @param lostPrimary partitions this node was the primary of, and is not
 * @param gainedReplica partitions whose replica set now includes this node, and did not
 * @param lostReplica partitions whose replica set included this node, and does not
 */
public record OwnershipChange(String node, long previousEpoch, long epoch,
    List<Integer> gainedPrimary, List<Integer> lostPrimary,
    List<Integer> gainedReplica, List<Integer> lostReplica) {

  /** The change from {@code before} to {@code after} for {@code node}. */
  public static OwnershipChange between(String node, PartitionTable before, PartitionTable after) {
    return new OwnershipChange(node, before.epoch(), after.epoch(),
        minus(after.primaryPartitions(node), before.primaryPartitions(node)),
        minus(before.primaryPartitions(node), after.primaryPartitions(node)),
        minus(after.replicaPartitions(node), before.replicaPartitions(node)),
        minus(before.replicaPartitions(node), after.replicaPartitions(node)));
  }

  /** Whether nothing changed for this node. */
  public boolean isEmpty() {
    return gainedPrimary.isEmpty() && lostPrimary.isEmpty() && gainedReplica.isEmpty()
        && lostReplica.isEmpty();
  }

  /** Sorted elements of {@code a} not in {@code b}; both sorted. */
  private static List<Integer> minus(int[] a, int[] b) {
    java.util.ArrayList<Integer> out = new java.util.ArrayList<>();
    int j = 0;
    for (int x : a) {
      while (j < b.length && b[j] < x) {
        j++;
      }
      if (j >= b.length || b[j] != x) {
        out.add(x);
      }
    }
    return List.copyOf(out);
  }
}
