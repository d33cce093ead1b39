package io.keel.bench;

import io.keel.routing.KeyHash;
import io.keel.routing.Member;
import io.keel.routing.PartitionTable;
import io.keel.routing.PlacementConfig;
import io.keel.routing.PlacementMetrics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

/**
 * Research harness (not production code): alternative stateless placements measured the same
 * way as {@link PlacementReport} (same member sets, joiner and leaver per seed).
 *
 * <p>Every scheme is a pure function of the sorted member list: preference costs come from
 * hashes of member names and partition numbers; assignment is either the greedy stable
 * matching of {@code HashRing} ("closest claims first") or an exact min-cost assignment with
 * member capacities (successive shortest paths on the member graph, starting from everyone at
 * its first choice and draining the excess). Costs carry 40+ random low bits, so the optimum
 * is unique with probability ~1 and does not depend on the processing order.
 *
 * <p>Arguments (optional): {@code schemes=A,B partitions=512,1024 sizes=10,20 seeds=8
 * timing=true}.
 */
public final class MovementResearch {

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  private static final long INF = Long.MAX_VALUE / 4;

  private MovementResearch() {
  }

  // ---------------------------------------------------------------- preferences

  /** A partition x member cost matrix plus each partition's order by cost. */
  static final class Prefs {
    final int parts;
    final int n;
    final long[][] cost; // cost[p][m], smaller is preferred, distinct per p
    final int[][] order; // order[p][rank] = member
    final int[][] rank; // rank[p][m]

    Prefs(long[][] cost) {
      this.cost = cost;
      this.parts = cost.length;
      this.n = cost[0].length;
      this.order = new int[parts][];
      this.rank = new int[parts][n];
      for (int p = 0; p < parts; p++) {
        long[] c = cost[p];
        Integer[] idx = new Integer[n];
        for (int m = 0; m < n; m++) {
          idx[m] = m;
        }
        Arrays.sort(idx, (a, b) -> c[a] != c[b] ? Long.compare(c[a], c[b]) : a - b);
        order[p] = new int[n];
        for (int r = 0; r < n; r++) {
          order[p][r] = idx[r];
          rank[p][idx[r]] = r;
        }
      }
    }

    /** The same order with other costs. */
    Prefs(Prefs base, long[][] cost) {
      this.cost = cost;
      this.parts = base.parts;
      this.n = base.n;
      this.order = base.order;
      this.rank = base.rank;
    }
  }

  static long partitionPoint(int p) {
    return mix64((p + 1L) * GOLDEN);
  }

  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** The ring of HashRing: sorted points (unsigned) and their owners. */
  static final class Ring {
    final long[] points;
    final int[] owners;

    Ring(List<Member> sorted, int vnodes) {
      int count = sorted.size() * vnodes;
      long[] keys = new long[count];
      int[] who = new int[count];
      int k = 0;
      for (int i = 0; i < sorted.size(); i++) {
        for (int v = 0; v < vnodes; v++) {
          keys[k] = KeyHash.hash64(sorted.get(i).name() + "#" + v);
          who[k++] = i;
        }
      }
      // sort by unsigned key, then owner: flip the sign bit and sort (key, owner) pairs
      long[][] pairs = new long[count][];
      for (int i = 0; i < count; i++) {
        pairs[i] = new long[] {keys[i] ^ Long.MIN_VALUE, who[i]};
      }
      Arrays.sort(pairs, (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0])
          : Long.compare(a[1], b[1]));
      points = new long[count];
      owners = new int[count];
      for (int i = 0; i < count; i++) {
        points[i] = pairs[i][0] ^ Long.MIN_VALUE;
        owners[i] = (int) pairs[i][1];
      }
    }

    int successor(long point) {
      int lo = 0;
      int hi = points.length;
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
  }

