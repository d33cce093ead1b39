package io.keel.status;

import io.keel.KeelOptions;
import io.keel.cluster.ClusterMember;
import io.keel.routing.PartitionTable;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** Builds the {@code GET /status} document from a node's current state. */
final class StatusDocument {
  private StatusDocument() {}

  /**
   * Whether the node can serve: its log is replayed, it has an agreed table, and a data node is
   * in it.
   */
  static boolean ready(String node, KeelOptions.Role role, PartitionTable table,
      JsonObject recovery) {
    String phase = recovery.getString("phase");
    if (table.epoch() <= 0 || !("active".equals(phase) || "none".equals(phase))) {
      return false;
    }
    return role != KeelOptions.Role.DATA
        || table.members().stream().anyMatch(m -> m.name().equals(node));
  }

  static JsonObject build(String node, KeelOptions options, List<ClusterMember> members,
      PartitionTable table, JsonObject recovery, long startedAtMs, long nowMs) {
    JsonArray memberArray = new JsonArray();
    for (ClusterMember m : members) {
      JsonObject j = m.toJson().put("self", m.name().equals(node));
      memberArray.add(j);
    }
    JsonArray partitions = new JsonArray();
    int primaries = 0;
    for (int p = 0; p < table.partitionCount(); p++) {
      List<String> replicas = table.replicas(p);
      int index = replicas.indexOf(node);
      if (index >= 0) {
        primaries += index == 0 ? 1 : 0;
        partitions.add(new JsonObject().put("partition", p)
            .put("role", index == 0 ? "primary" : "replica").put("phase", "active"));
      }
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
        .put("recovery", recovery)
        .put("locks", new JsonArray());
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
