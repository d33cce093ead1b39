package io.keel.routing;

import java.util.List;

/**
 * Rendezvous (highest random weight) preference lists: partition {@code p} ranks members by
 * score, the largest of {@code weight} 64-bit mixes of the member's hashes with the partition's
 * point (so a member's chance to rank first is proportional to its weight, in integer math).
 * The cost of a position is the complement of its score. Lists are built on first use.
 */
final class RendezvousPreference implements Preference {

  private final long[][] memberHashes;
  private final long[] partitionPoints;
  private final int[][] order;
  private final long[][] costs;

  RendezvousPreference(List<Member> members, long[] partitionPoints) {
    this.memberHashes = new long[members.size()][];
    for (int i = 0; i < members.size(); i++) {
      Member m = members.get(i);
      memberHashes[i] = new long[m.weight()];
      for (int j = 0; j < m.weight(); j++) {
        memberHashes[i][j] = KeyHash.hash64(m.name() + "#" + j);
      }
    }
    this.partitionPoints = partitionPoints;
    this.order = new int[partitionPoints.length][];
    this.costs = new long[partitionPoints.length][];
  }

  @Override
  public int start(int p) {
    if (order[p] == null) {
      int n = memberHashes.length;
      long[] c = new long[n];
      int[] who = new int[n];
      for (int i = 0; i < n; i++) {
        long best = 0;
        for (long h : memberHashes[i]) {
          long s = HashRing.mix64(h ^ partitionPoints[p]);
          if (Long.compareUnsigned(s, best) > 0) {
            best = s;
          }
        }
        c[i] = ~best;
        who[i] = i;
      }
      Sorting.sortUnsigned(c, who);
      order[p] = who;
      costs[p] = c;
    }
    return 0;
  }

  @Override
  public int next(int cursor) {
    return cursor + 1 == memberHashes.length ? 0 : cursor + 1;
  }

  @Override
  public int member(int p, int cursor) {
    return order[p][cursor];
  }

  @Override
  public long cost(int p, int cursor) {
    return costs[p][cursor];
  }

  @Override
  public int length() {
    return memberHashes.length;
  }
}
