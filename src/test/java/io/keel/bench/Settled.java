package io.keel.bench;

import io.keel.harness.ProcessCluster;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Waits for a cluster to settle, read from each node's {@code /status} document: every
 * partition held by {@code replicas} nodes whose table lists them, each such replica
 * {@code active} with {@code replicas} members and a known leader; and, when asked, every
 * partition led by its table primary. Replicas a node holds but its table no longer lists
 * ({@code leaving}) do not count: {@link #leaving} counts them.
 */
final class Settled {
  private Settled() {}

  /** As {@link #await(Function, Collection, int, long, boolean)} on a process cluster. */
  static void await(ProcessCluster cluster, Collection<String> nodes, long settleS,
      boolean leaders) {
    await(n -> cluster.node(n).status(), nodes, 3, settleS, leaders);
  }

  /**
   * Waits up to {@code settleS}; throws {@code IllegalStateException} naming what was not
   * settled at the end.
   */
  static void await(Function<String, JsonObject> status, Collection<String> nodes, int replicas,
      long settleS, boolean leaders) {
    AtomicReference<String> why = new AtomicReference<>("no status read yet");
    try {
      Awaitility.await(leaders ? "groups led by their primaries" : "every replica active")
          .atMost(Duration.ofSeconds(settleS)).pollInterval(Duration.ofMillis(500))
          .ignoreExceptions().until(() -> {
            why.set(why(status, nodes, replicas, leaders));
            return why.get() == null;
          });
    } catch (ConditionTimeoutException e) {
      throw new IllegalStateException("the cluster did not settle within " + settleS + " s: "
          + why.get(), e);
    }
  }

  /** Why the cluster is not settled, or null when it is. */
  static String why(Function<String, JsonObject> status, Collection<String> nodes, int replicas,
      boolean leaders) {
    Map<Integer, Integer> holders = new HashMap<>();
    int partitions = -1;
    int notLed = 0;
    for (String n : nodes) {
      JsonObject s = status.apply(n);
      String phase = s.getJsonObject("recovery").getString("phase");
      if ("replaying".equals(phase) || "starting".equals(phase)) {
        return n + " is " + phase;
      }
      List<String> primaries = ProcessCluster.primaries(s);
      partitions = primaries.size();
      for (Object o : s.getJsonArray("partitions")) {
        JsonObject p = (JsonObject) o;
        if ("leaving".equals(p.getString("role"))) {
          continue;
        }
        JsonArray members = p.getJsonArray("members");
        if (!"active".equals(p.getString("phase")) || members.size() != replicas
            || p.getString("leader") == null) {
          return "on " + n + ": " + p.encode();
        }
        int partition = p.getInteger("partition");
        holders.merge(partition, 1, Integer::sum);
        if (!primaries.get(partition).equals(p.getString("leader"))) {
          notLed++;
        }
      }
    }
    for (int p = 0; p < partitions; p++) {
      int h = holders.getOrDefault(p, 0);
      if (h != replicas) {
        return "partition " + p + " has " + h + " of " + replicas + " replicas on " + nodes;
      }
    }
    return leaders && notLed > 0 ? notLed + " replica(s) see a leader other than the table"
        + " primary" : null;
  }

  /** The replicas in a {@code /status} document that its node's table no longer lists. */
  static List<JsonObject> leaving(JsonObject status) {
    return status.getJsonArray("partitions").stream().map(o -> (JsonObject) o)
        .filter(p -> "leaving".equals(p.getString("role"))).toList();
  }
}
