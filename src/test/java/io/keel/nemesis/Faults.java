package io.keel.nemesis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.awaitility.Awaitility;

/**
 * The nemeses: network partitions through iptables (nodes on distinct loopback addresses),
 * SIGSTOP pauses, {@code kill -9} crashes and lease clock jumps; the disk's are in
 * {@link DiskFaults}. Each is undone by its {@link Fault#undo}.
 */
final class Faults {
  private static final Duration LEADER_WAIT = Duration.ofSeconds(60);

  private Faults() {}

  /** The node leading the partition of {@code key}, waiting until the nodes agree on one. */
  private static String leader(NemesisEnv env, String key) {
    return Awaitility.await("the leader of " + key).atMost(LEADER_WAIT)
        .pollInterval(Duration.ofMillis(200)).until(() -> env.leaderOf(key), l -> l != null);
  }

  static String randomNode(NemesisEnv env) {
    return env.nodes.get(env.random.nextInt(env.nodes.size()));
  }

  /** A fault of the given name and actions, whose nodes may leave the cluster. */
  static Fault of(String name, Injector inject, Undoer undo) {
    return of(name, inject, undo, true);
  }

  private static Fault of(String name, Injector inject, Undoer undo, boolean endsMembership) {
    return new Fault() {
      @Override
      public boolean endsMembership() {
        return endsMembership;
      }

      @Override
      public String name() {
        return name;
      }

      @Override
      public List<String> inject(NemesisEnv env) throws Exception {
        return inject.inject(env);
      }

      @Override
      public void undo(NemesisEnv env) throws Exception {
        undo.undo(env);
      }
    };
  }

  @FunctionalInterface
  interface Injector {
    List<String> inject(NemesisEnv env) throws Exception;
  }

  @FunctionalInterface
  interface Undoer {
    void undo(NemesisEnv env) throws Exception;
  }

  /** Cuts the leader of {@code key}'s partition off from every other node. */
  static Fault isolateLeader(String key) {
    return of("isolate-leader", env -> {
      String leader = leader(env, key);
      env.net.isolate(leader);
      return List.of(leader);
    }, env -> env.net.heal());
  }

  /** A clean majority/minority split: one node, picked at random, against the others. */
  static Fault minority() {
    return of("split-minority", env -> {
      String node = randomNode(env);
      List<String> rest = new ArrayList<>(env.nodes);
      rest.remove(node);
      env.net.split(List.of(node), rest);
      return List.of(node);
    }, env -> env.net.heal());
  }

  /** A bridge: one node sees the two others, which do not see each other. */
  static Fault bridge() {
    return of("bridge", env -> {
      List<String> order = new ArrayList<>(env.nodes);
      Collections.shuffle(order, env.random);
      env.net.bridge(order.get(0), order.get(1), order.get(2));
      return List.of(order.get(1), order.get(2));
    }, env -> env.net.heal());
  }

  /** Flapping: a random node cut off and healed again every {@code period}, until undone. */
  static Fault flapping(Duration period) {
    AtomicBoolean on = new AtomicBoolean();
    Thread[] flapper = new Thread[1];
    return of("flapping", env -> {
      on.set(true);
      flapper[0] = new Thread(() -> {
        boolean cut = false;
        while (on.get()) {
          if (cut) {
            env.net.heal();
          } else {
            env.net.isolate(randomNode(env));
          }
          cut = !cut;
          LockSupport.parkNanos(period.toNanos());
        }
      }, "flapping");
      flapper[0].setDaemon(true);
      flapper[0].start();
      return env.nodes;
    }, env -> {
      on.set(false);
      flapper[0].join();
      env.net.heal();
    });
  }

  /** SIGSTOP of the leader of {@code key}'s partition, SIGCONT when undone. */
  static Fault pauseLeader(String key) {
    String[] paused = new String[1];
    return of("pause-leader", env -> {
      paused[0] = leader(env, key);
      env.cluster.node(paused[0]).pause();
      return List.of(paused[0]);
    }, env -> env.cluster.node(paused[0]).resume());
  }

  /** {@code kill -9} of a random node, restarted (same data directory) when undone. */
  static Fault crash() {
    String[] killed = new String[1];
    return of("crash", env -> {
      killed[0] = randomNode(env);
      env.cluster.node(killed[0]).kill9();
      return List.of(killed[0]);
    }, env -> env.cluster.node(killed[0]).restart());
  }

  /** {@code kill -9} of every node at once, all restarted when undone. */
  static Fault crashAll() {
    return of("crash-all", env -> {
      for (String n : env.nodes) {
        env.cluster.node(n).kill9();
      }
      return env.nodes;
    }, env -> {
      for (String n : env.nodes) {
        env.cluster.node(n).start();
      }
      for (String n : env.nodes) {
        env.cluster.node(n).awaitReady();
      }
    });
  }

  /**
   * The lease clock of the leader of {@code key}'s partition jumps {@code jumpMs} ahead, and
   * back when undone (a lease clock never runs backwards in the lock table: its time stands
   * still until the clock catches up).
   */
  static Fault clockJump(String name, String key, long jumpMs) {
    String[] skewed = new String[1];
    return of(name, env -> {
      skewed[0] = leader(env, key);
      env.skewClock(skewed[0], jumpMs);
      return List.of(skewed[0]);
    }, env -> env.skewClock(skewed[0], 0), false);
  }

  /** Every nemesis but the clock's, for the full suite. */
  static List<Fault> all(String key) {
    return List.of(isolateLeader(key), minority(), bridge(), flapping(Duration.ofMillis(1_500)),
        pauseLeader(key), crash(), crashAll(), DiskFaults.tornTail(), DiskFaults.corruptLog());
  }
}
