package io.keel.bench;

import io.keel.routing.Member;
import io.keel.routing.PartitionTable;
import io.keel.routing.PlacementConfig;
import io.keel.routing.PlacementMetrics;
import io.keel.routing.PlacementMetrics.Movement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Prints the placement balance and movement table of the README (markdown), averaged over
 * seeds: for each variant, partition count P, load factor eps and member count N, a random
 * member set of N {@code node-<random>} members, one join and one leave.
 *
 * <p>Arguments (all optional): {@code variants=RING_GREEDY,HRW_GREEDY partitions=128,271
 * eps=0,0.05 sizes=3,10,100 seeds=8 vnodes=64 replicas=3}.
 */
public final class PlacementReport {

  private PlacementReport() {
  }

  /**
   * Runs the report.
   *
   * @param args {@code key=value} arguments, see the class comment
   */
  public static void main(String[] args) {
    List<String> variants = List.of("RING_GREEDY");
    int[] partitions = {PlacementConfig.DEFAULT_PARTITIONS};
    double[] eps = {PlacementConfig.DEFAULT_LOAD_FACTOR};
    int[] sizes = {3, 5, 10, 20, 50, 100};
    int[] vnodes = {PlacementConfig.DEFAULT_VNODES};
    int seeds = 8;
    int replicas = PlacementConfig.DEFAULT_REPLICAS;
    for (String arg : args) {
      String[] kv = arg.split("=", 2);
      switch (kv[0]) {
        case "variants": variants = List.of(kv[1].split(",")); break;
        case "partitions": partitions = ints(kv[1]); break;
        case "eps": eps = Arrays.stream(kv[1].split(",")).mapToDouble(Double::parseDouble)
            .toArray(); break;
        case "sizes": sizes = ints(kv[1]); break;
        case "vnodes": vnodes = ints(kv[1]); break;
        case "seeds": seeds = Integer.parseInt(kv[1]); break;
        case "replicas": replicas = Integer.parseInt(kv[1]); break;
        default: throw new IllegalArgumentException("unknown argument " + arg);
      }
    }
    System.out.println("| variant | P | V | eps | N | primaries max/mean (avg / worst) "
        + "| replica slots max/mean | join: primaries moved / ideal (avg / worst) "
        + "| join: replica slots / ideal | leave: primaries / ideal | leave: replica slots "
        + "/ ideal | primaries moved between stayers per join+leave (avg / worst) |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (String variant : variants) {
      for (int p : partitions) {
        for (int v : vnodes) {
          for (double e : eps) {
            for (int n : sizes) {
              PlacementConfig config = new PlacementConfig(p, replicas, v, e);
              System.out.println(row(variant, config, n, seeds));
            }
          }
        }
      }
    }
  }

  private static String row(String variant, PlacementConfig config, int n, int seeds) {
    Stat balance = new Stat();
    Stat replicaBalance = new Stat();
    Stat joinP = new Stat();
    Stat joinR = new Stat();
    Stat leaveP = new Stat();
    Stat leaveR = new Stat();
    Stat stayers = new Stat();
    for (int seed = 1; seed <= seeds; seed++) {
      SplittableRandom random = new SplittableRandom(seed * 1_000_003L + n);
      List<Member> members = PlacementMetrics.randomMembers(random, n);
      PartitionTable base = PlacementMetrics.compute(members, config, variant);
      balance.add(PlacementMetrics.primaryBalance(base));
      replicaBalance.add(PlacementMetrics.replicaBalance(base));
      Member joiner = PlacementMetrics.newMember(random, members, 1);
      List<Member> joined = new ArrayList<>(members);
      joined.add(joiner);
      Movement join = PlacementMetrics.movement(base,
          PlacementMetrics.compute(joined, config, variant), joiner);
      joinP.add(join.primaryRatio());
      joinR.add(join.replicaRatio());
      Member leaver = members.get(random.nextInt(n));
      List<Member> left = new ArrayList<>(members);
      left.remove(leaver);
      if (!left.isEmpty()) {
        Movement leave = PlacementMetrics.movement(base,
            PlacementMetrics.compute(left, config, variant), leaver);
        leaveP.add(leave.primaryRatio());
        leaveR.add(leave.replicaRatio());
        stayers.add(join.primariesBetweenStayers() + leave.primariesBetweenStayers());
      }
    }
    return String.format(Locale.ROOT,
        "| %s | %d | %d | %.2f | %d | %.3f / %.3f | %.3f / %.3f | %.2f / %.2f | %.2f / %.2f "
            + "| %.2f / %.2f | %.2f / %.2f | %.1f / %.0f |",
        variant, config.partitions(), config.vnodes(), config.loadFactor(), n,
        balance.mean(), balance.max, replicaBalance.mean(), replicaBalance.max,
        joinP.mean(), joinP.max, joinR.mean(), joinR.max, leaveP.mean(), leaveP.max,
        leaveR.mean(), leaveR.max, stayers.mean(), stayers.max);
  }

  private static int[] ints(String csv) {
    return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
  }

  /** Running mean and maximum. */
  private static final class Stat {
    double sum;
    double max;
    int count;

    void add(double x) {
      sum += x;
      max = count == 0 ? x : Math.max(max, x);
      count++;
    }

    double mean() {
      return count == 0 ? Double.NaN : sum / count;
    }
  }
}
