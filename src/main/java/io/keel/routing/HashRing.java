package io.keel.routing;

import java.util.Arrays;
import java.util.List;

/**
 * Places partitions on members: consistent hashing on a 64-bit ring with bounded loads.
 * Computes, from the member list and the configuration alone, each partition's replica set
 * (primary first) as member indices.
 *
 * <h2>Implementation notes</h2>
 * Members own {@code vnodes * weight} points on the ring (xxHash64 of {@code "name#i"}) and each
 * partition has a point of its own (a fixed 64-bit mix of its number). Without a bound, a
 * partition's replica set would be the first R distinct members clockwise from its point; a
 * member's share then varies with the arcs its points happen to own, by about
 * {@code 1/sqrt(vnodes)} plus the sampling noise of P partitions, far from the 5% we want.
 *
 * <p>Mirrokni, Thorup and Zadimoghaddam, "Consistent Hashing with Bounded Loads" (SODA 2018)
 * give every bin a capacity {@code ceil((1 + eps) * mean)}; a ball that finds its bin full
 * walks on clockwise to the next bin with room. Balance is then bounded by construction, and
 * the paper shows that an insertion or deletion moves O(1/eps^2) balls in expectation, which
 * depends on the order in which balls are inserted: a full bin turns away whichever ball
 * comes last. We do not insert in partition-number order (variant {@code RING_IN_ORDER}). We
 * let partitions claim members in order of ring distance, closest claims first, across all
 * partitions ({@code RING_GREEDY}): a heap holds each partition's next candidate keyed by the
 * clockwise distance to it, and a member that fills up turns away only the partitions that
 * are farthest from it. The result is the stable matching between partitions and capacitated
 * members under ring distance: it is unique, so it does not depend on any processing order,
 * and a join changes it only along the chains of partitions the new member displaces, instead
 * of reshuffling every partition that happens to be processed after a full member.
 *
 * <p>What the bound costs: with {@code cap = ceil(mean)} nearly every member is full, and a
 * join that takes a partition from a full member frees room there, so a partition that member
 * had turned away comes back from wherever it overflowed to: a move between two members that
 * stayed. Measured at the defaults (P=512, 256 vnodes, eps=0.05; {@code PlacementReport}),
 * a join moves 1.05x the ideal primaries at 3-5 members, 1.2x at 10, 1.4-1.8x at 20-100;
 * with the bound out of the way (eps=1) a join moves 0.8-1.1x its share, but the largest
 * member then holds 1.07x (3 members) to 1.95x (100 members) the mean. Rendezvous
 * preference lists ({@code HRW_GREEDY}) measured within a few percent of the ring, sometimes
 * better, sometimes worse; the ring stays the default because it is the documented design and
 * scales to large clusters without a P x N score table.
 *
 * <p>Primaries are placed first, with a bound on primaries per member; then the other R-1
 * replicas of every partition, with a bound on replica slots per member (primaries count),
 * by the same greedy walking on from the partition's point and skipping members already in
 * the set. A bound is {@code max(ceil(share), floor((1 + eps) * share))}: never above
 * {@code (1 + eps)} times the weighted fair share, unless that is below the share rounded up.
 * A member's replica share is at most P (it holds a partition once); when weights make that
 * bind, the excess is spread over the others in proportion to their weights. If no member
 * with room remains for a slot (possible only when rounding leaves the bounds short), the
 * slot goes to the nearest member not yet in the set, ignoring the bound.
 *
 * <p>Determinism: only integer arithmetic decides the order (unsigned 64-bit distances, ties
 * broken by partition and member index); the bounds use IEEE doubles, which Java 17 computes
 * identically everywhere. Members are indexed in name order, so the input order is irrelevant.
 */
final class HashRing {

  /** How partitions choose among their candidate members. */
  enum Strategy {
    /** Ring walk; partitions claim members closest first (the default). */
    RING_GREEDY,
    /** Ring walk; partitions are placed one after another in partition-number order. */
    RING_IN_ORDER,
    /** Rendezvous (highest random weight) preference lists; best scores claim first. */
    HRW_GREEDY,
    /** Rendezvous preference lists; partitions placed in partition-number order. */
    HRW_IN_ORDER
  }

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private final List<Member> members;
  private final int partitions;
  private final int width; // replicas per partition: min(R, members)
  private final double loadFactor;
  private final double replicaLoadFactor;
  private final boolean greedy;
  private final Preference preference;
  private final long[] partitionPoints;
  // Invariant: assignment[p * width + k] is the k-th replica of p, -1 while unassigned.
  private final int[] assignment;
  private final int[] filled; // replicas assigned so far, per partition
  private final int[] cursor; // position in the partition's preference walk
  private final int[] steps; // candidates examined in the current walk

  private HashRing(List<Member> sortedMembers, PlacementConfig config, Strategy strategy,
      double replicaLoadFactor) {
    this.members = sortedMembers;
    this.partitions = config.partitions();
    this.width = Math.min(config.replicas(), sortedMembers.size());
    this.loadFactor = config.loadFactor();
    this.replicaLoadFactor = replicaLoadFactor;
    this.greedy = strategy != Strategy.RING_IN_ORDER && strategy != Strategy.HRW_IN_ORDER;
    this.partitionPoints = new long[partitions];
    for (int p = 0; p < partitions; p++) {
      partitionPoints[p] = partitionPoint(p);
    }
    boolean ring = strategy == Strategy.RING_GREEDY || strategy == Strategy.RING_IN_ORDER;
    this.preference = ring
        ? new RingPreference(sortedMembers, config.vnodes(), partitionPoints)
        : new RendezvousPreference(sortedMembers, partitionPoints);
    this.assignment = new int[partitions * width];
    this.filled = new int[partitions];
    this.cursor = new int[partitions];
    this.steps = new int[partitions];
  }

