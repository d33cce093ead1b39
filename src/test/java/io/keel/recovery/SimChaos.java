package io.keel.recovery;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Injects faults into a {@link SimCluster} at seeded random moments: crashes (losing a random
 * part of the unsynced writes, sometimes tearing the last), restarts, symmetric partitions,
 * one-way link cuts, healing, and changes of the drop and duplicate rates.
 */
final class SimChaos {

  private final SimCluster cluster;
  private final SplittableRandom random;
  private final int periodMsMax;
  boolean active = true;

  SimChaos(SimCluster cluster, SplittableRandom random, int periodMsMax) {
    this.cluster = cluster;
    this.random = random;
    this.periodMsMax = periodMsMax;
  }

  void start() {
    cluster.queue.schedule(random.nextInt(periodMsMax), this::tick);
  }

  private void tick() {
    if (!active) {
      return;
    }
    act();
    cluster.queue.schedule(1 + random.nextInt(periodMsMax), this::tick);
  }

  private void act() {
    List<SimNode> up = cluster.upNodes();
    List<SimNode> down = cluster.downNodes();
    int n = up.size() + down.size();
    int roll = random.nextInt(100);
    if (roll < 25) {
      boolean minority = down.size() < (n - 1) / 2;
      boolean majority = down.size() < n - 1 && random.nextInt(5) == 0;
      if (minority || majority) {
        SimNode victim = up.get(random.nextInt(up.size()));
        cluster.crash(victim.name, random.nextBoolean(), random.nextBoolean());
      }
    } else if (roll < 50) {
      if (!down.isEmpty()) {
        cluster.restart(down.get(random.nextInt(down.size())).name);
      }
    } else if (roll < 62) {
      List<String> side = new ArrayList<>();
      for (SimNode node : cluster.nodes()) {
        if (random.nextBoolean()) {
          side.add(node.name);
        }
      }
      cluster.network.healAll();
      cluster.partition(side);
    } else if (roll < 70) {
      List<SimNode> all = cluster.nodes();
      SimNode a = all.get(random.nextInt(all.size()));
      SimNode b = all.get(random.nextInt(all.size()));
      cluster.network.cut(a.name, b.name);
    } else if (roll < 85) {
      cluster.network.healAll();
    } else {
      double[] rates = {0, 0, 0.01, 0.05, 0.2};
      cluster.network.dropRate = rates[random.nextInt(rates.length)];
      cluster.network.duplicateRate = rates[random.nextInt(rates.length)];
    }
  }
}
