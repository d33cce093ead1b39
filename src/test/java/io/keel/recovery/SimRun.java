package io.keel.recovery;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** One randomized simulation run: a seed, faults while clients write, then heal and check. */
final class SimRun {

  /** Steps (tasks run) per seed unless {@code -Dkeel.sim.steps} says otherwise. */
  static final long DEFAULT_STEPS = 20_000;

  private SimRun() {
  }

  /**
   * MicroRaft logs every election and lost message, and logs duplicated or reordered responses
   * at ERROR ("Cannot decrement next index"); the simulation produces thousands of each.
   */
  static void quietRaftLogs() {
    ((Logger) LoggerFactory.getLogger("io.microraft")).setLevel(Level.OFF);
  }

  static long steps() {
    return Long.getLong("keel.sim.steps", DEFAULT_STEPS);
  }

  /**
   * Runs seed {@code seed} for {@code steps} steps and checks the end state.
   *
   * @return a one-line summary
   * @throws AssertionError naming the seed and how to rerun it alone
   */
  static String run(long seed, long steps) {
    return run(seed, steps, false);
  }

  /**
   * As {@link #run(long, long)}; with {@code lyingDisks}, every disk's flush makes nothing
   * durable (a broken fsync), which the checker must catch.
   */
  static String run(long seed, long steps, boolean lyingDisks) {
    return run(seed, steps, lyingDisks, false);
  }

  /**
   * As {@link #run(long, long, boolean)}; with {@code reconfigure}, a group of 3 among 5
   * processes changes its members under the faults ({@link SimReconfig}).
   */
  static String run(long seed, long steps, boolean lyingDisks, boolean reconfigure) {
    return run(seed, steps, lyingDisks, reconfigure, false);
  }

  /**
   * As {@link #run(long, long, boolean, boolean)}; with {@code rawVotingFlag}, restarted nodes
   * get MicroRaft's own voting flag rather than the one {@link RestoredVoting} derives.
   */
  static String run(long seed, long steps, boolean lyingDisks, boolean reconfigure,
      boolean rawVotingFlag) {
    return run(seed, steps, lyingDisks, reconfigure, rawVotingFlag, false);
  }

  /**
   * As {@link #run(long, long, boolean, boolean, boolean)}; with {@code evenVoterCounts}, the
   * membership changes follow {@link MembershipPlan} as is, through 4 voters (3, 4, 3), as they
   * did before {@link SimReconfig} learnt to avoid even voter counts; seeds found then replay
   * only so.
   */
  static String run(long seed, long steps, boolean lyingDisks, boolean reconfigure,
      boolean rawVotingFlag, boolean evenVoterCounts) {
    SimCluster cluster = reconfigure ? new SimCluster(seed, 3, 2, SimCluster.config())
        : new SimCluster(seed, (seed & 1) == 0 ? 3 : 5);
    cluster.rawVotingFlag = rawVotingFlag;
    SimReconfig reconfig = reconfigure ? new SimReconfig(cluster, cluster.random.split(), 3)
        : null;
    if (reconfig != null) {
      reconfig.allowEvenVoterCount = evenVoterCounts;
    }
    // Seeds found before CampaignGuard, DeadLeader and StaleTerm replay only without them.
    cluster.guardCampaigns = !evenVoterCounts;
    cluster.deadLeaderRemedy = !evenVoterCounts;
    cluster.network.staleTermRemedy = !evenVoterCounts;
    cluster.leaseReads = !evenVoterCounts; // leases rely on CampaignGuard
    // Early appends, as on nodes; -Dkeel.sim.earlyAppends=false holds them like every other
    // message, as nodes did before.
    cluster.earlyAppends = !"false".equals(System.getProperty("keel.sim.earlyAppends"))
        && !evenVoterCounts;
    // Quiet appends, as on nodes; -Dkeel.sim.quietAppends=false sends every empty append.
    cluster.quietAppends = !"false".equals(System.getProperty("keel.sim.quietAppends"))
        && !evenVoterCounts;
    for (SimNode node : cluster.nodes()) {
      node.disk.lyingFlush = lyingDisks;
      node.disk.reconcileVoting = !rawVotingFlag;
    }
    try {
      cluster.start();
      cluster.startClients(3);
      SimChaos chaos = new SimChaos(cluster, cluster.random.split(), 500);
      chaos.start();
      if (reconfig != null) {
        reconfig.start();
      }
      cluster.runSteps(steps);
      chaos.active = false;
      if (reconfig != null) {
        reconfig.moving = false;
        reconfig.active = !evenVoterCounts;
      }
      cluster.settleAndCheck();
      return cluster.summary()
          + (reconfig == null ? "" : " memberChanges=" + reconfig.changes + " wantedChanges="
              + reconfig.wantedChanges + " stuckReplaced=" + reconfig.stuckReplaced);
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("seed=" + seed + " failed (rerun alone with -Dkeel.sim.seed="
          + seed + "): " + e + "\n  at " + cluster.summary() + cluster.describe(), e);
    }
  }
}
