package io.keel.routing;

/**
 * A binary min-heap of (unsigned key, partition) pairs, ties broken by partition, so that pops
 * come out in one order on every JVM. Holds at most one entry per partition.
 */
final class Heap {

  private final long[] keys;
  private final int[] parts;
  private int size;

  Heap(int capacity) {
    keys = new long[capacity];
    parts = new int[capacity];
  }

  int size() {
    return size;
  }

  void push(long key, int partition) {
    int i = size++;
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (!Sorting.less(key, partition, keys[parent], parts[parent])) {
        break;
      }
      keys[i] = keys[parent];
      parts[i] = parts[parent];
      i = parent;
    }
    keys[i] = key;
    parts[i] = partition;
  }

  /** Removes the smallest entry and returns its partition. */
  int popPartition() {
    int top = parts[0];
    size--;
    long key = keys[size];
    int part = parts[size];
    int i = 0;
    while (true) {
      int child = 2 * i + 1;
      if (child >= size) {
        break;
      }
      if (child + 1 < size && Sorting.less(keys[child + 1], parts[child + 1], keys[child],
          parts[child])) {
        child++;
      }
      if (!Sorting.less(keys[child], parts[child], key, part)) {
        break;
      }
      keys[i] = keys[child];
      parts[i] = parts[child];
      i = child;
    }
    keys[i] = key;
    parts[i] = part;
    return top;
  }
}
