package io.keel.cluster;

import com.hazelcast.map.IMap;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Which cluster a node's data belongs to, so that two clusters' Raft groups never mix.
 *
 * <p>The first data node of a new cluster bootstraps it: it wins a put-if-absent of a fresh id on
 * one Hazelcast map entry and creates every partition's Raft group with itself as the only
 * member; every other node joins the groups when a group's leader invites it. Each node persists
 * the id in its data directory (the bootstrapper only once every group exists: until then a
 * pending mark makes a restarted bootstrapper finish the job). A node that restarts puts its persisted id back (the entry is
 * lost when the whole cluster stops), and refuses to start when the running cluster holds a
 * different id: its data belongs to another cluster, and joining would put two groups of one
 * partition side by side.
 *
 * <p>The one case this cannot tell apart: after a whole-cluster stop, a node with an empty data
 * directory that starts before every old node would bootstrap a new cluster; the old nodes then
 * refuse to start with a message that names both ids. Start old nodes first after a full stop.
 *
 * <p>Hazelcast calls block: call these on worker threads.
 */
public final class ClusterIdentity {
  static final String KEY = "cluster-id";

  /** What {@link #settle} decided. */
  public record Outcome(String clusterId, boolean bootstrap) {
  }

  private final IMap<String, String> map;

  private ClusterIdentity(IMap<String, String> map) {
    this.map = map;
  }

  /** The identity store of the cluster {@code manager} belongs to. */
  public static ClusterIdentity of(HazelcastClusterManager manager) {
    return new ClusterIdentity(manager.getHazelcastInstance().getMap(EpochRegistry.MAP));
  }

  /**
   * Settles the cluster id of a data node whose data directory holds {@code persisted} (null when
   * it never joined a cluster), persisting it in {@code dir}.
   *
   * @return the id, and whether this node bootstraps a new cluster
   * @throws IllegalArgumentException when the data belongs to another cluster than the running
   *     one (the node exits with the configuration error status)
   */
  public Outcome settle(DataDir dir, String persisted) {
    String pending = dir.readBootstrapPending();
    if (pending != null) {
      // This node won the bootstrap and stopped before every group existed: finish it.
      requireSame(dir, pending, map.putIfAbsent(KEY, pending));
      return new Outcome(pending, true);
    }
    if (persisted != null) {
      requireSame(dir, persisted, map.putIfAbsent(KEY, persisted));
      return new Outcome(persisted, false);
    }
    String fresh = newId();
    String running = map.putIfAbsent(KEY, fresh);
    if (running == null) {
      dir.writeBootstrapPending(fresh);
      return new Outcome(fresh, true);
    }
    dir.writeClusterId(running);
    return new Outcome(running, false);
  }

  /** Marks the bootstrap done once every group exists and is durable. */
  public static void finishBootstrap(DataDir dir, String clusterId) {
    dir.writeClusterId(clusterId);
    dir.clearBootstrapPending();
  }

  private static void requireSame(DataDir dir, String ours, String running) {
    if (running != null && !running.equals(ours)) {
      throw new IllegalArgumentException("data directory " + dir.path() + " belongs to cluster "
          + ours + ", but the running cluster is " + running + "; give this node an empty"
          + " data directory to join it as a new member");
    }
  }

  private static String newId() {
    byte[] random = new byte[8];
    new SecureRandom().nextBytes(random);
    return "keel-" + HexFormat.of().formatHex(random);
  }
}