  /** Clockwise ring distance to each member's first point (>>> 8: positive, sums fit). */
  static Prefs ringPrefs(List<Member> sorted, int parts, int vnodes) {
    Ring ring = new Ring(sorted, vnodes);
    int n = sorted.size();
    long[][] cost = new long[parts][n];
    for (int p = 0; p < parts; p++) {
      long pp = partitionPoint(p);
      Arrays.fill(cost[p], -1);
      int seen = 0;
      int c = ring.successor(pp);
      for (int s = 0; s < ring.points.length && seen < n; s++) {
        int m = ring.owners[c];
        if (cost[p][m] < 0) {
          cost[p][m] = (ring.points[c] - pp) >>> 8;
          seen++;
        }
        c = c + 1 == ring.points.length ? 0 : c + 1;
      }
    }
    return new Prefs(cost);
  }

  /**
   * Random-jump walk (Chen et al.): attempt k looks at the ring successor of a hash-derived
   * point h(p, k) instead of the next ring point. Cost = k << 40 | (distance from h(p, k)) >>> 24
   * when {@code lex}, else the jump distance alone (>>> 8) for members first met at attempt k.
   */
  static Prefs jumpPrefs(List<Member> sorted, int parts, int vnodes, boolean lex) {
    Ring ring = new Ring(sorted, vnodes);
    int n = sorted.size();
    long[][] cost = new long[parts][n];
    for (int p = 0; p < parts; p++) {
      long pp = partitionPoint(p);
      Arrays.fill(cost[p], -1);
      int seen = 0;
      for (long k = 0; seen < n; k++) {
        long point = k == 0 ? pp : mix64(pp + k * 0xD1B54A32D192ED03L);
        int c = ring.successor(point);
        int m = ring.owners[c];
        if (cost[p][m] < 0) {
          long dist = ring.points[c] - point;
          // lex: attempt first; the seen counter (not k) keeps it small, ranks are what matter
          cost[p][m] = lex ? ((long) seen << 40) | (dist >>> 24) : (dist >>> 8) + seen;
          seen++;
        }
      }
    }
    return new Prefs(cost);
  }

  /** Rendezvous scores as in RendezvousPreference (weight 1): cost = ~score >>> 12. */
  static Prefs hrwPrefs(List<Member> sorted, int parts) {
    int n = sorted.size();
    long[] h = new long[n];
    for (int i = 0; i < n; i++) {
      h[i] = KeyHash.hash64(sorted.get(i).name() + "#0");
    }
    long[][] cost = new long[parts][n];
    for (int p = 0; p < parts; p++) {
      long pp = partitionPoint(p);
      for (int m = 0; m < n; m++) {
        cost[p][m] = (~mix64(h[m] ^ pp)) >>> 12;
      }
    }
    return new Prefs(cost);
  }

  /** Costs transformed; order kept. f(rank, cost) -> new cost. */
  static Prefs transform(Prefs base, BiFunction<Integer, Long, Long> f) {
    long[][] cost = new long[base.parts][base.n];
    for (int p = 0; p < base.parts; p++) {
      for (int m = 0; m < base.n; m++) {
        cost[p][m] = f.apply(base.rank[p][m], base.cost[p][m]);
      }
    }
    return new Prefs(base, cost);
  }

  // ---------------------------------------------------------------- bounds

  static int bound(double share, double eps) {
    double ceil = Math.ceil(share - 1e-9);
    double relaxed = Math.floor(share * (1.0 + eps) + 1e-9);
    return (int) Math.max(ceil, relaxed);
  }

  // ---------------------------------------------------------------- greedy stable matching

  /** HashRing's "closest claims first" over any preference, keyed by cost. */
  static int[] greedy(Prefs pr, int width, double eps) {
    int parts = pr.parts;
    int n = pr.n;
    int[] asg = new int[parts * width];
    Arrays.fill(asg, -1);
    int[] room = new int[n];
    Arrays.fill(room, bound((double) parts / n, eps));
    int[] filled = new int[parts];
    greedyPhase(pr, width, 1, room, asg, filled);
    if (width > 1) {
      int[] prim = new int[n];
      for (int p = 0; p < parts; p++) {
        prim[asg[p * width]]++;
      }
      int rb = Math.min(parts, bound((double) parts * width / n, eps));
      for (int m = 0; m < n; m++) {
        room[m] = Math.max(0, rb - prim[m]);
      }
      greedyPhase(pr, width, width, room, asg, filled);
    }
    return asg;
  }

