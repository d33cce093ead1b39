package io.keel.status;

import io.keel.KeelOptions;
import io.keel.cluster.ClusterMember;
import io.keel.routing.PartitionTable;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Builds the {@code GET /status} document from a node's current state. */
final class StatusDocument {
  private StatusDocument() {}

  /**
   * Whether the node can serve: its log is replayed and its groups run (each local replica active
   * or catching up), it has an agreed table, and a data node is in it.
   */
  static boolean ready(String node, KeelOptions.Role role, PartitionTable table,
      JsonObject recovery) {
    String phase = recovery.getString("phase");
    if (table.epoch() <= 0 || !("active".equals(phase) || "catching-up".equals(phase)
        || "none".equals(phase))) {
      return false;
    }
    return role != KeelOptions.Role.DATA
        || table.members().stream().anyMatch(m -> m.name().equals(node));
  }

  /**
   * One partition this node holds or should hold: its place in the table ({@code primary},
   * {@code replica}, or {@code leaving} when the table no longer lists this node) and, on a data
   * node, its Raft replica's role, leader and phase ({@code pending} before the replica exists).
   */
  private static JsonObject partitionEntry(int p, int index, JsonObject replica) {
    JsonObject e = new JsonObject().put("partition", p)
        .put("role", index == 0 ? "primary" : index > 0 ? "replica" : "leaving");
    if (replica == null) {
      return e.put("phase", "pending");
    }
    return e.put("phase", replica.getString("phase")).put("raftRole", replica.getString("role"))
        .put("leader", replica.getString("leader")).put("term", replica.getInteger("term"))
        .put("applied", replica.getLong("applied"))
        .put("members", replica.getJsonArray("members"));
  }

  static JsonObject build(String node, KeelOptions options, List<ClusterMember> members,
      PartitionTable table, JsonObject recovery, JsonArray locks, long startedAtMs, long nowMs) {
    JsonArray memberArray = new JsonArray();
    for (ClusterMember m : members) {
      JsonObject j = m.toJson().put("self", m.name().equals(node));
      memberArray.add(j);
    }
    Map<Integer, JsonObject> held = new TreeMap<>();
    for (Object o : recovery.getJsonArray("partitions", new JsonArray())) {
      JsonObject r = (JsonObject) o;
      held.put(r.getInteger("partition"), r);
    }
    JsonArray partitions = new JsonArray();
    int primaries = 0;
    for (int p = 0; p < table.partitionCount(); p++) {
      List<String> replicas = table.replicas(p);
      int index = replicas.indexOf(node);
      JsonObject replica = held.remove(p);
      if (index >= 0 || replica != null) {
        primaries += index == 0 ? 1 : 0;
        partitions.add(partitionEntry(p, index, replica));
      }
    }
    for (Map.Entry<Integer, JsonObject> e : held.entrySet()) {
      partitions.add(partitionEntry(e.getKey(), -1, e.getValue()));
    }
    JsonObject ring = new JsonObject()
        .put("partitions", table.partitionCount())
        .put("replicas", table.config().replicas())
        .put("primaries", primariesArray(table));
    return new JsonObject()
        .put("node", node)
        .put("role", options.getRole().wire())
        .put("cluster", options.getClusterName())
        .put("ready", ready(node, options.getRole(), table, recovery))
        .put("uptimeMs", nowMs - startedAtMs)
        .put("members", memberArray)
        .put("epoch", table.epoch())
        .put("primaryCount", primaries)
        .put("partitions", partitions)
        .put("ring", ring)
        .put("recovery", withoutPartitions(recovery))
        .put("locks", locks);
  }

  /** The recovery part without its partitions, which the top level shows merged. */
  private static JsonObject withoutPartitions(JsonObject recovery) {
    JsonObject out = new JsonObject();
    recovery.forEach(e -> {
      if (!"partitions".equals(e.getKey())) {
        out.put(e.getKey(), e.getValue());
      }
    });
    return out;
  }

  /** The primary of each partition, by index: what the dashboard draws. */
  private static JsonArray primariesArray(PartitionTable table) {
    JsonArray a = new JsonArray();
    for (int p = 0; p < table.partitionCount(); p++) {
      a.add(table.primary(p));
    }
    return a;
  }
}
