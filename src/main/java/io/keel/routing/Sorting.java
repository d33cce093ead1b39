package io.keel.routing;

/** Primitive sorts and a heap for placement, without boxing. */
final class Sorting {

  private Sorting() {
  }

  /**
   * Sorts {@code keys} as unsigned numbers, ties by {@code values}, moving {@code values} along.
   * A merge sort: stable, O(n log n), deterministic.
   */
  static void sortUnsigned(long[] keys, int[] values) {
    int n = keys.length;
    long[] k2 = new long[n];
    int[] v2 = new int[n];
    long[] srcK = keys;
    int[] srcV = values;
    long[] dstK = k2;
    int[] dstV = v2;
    for (int run = 1; run < n; run <<= 1) {
      for (int lo = 0; lo < n; lo += run << 1) {
        int mid = Math.min(lo + run, n);
        int hi = Math.min(lo + (run << 1), n);
        int i = lo;
        int j = mid;
        int o = lo;
        while (i < mid && j < hi) {
          if (less(srcK[j], srcV[j], srcK[i], srcV[i])) {
            dstK[o] = srcK[j];
            dstV[o++] = srcV[j++];
          } else {
            dstK[o] = srcK[i];
            dstV[o++] = srcV[i++];
          }
        }
        while (i < mid) {
          dstK[o] = srcK[i];
          dstV[o++] = srcV[i++];
        }
        while (j < hi) {
          dstK[o] = srcK[j];
          dstV[o++] = srcV[j++];
        }
      }
      long[] tk = srcK;
      srcK = dstK;
      dstK = tk;
      int[] tv = srcV;
      srcV = dstV;
      dstV = tv;
    }
    if (srcK != keys) {
      System.arraycopy(srcK, 0, keys, 0, n);
      System.arraycopy(srcV, 0, values, 0, n);
    }
  }

  /** Whether (k1, v1) orders before (k2, v2): unsigned key, then value. */
  static boolean less(long k1, int v1, long k2, int v2) {
    int c = Long.compareUnsigned(k1, k2);
    return c < 0 || (c == 0 && v1 < v2);
  }
}