  private static void greedyPhase(Prefs pr, int width, int target, int[] room, int[] asg,
      int[] filled) {
    int parts = pr.parts;
    int n = pr.n;
    int[] cursor = new int[parts];
    PriorityQueue<long[]> heap = new PriorityQueue<>(
        (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    for (int p = 0; p < parts; p++) {
      cursor[p] = 0;
      offer(pr, p, cursor, width, room, asg, filled, heap, target);
    }
    while (!heap.isEmpty()) {
      int p = (int) heap.poll()[1];
      int m = pr.order[p][cursor[p]];
      if (room[m] == 0) {
        cursor[p]++;
        offer(pr, p, cursor, width, room, asg, filled, heap, target);
        continue;
      }
      room[m]--;
      asg[p * width + filled[p]++] = m;
      if (filled[p] < target) {
        cursor[p]++;
        offer(pr, p, cursor, width, room, asg, filled, heap, target);
      }
    }
  }

  private static void offer(Prefs pr, int p, int[] cursor, int width, int[] room, int[] asg,
      int[] filled, PriorityQueue<long[]> heap, int target) {
    while (cursor[p] < pr.n) {
      int m = pr.order[p][cursor[p]];
      if (room[m] > 0 && !inSet(asg, p, width, filled[p], m)) {
        heap.add(new long[] {pr.cost[p][m], p});
        return;
      }
      cursor[p]++;
    }
    for (int r = 0; r < pr.n && filled[p] < target; r++) {
      int m = pr.order[p][r];
      if (!inSet(asg, p, width, filled[p], m)) {
        asg[p * width + filled[p]++] = m;
      }
    }
  }

  private static boolean inSet(int[] asg, int p, int width, int filled, int m) {
    for (int k = 0; k < filled; k++) {
      if (asg[p * width + k] == m) {
        return true;
      }
    }
    return false;
  }

  // ---------------------------------------------------------------- exact min-cost

  /**
   * Min-cost b-matching: each partition takes {@code need} members not in {@code fixed[p]},
   * member m at most room[m] of them, minimizing the summed cost. Starts from the cheapest
   * choices and drains the excess along shortest paths of the member graph (edge A->B: move
   * the partition with the smallest cost(p,B)-cost(p,A) from A to B), Bellman-Ford with
   * deterministic index order. Returns held[p][m].
   */
  static boolean[][] minCost(long[][] cost, int[][] order, boolean[][] fixed, int need,
      int[] room) {
    int parts = cost.length;
    int n = cost[0].length;
    boolean[][] held = new boolean[parts][n];
    int[] load = new int[n];
    for (int p = 0; p < parts; p++) {
      int got = 0;
      for (int r = 0; r < n && got < need; r++) {
        int m = order[p][r];
        if (!fixed[p][m]) {
          held[p][m] = true;
          load[m]++;
          got++;
        }
      }
    }
    long[][] w = new long[n][n];
    int[][] arg = new int[n][n];
    for (int a = 0; a < n; a++) {
      row(a, cost, held, fixed, w[a], arg[a]);
    }
    long[] dist = new long[n];
    int[] pred = new int[n];
    boolean[] dirty = new boolean[n];
    while (true) {
      boolean excess = false;
      for (int m = 0; m < n; m++) {
        if (load[m] > room[m]) {
          excess = true;
          break;
        }
      }
      if (!excess) {
        break;
      }
      for (int m = 0; m < n; m++) {
        dist[m] = load[m] > room[m] ? 0 : INF;
        pred[m] = -1;
      }
      for (int round = 0; round < n; round++) {
        boolean changed = false;
        for (int a = 0; a < n; a++) {
          if (dist[a] >= INF) {
            continue;
          }
          long da = dist[a];
          long[] wa = w[a];
          for (int b = 0; b < n; b++) {
            if (wa[b] < INF && da + wa[b] < dist[b]) {
              dist[b] = da + wa[b];
              pred[b] = a;
              changed = true;
            }
          }
        }
        if (!changed) {
          break;
        }
      }
      int t = -1;
      for (int m = 0; m < n; m++) {
        if (load[m] < room[m] && dist[m] < INF && (t < 0 || dist[m] < dist[t])) {
          t = m;
        }
      }
      if (t < 0) {
        break; // infeasible: leave the excess
      }
      Arrays.fill(dirty, false);
      int b = t;
      load[t]++;
      while (pred[b] >= 0) {
        int a = pred[b];
        int p = arg[a][b];
        held[p][a] = false;
        held[p][b] = true;
        for (int m = 0; m < n; m++) {
          if (held[p][m]) {
            dirty[m] = true;
          }
        }
        dirty[a] = true;
        b = a;
      }
      load[b]--;
      for (int m = 0; m < n; m++) {
        if (dirty[m]) {
          row(m, cost, held, fixed, w[m], arg[m]);
        }
      }
    }
    return held;
  }

  private static void row(int a, long[][] cost, boolean[][] held, boolean[][] fixed, long[] w,
      int[] arg) {
    int n = w.length;
    Arrays.fill(w, INF);
    for (int p = 0; p < cost.length; p++) {
      if (!held[p][a]) {
        continue;
      }
      long[] c = cost[p];
      boolean[] h = held[p];
      boolean[] f = fixed[p];
      long ca = c[a];
      for (int b = 0; b < n; b++) {
        if (!h[b] && !f[b]) {
          long d = c[b] - ca;
          if (d < w[b]) {
            w[b] = d;
            arg[b] = p;
          }
        }
      }
    }
  }

  /** Primaries by min-cost, then the other replicas by min-cost (replica order by cost). */
  static int[] minCostPlacement(Prefs pr, int width, double eps) {
    int parts = pr.parts;
    int n = pr.n;
    int[] room = new int[n];
    Arrays.fill(room, bound((double) parts / n, eps));
    boolean[][] none = new boolean[parts][n];
    boolean[][] prim = minCost(pr.cost, pr.order, none, 1, room);
    int[] asg = new int[parts * width];
    int[] pc = new int[n];
    for (int p = 0; p < parts; p++) {
      for (int m = 0; m < n; m++) {
        if (prim[p][m]) {
          asg[p * width] = m;
          pc[m]++;
        }
      }
    }
    if (width > 1) {
      int rb = Math.min(parts, bound((double) parts * width / n, eps));
      for (int m = 0; m < n; m++) {
        room[m] = Math.max(0, rb - pc[m]);
      }
      boolean[][] rep = minCost(pr.cost, pr.order, prim, width - 1, room);
      for (int p = 0; p < parts; p++) {
        int k = 1;
        for (int r = 0; r < n; r++) {
          int m = pr.order[p][r];
          if (rep[p][m]) {
            asg[p * width + k++] = m;
          }
        }
      }
    }
    return asg;
  }

  /**
   * Replica sets first (min-cost, R members each, replica bound), then primaries by min-cost
   * among each set's members (primary bound); a member outside the set costs a large penalty.
   */
  static int[] setsFirstPlacement(Prefs pr, int width, double eps) {
    int parts = pr.parts;
    int n = pr.n;
    int[] room = new int[n];
    Arrays.fill(room, Math.min(parts, bound((double) parts * width / n, eps)));
    boolean[][] none = new boolean[parts][n];
    boolean[][] sets = minCost(pr.cost, pr.order, none, width, room);
    long[][] pc = new long[parts][n];
    int[][] order = new int[parts][];
    for (int p = 0; p < parts; p++) {
      for (int m = 0; m < n; m++) {
        pc[p][m] = pr.cost[p][m] + (sets[p][m] ? 0 : INF / (4L * n));
      }
      final long[] c = pc[p];
      order[p] = Arrays.stream(pr.order[p]).boxed()
          .sorted(Comparator.comparingLong(m -> c[m])).mapToInt(Integer::intValue).toArray();
    }
    Arrays.fill(room, bound((double) parts / n, eps));
    boolean[][] prim = minCost(pc, order, none, 1, room);
    int[] asg = new int[parts * width];
    for (int p = 0; p < parts; p++) {
      int k = 1;
      int primary = -1;
      for (int m = 0; m < n; m++) {
        if (prim[p][m]) {
          primary = m;
        }
      }
      asg[p * width] = primary;
      for (int r = 0; r < n && k < width; r++) {
        int m = pr.order[p][r];
        if (sets[p][m] && m != primary) {
          asg[p * width + k++] = m;
        }
      }
      // primary outside the set (penalty paid): drop the set's last member
    }
    return asg;
  }

  /**
   * Replica sets first by the greedy stable matching (R members each, replica bound), then
   * primaries by the greedy stable matching over each partition's set members (cost order),
   * falling back to non-members only if the primary bound leaves no room in the set.
   */
  static int[] setsFirstGreedy(Prefs pr, int width, double eps) {
    int parts = pr.parts;
    int n = pr.n;
    int[] sets = new int[parts * width];
    Arrays.fill(sets, -1);
    int[] room = new int[n];
    Arrays.fill(room, Math.min(parts, bound((double) parts * width / n, eps)));
    greedyPhase(pr, width, width, room, sets, new int[parts]);
    long big = 1L << 60;
    long[][] pc = new long[parts][n];
    for (int p = 0; p < parts; p++) {
      for (int m = 0; m < n; m++) {
        pc[p][m] = (pr.cost[p][m] >>> 4) + big;
      }
      for (int k = 0; k < width; k++) {
        int m = sets[p * width + k];
        pc[p][m] -= big;
      }
    }
    Prefs pp = new Prefs(pc);
    int[] prim = new int[parts];
    Arrays.fill(prim, -1);
    Arrays.fill(room, bound((double) parts / n, eps));
    greedyPhase(pp, 1, 1, room, prim, new int[parts]);
    int[] asg = new int[parts * width];
    for (int p = 0; p < parts; p++) {
      asg[p * width] = prim[p];
      int k = 1;
      for (int r = 0; r < n && k < width; r++) {
        int m = pr.order[p][r];
        boolean in = false;
        for (int j = 0; j < width; j++) {
          in |= sets[p * width + j] == m;
        }
        if (in && m != prim[p]) {
          asg[p * width + k++] = m;
        }
      }
    }
    return asg;
  }

  /**
   * Floor estimate for "natural owner first" schemes: every partition's natural owner(s) are
   * its top choice(s); a member keeps its best min(X, cap) by its own cost and sheds the rest
   * (label ~shed). Moves counted are only the unavoidable ones (held owner changes).
   */
  static String[][] naturalFloor(List<Member> sorted, Prefs pr, int width, double eps) {
    int parts = pr.parts;
    int n = pr.n;
    String[][] out = new String[parts][width];
    for (int k = 0; k < Math.min(2, width); k++) {
      int cap = k == 0 ? bound((double) parts / n, eps)
          : Math.min(parts, bound((double) parts * width / n, eps));
      int slots = k == 0 ? 1 : width;
      List<List<long[]>> claims = new ArrayList<>();
      for (int m = 0; m < n; m++) {
        claims.add(new ArrayList<>());
      }
      for (int p = 0; p < parts; p++) {
        for (int r = (k == 0 ? 0 : 1); r < slots; r++) {
          int m = pr.order[p][r];
          claims.get(m).add(new long[] {pr.cost[p][m], p, r});
        }
      }
      for (int m = 0; m < n; m++) {
        List<long[]> c = claims.get(m);
        c.sort((a, b) -> Long.compare(a[0], b[0]));
        // replica phase: the member's primaries use up its cap first
        int used = 0;
        if (k > 0) {
          for (int p = 0; p < parts; p++) {
            if (sorted.get(m).name().equals(out[p][0])) {
              used++;
            }
          }
        }
        for (int i = 0; i < c.size(); i++) {
          int p = (int) c.get(i)[1];
          int r = (int) c.get(i)[2];
          out[p][r] = i + used < cap ? sorted.get(m).name() : "~shed" + r;
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- schemes

  interface Scheme {
    String[][] place(List<Member> sorted, PlacementConfig config);
  }

  static String[][] names(List<Member> sorted, int[] asg, int width) {
    int parts = asg.length / width;
    String[][] out = new String[parts][width];
    for (int p = 0; p < parts; p++) {
      for (int k = 0; k < width; k++) {
        out[p][k] = sorted.get(asg[p * width + k]).name();
      }
    }
    return out;
  }

  static Scheme production(String variant) {
    return (sorted, config) -> {
      PartitionTable t = PlacementMetrics.compute(sorted, config, variant);
      String[][] out = new String[t.partitionCount()][];
      for (int p = 0; p < out.length; p++) {
        out[p] = t.replicas(p).toArray(new String[0]);
      }
      return out;
    };
  }

  interface PrefFactory {
    Prefs make(List<Member> sorted, PlacementConfig c);
  }

  static Scheme greedyScheme(PrefFactory f) {
    return (sorted, c) -> {
      int width = Math.min(c.replicas(), sorted.size());
      return names(sorted, greedy(f.make(sorted, c), width, c.loadFactor()), width);
    };
  }

  static Scheme minCostScheme(PrefFactory f) {
    return (sorted, c) -> {
      int width = Math.min(c.replicas(), sorted.size());
      return names(sorted, minCostPlacement(f.make(sorted, c), width, c.loadFactor()), width);
    };
  }

  static Scheme setsFirstScheme(PrefFactory f) {
    return (sorted, c) -> {
      int width = Math.min(c.replicas(), sorted.size());
      return names(sorted, setsFirstPlacement(f.make(sorted, c), width, c.loadFactor()), width);
    };
  }

  static Scheme setsFirstGreedyScheme(PrefFactory f) {
    return (sorted, c) -> {
      int width = Math.min(c.replicas(), sorted.size());
      return names(sorted, setsFirstGreedy(f.make(sorted, c), width, c.loadFactor()), width);
    };
  }

  static Scheme floorScheme(PrefFactory f) {
    return (sorted, c) -> naturalFloor(sorted, f.make(sorted, c),
        Math.min(c.replicas(), sorted.size()), c.loadFactor());
  }

  static final PrefFactory RING = (s, c) -> ringPrefs(s, c.partitions(), c.vnodes());
  static final PrefFactory RING_RANK = (s, c) -> transform(RING.make(s, c),
      (r, x) -> ((long) r << 40) | (x >>> 16));
  static final PrefFactory RING_RANK2 = (s, c) -> transform(RING.make(s, c),
      (r, x) -> ((long) r * r << 40) | (x >>> 16));
  static final PrefFactory HRW = (s, c) -> hrwPrefs(s, c.partitions());
  static final PrefFactory HRW_RANK = (s, c) -> transform(HRW.make(s, c),
      (r, x) -> ((long) r << 40) | (x >>> 12));
  // exponential clocks: -ln(u) with u = 1 - cost/2^52 (deterministic via StrictMath)
  static final PrefFactory HRW_EXP = (s, c) -> transform(HRW.make(s, c),
      (r, x) -> (long) (-StrictMath.log1p(-(x + 0.5) / 4503599627370496.0) * (1L << 40)));
  static final PrefFactory JUMP_LEX = (s, c) -> jumpPrefs(s, c.partitions(), c.vnodes(), true);
  static final PrefFactory JUMP_DIST = (s, c) -> jumpPrefs(s, c.partitions(), c.vnodes(), false);

  static Map<String, Scheme> schemes() {
    Map<String, Scheme> s = new LinkedHashMap<>();
    s.put("PROD_RING_GREEDY", production("RING_GREEDY"));
    s.put("PROD_HRW_GREEDY", production("HRW_GREEDY"));
    s.put("G_RING", greedyScheme(RING));
    s.put("G_JUMP_LEX", greedyScheme(JUMP_LEX));
    s.put("G_JUMP_DIST", greedyScheme(JUMP_DIST));
    s.put("G_HRW_RANK", greedyScheme(HRW_RANK));
    s.put("MC_RING_DIST", minCostScheme(RING));
    s.put("MC_RING_RANK", minCostScheme(RING_RANK));
    s.put("MC_RING_RANK2", minCostScheme(RING_RANK2));
    s.put("MC_JUMP_LEX", minCostScheme(JUMP_LEX));
    s.put("MC_HRW_LIN", minCostScheme(HRW));
    s.put("MC_HRW_EXP", minCostScheme(HRW_EXP));
    s.put("MC_HRW_RANK", minCostScheme(HRW_RANK));
    s.put("SFG_RING", setsFirstGreedyScheme(RING));
    s.put("SFG_HRW", setsFirstGreedyScheme(HRW));
    s.put("FLOOR_HRW", floorScheme(HRW));
    s.put("FLOOR_RING", floorScheme(RING));
    s.put("PROD_RING_IN_ORDER", production("RING_IN_ORDER"));
    s.put("PROD_HRW_IN_ORDER", production("HRW_IN_ORDER"));
    s.put("SF_RING_DIST", setsFirstScheme(RING));
    s.put("SF_HRW_EXP", setsFirstScheme(HRW_EXP));
    s.put("SF_HRW_LIN", setsFirstScheme(HRW));
    return s;
  }

  // ---------------------------------------------------------------- metrics

  static double primaryBalance(String[][] t, int n) {
    Map<String, Integer> count = new LinkedHashMap<>();
    for (String[] set : t) {
      count.merge(set[0], 1, Integer::sum);
    }
    int max = count.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    return max / ((double) t.length / n);
  }

  static double replicaBalance(String[][] t, int n) {
    Map<String, Integer> count = new LinkedHashMap<>();
    for (String[] set : t) {
      for (String s : set) {
        count.merge(s, 1, Integer::sum);
      }
    }
    int max = count.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    return max / ((double) t.length * t[0].length / n);
  }

  /** {primaries moved, moved between stayers, replica slots new}. */
  static int[] movement(String[][] before, String[][] after, String changed) {
    int prim = 0;
    int stay = 0;
    int slots = 0;
    for (int p = 0; p < before.length; p++) {
      String a = before[p][0];
      String b = after[p][0];
      if (!a.equals(b)) {
        prim++;
        if (!a.equals(changed) && !b.equals(changed)) {
          stay++;
        }
      }
      List<String> old = Arrays.asList(before[p]);
      for (String r : after[p]) {
        if (!old.contains(r)) {
          slots++;
        }
      }
    }
    return new int[] {prim, stay, slots};
  }

  static final class Stat {
    double sum;
    double max = Double.NEGATIVE_INFINITY;
    int count;

    void add(double x) {
      sum += x;
      max = Math.max(max, x);
      count++;
    }

    double mean() {
      return sum / count;
    }
  }

  static List<Member> sort(List<Member> m) {
    List<Member> s = new ArrayList<>(m);
    s.sort(Comparator.comparing(Member::name));
    return s;
  }

  static String row(String name, Scheme scheme, PlacementConfig config, int n, int seeds) {
    Stat bal = new Stat();
    Stat rbal = new Stat();
    Stat jp = new Stat();
    Stat jr = new Stat();
    Stat lp = new Stat();
    Stat lr = new Stat();
    Stat st = new Stat();
    int parts = config.partitions();
    for (int seed = 1; seed <= seeds; seed++) {
      SplittableRandom random = new SplittableRandom(seed * 1_000_003L + n);
      List<Member> members = PlacementMetrics.randomMembers(random, n);
      String[][] base = scheme.place(sort(members), config);
      bal.add(primaryBalance(base, n));
      rbal.add(replicaBalance(base, n));
      Member joiner = PlacementMetrics.newMember(random, members, 1);
      List<Member> joined = new ArrayList<>(members);
      joined.add(joiner);
      String[][] after = scheme.place(sort(joined), config);
      int widthJ = Math.min(config.replicas(), n + 1);
      int[] j = movement(base, after, joiner.name());
      double idealJ = (double) parts / (n + 1);
      jp.add(j[0] / idealJ);
      jr.add(j[2] / (idealJ * widthJ));
      Member leaver = members.get(random.nextInt(n));
      List<Member> left = new ArrayList<>(members);
      left.remove(leaver);
      String[][] after2 = scheme.place(sort(left), config);
      int[] l = movement(base, after2, leaver.name());
      double idealL = (double) parts / n;
      lp.add(l[0] / idealL);
      lr.add(l[2] / (idealL * Math.min(config.replicas(), n)));
      st.add(j[1] + l[1]);
    }
    return String.format(Locale.ROOT,
        "| %s | %d | %d | %.3f / %.3f | %.3f / %.3f | %.2f / %.2f | %.2f / %.2f "
            + "| %.2f / %.2f | %.2f / %.2f | %.1f / %.0f |",
        name, parts, n, bal.mean(), bal.max, rbal.mean(), rbal.max, jp.mean(), jp.max,
        jr.mean(), jr.max, lp.mean(), lp.max, lr.mean(), lr.max, st.mean(), st.max);
  }

  static void timing(String name, Scheme scheme, PlacementConfig config, int n) {
    SplittableRandom random = new SplittableRandom(42);
    List<Member> members = sort(PlacementMetrics.randomMembers(random, n));
    for (int i = 0; i < 5; i++) {
      scheme.place(members, config);
    }
    int reps = 15;
    long[] t = new long[reps];
    for (int i = 0; i < reps; i++) {
      long s = System.nanoTime();
      scheme.place(members, config);
      t[i] = System.nanoTime() - s;
    }
    Arrays.sort(t);
    System.out.printf(Locale.ROOT, "| %s | %d | %d | %.1f ms | %.1f ms |%n", name,
        config.partitions(), n, t[reps / 2] / 1e6, t[0] / 1e6);
  }

  /**
   * Runs the research tables.
   *
   * @param args see the class comment
   */
  public static void main(String[] args) {
    Map<String, Scheme> all = schemes();
    List<String> names = new ArrayList<>(all.keySet());
    int[] partitions = {512, 1024};
    int[] sizes = {10, 20, 50, 100};
    int seeds = 8;
    boolean timing = false;
    for (String arg : args) {
      String[] kv = arg.split("=", 2);
      switch (kv[0]) {
        case "schemes": names = List.of(kv[1].split(",")); break;
        case "partitions": partitions = Arrays.stream(kv[1].split(","))
            .mapToInt(Integer::parseInt).toArray(); break;
        case "sizes": sizes = Arrays.stream(kv[1].split(","))
            .mapToInt(Integer::parseInt).toArray(); break;
        case "seeds": seeds = Integer.parseInt(kv[1]); break;
        case "timing": timing = Boolean.parseBoolean(kv[1]); break;
        default: throw new IllegalArgumentException("unknown argument " + arg);
      }
    }
    if (timing) {
      System.out.println("| scheme | P | N | median | min |");
      System.out.println("|---|---|---|---|---|");
      for (String name : names) {
        for (int p : partitions) {
          for (int n : sizes) {
            timing(name, all.get(name), new PlacementConfig(p, 3, 256, 0.05), n);
          }
        }
      }
      return;
    }
    System.out.println("| scheme | P | N | primaries max/mean (avg / worst) | replica slots "
        + "max/mean | join: primaries / ideal (avg / worst) | join: replica slots / ideal "
        + "| leave: primaries / ideal | leave: replica slots / ideal | primaries moved between "
        + "stayers per join+leave (avg / worst) |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|");
    for (String name : names) {
      for (int p : partitions) {
        for (int n : sizes) {
          System.out.println(row(name, all.get(name), new PlacementConfig(p, 3, 256, 0.05), n,
              seeds));
          System.out.flush();
        }
      }
    }
  }
}
