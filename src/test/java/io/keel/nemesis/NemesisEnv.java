package io.keel.nemesis;

import io.keel.harness.NetNemesis;
import io.keel.harness.ProcessCluster;
import io.keel.harness.SkewedClock;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

/**
 * What workloads and faults share during a run: the cluster (nodes on distinct loopback
 * addresses), the network nemesis, the history, and an HTTP client per node.
 */
final class NemesisEnv {
  /** How long a client waits for any answer before it counts the operation as unknown. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(8);

  final ProcessCluster cluster;
  final NetNemesis net;
  final List<String> nodes;
  final History history = new History();
  final Random random;

  NemesisEnv(ProcessCluster cluster, NetNemesis net, List<String> nodes, long seed) {
    this.cluster = cluster;
    this.net = net;
    this.nodes = List.copyOf(nodes);
    this.random = new Random(seed);
  }

  /** The file that node {@code name}'s lease clock reads its offset from. */
  Path clockFile(String name) {
    return clockFile(cluster, name);
  }

  /** The file that node {@code name} of {@code cluster} reads its lease clock offset from. */
  static Path clockFile(ProcessCluster cluster, String name) {
    return cluster.dataDir(name).resolveSibling(name + ".clock-offset");
  }

  /** Makes node {@code name}'s lease clock run {@code offsetMs} ahead (behind, if negative). */
  void skewClock(String name, long offsetMs) throws IOException {
    SkewedClock.write(clockFile(name), offsetMs);
  }

  /** A client of node {@code name}'s HTTP API. */
  NodeHttp http(String name) {
    return new NodeHttp(cluster.host(name), cluster.node(name).httpPort(), REQUEST_TIMEOUT);
  }

  /** The partition of {@code key}, from the first node that answers, or null if none does. */
  private Integer partitionOf(String key) {
    for (String n : nodes) {
      try {
        return http(n).get("/v1/ring/owner?key=" + key).body().getInteger("partition");
      } catch (IOException | RuntimeException e) {
        // that node does not answer: ask the next one
      }
    }
    return null;
  }

  /**
   * What every node says of the partition of {@code key}: its epoch and members, and its
   * replica's role, phase, term and leader; for the report of a stall.
   */
  String describe(String key) {
    StringBuilder b = new StringBuilder("partition of " + key + ":");
    Integer partition = partitionOf(key);
    for (String n : nodes) {
      b.append("\n  ").append(n).append(": ");
      try {
        JsonObject status = cluster.node(n).status();
        b.append("epoch ").append(status.getLong("epoch")).append(", members ")
            .append(ProcessCluster.dataMembers(status));
        for (Object o : status.getJsonArray("partitions")) {
          JsonObject p = (JsonObject) o;
          if (partition != null && p.getInteger("partition") == partition.intValue()) {
            b.append(", replica ").append(p.encode());
          }
        }
      } catch (RuntimeException e) {
        b.append("no status: ").append(e.getMessage());
      }
    }
    return b.toString();
  }

  /**
   * The node that leads the partition of lock or key {@code key}, as the nodes that answer
   * agree, or null if they do not agree (yet).
   */
  String leaderOf(String key) {
    String leader = null;
    Integer partition = partitionOf(key);
    if (partition == null) {
      return null;
    }
    for (String n : nodes) {
      JsonObject status;
      try {
        status = cluster.node(n).status();
      } catch (RuntimeException e) {
        continue;
      }
      for (Object o : status.getJsonArray("partitions")) {
        JsonObject p = (JsonObject) o;
        if (p.getInteger("partition") == partition.intValue()
            && "leader".equals(p.getString("raftRole"))) {
          if (leader != null && !leader.equals(n)) {
            return null;
          }
          leader = n;
        }
      }
    }
    return leader;
  }
}