  /**
   * Computes the replica sets.
   *
   * @param sortedMembers the members, sorted by name, distinct, not empty
   * @param config the configuration
   * @param strategy the placement variant
   * @param replicaLoadFactor eps for replica slots (the configuration's, except in
   *     measurements of a separate replica bound)
   * @return {@code min(R, members)} member indices per partition, primary first, partition
   *     after partition
   */
  static int[] assign(List<Member> sortedMembers, PlacementConfig config, Strategy strategy,
      double replicaLoadFactor) {
    HashRing ring = new HashRing(sortedMembers, config, strategy, replicaLoadFactor);
    ring.run();
    return ring.assignment;
  }

  /** The ring point of partition {@code p}: a fixed 64-bit mix of its number. */
  static long partitionPoint(int p) {
    return mix64((p + 1L) * GOLDEN);
  }

  /** The SplitMix64 finalizer (Steele, Lea, Flood 2014): a bijective 64-bit mix. */
  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private void run() {
    Arrays.fill(assignment, -1);
    int n = members.size();
    long totalWeight = 0;
    for (Member m : members) {
      totalWeight += m.weight();
    }
    int[] room = new int[n];
    for (int i = 0; i < n; i++) {
      double share = (double) partitions * members.get(i).weight() / totalWeight;
      room[i] = bound(share, loadFactor);
    }
    place(1, room);
    if (width > 1) {
      double[] share = replicaShares(totalWeight);
      int[] primaries = new int[n];
      for (int p = 0; p < partitions; p++) {
        primaries[assignment[p * width]]++;
      }
      for (int i = 0; i < n; i++) {
        int bound = Math.min(partitions, bound(share[i], replicaLoadFactor));
        room[i] = Math.max(0, bound - primaries[i]);
      }
      place(width, room);
    }
  }

  /** The load bound for a fair share: {@code max(ceil(share), floor((1 + eps) * share))}. */
  private static int bound(double share, double loadFactor) {
    double ceil = Math.ceil(share - 1e-9);
    double relaxed = Math.floor(share * (1.0 + loadFactor) + 1e-9);
    return (int) Math.max(ceil, relaxed);
  }

  /** Replica slots per member: proportional to weight, at most P each (water-filling). */
  private double[] replicaShares(long totalWeight) {
    int n = members.size();
    double[] share = new double[n];
    boolean[] clipped = new boolean[n];
    double slots = (double) partitions * width;
    double weight = totalWeight;
    boolean changed = true;
    while (changed) {
      changed = false;
      for (int i = 0; i < n; i++) {
        if (!clipped[i] && slots * members.get(i).weight() / weight > partitions) {
          clipped[i] = true;
          slots -= partitions;
          weight -= members.get(i).weight();
          changed = true;
        }
      }
    }
    for (int i = 0; i < n; i++) {
      share[i] = clipped[i] ? partitions : slots * members.get(i).weight() / weight;
    }
    return share;
  }

  /**
   * Fills every partition up to {@code target} replicas. Each partition's next candidate waits
   * in a heap keyed by its distance (greedy) or by the partition number (in order); a candidate
   * popped after its member filled up is replaced by the partition's next candidate.
   */
  private void place(int target, int[] room) {
    Heap heap = new Heap(partitions);
    for (int p = 0; p < partitions; p++) {
      cursor[p] = preference.start(p);
      steps[p] = 0;
      offerNext(p, target, room, heap);
    }
    while (heap.size() > 0) {
      int p = heap.popPartition();
      int member = preference.member(p, cursor[p]);
      if (room[member] == 0) {
        advance(p);
        offerNext(p, target, room, heap);
        continue;
      }
      room[member]--;
      assignment[p * width + filled[p]++] = member;
      if (filled[p] < target) {
        advance(p);
        offerNext(p, target, room, heap);
      }
    }
  }

  /**
   * Moves the cursor of {@code p} to its next eligible candidate and queues it; if no member
   * with room is left, fills the partition's remaining slots with the nearest members not in
   * its set, ignoring the bound (room never grows, so none will come free later).
   */
  private void offerNext(int p, int target, int[] room, Heap heap) {
    int length = preference.length();
    while (steps[p] < length) {
      int member = preference.member(p, cursor[p]);
      if (room[member] > 0 && !inSet(p, member)) {
        long key = greedy ? preference.cost(p, cursor[p]) : p;
        heap.push(key, p);
        return;
      }
      advance(p);
    }
    cursor[p] = preference.start(p);
    for (int s = 0; s < length && filled[p] < target; s++) {
      int member = preference.member(p, cursor[p]);
      if (!inSet(p, member)) {
        assignment[p * width + filled[p]++] = member;
      }
      cursor[p] = preference.next(cursor[p]);
    }
    if (filled[p] < target) {
      throw new IllegalStateException("no member left for partition " + p);
    }
  }

  private void advance(int p) {
    cursor[p] = preference.next(cursor[p]);
    steps[p]++;
  }

  private boolean inSet(int p, int member) {
    int base = p * width;
    for (int k = 0; k < filled[p]; k++) {
      if (assignment[base + k] == member) {
        return true;
      }
    }
    return false;
  }
}
