package io.keel.routing;

import java.util.List;

/**
 * The clockwise walk on the 64-bit ring: members own {@code vnodes * weight} points each, at
 * xxHash64 of {@code "name#i"}; the cost of a point is its unsigned clockwise distance from the
 * partition's point. Points are sorted by unsigned value, then by member index, so that even
 * a hash collision orders the same way on every JVM.
 */
final class RingPreference implements Preference {

  private final long[] points; // sorted, unsigned
  private final int[] owners; // member index of points[i]
  private final long[] partitionPoints;

  RingPreference(List<Member> members, int vnodes, long[] partitionPoints) {
    int count = 0;
    for (Member m : members) {
      count += vnodes * m.weight();
    }
    long[] keys = new long[count];
    int[] who = new int[count];
    int k = 0;
    for (int i = 0; i < members.size(); i++) {
      Member m = members.get(i);
      for (int v = 0; v < vnodes * m.weight(); v++) {
        keys[k] = KeyHash.hash64(m.name() + "#" + v);
        who[k++] = i;
      }
    }
    Sorting.sortUnsigned(keys, who);
    this.points = keys;
    this.owners = who;
    this.partitionPoints = partitionPoints;
  }

  @Override
  public int start(int p) {
    long point = partitionPoints[p];
    int lo = 0;
    int hi = points.length; // first index with points[i] >= point, unsigned
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(points[mid], point) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo == points.length ? 0 : lo;
  }

  @Override
  public int next(int cursor) {
    return cursor + 1 == points.length ? 0 : cursor + 1;
  }

  @Override
  public int member(int p, int cursor) {
    return owners[cursor];
  }

  @Override
  public long cost(int p, int cursor) {
    return points[cursor] - partitionPoints[p];
  }

  @Override
  public int length() {
    return points.length;
  }
}
