package io.keel.routing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Where a key lives under one partition table: the reply of {@code keel.ring.owner}.
 *
 * @param partition the key's partition
 * @param primary the primary's node name, null while no data member exists
 * @param replicas the replica set, primary first
 * @param epoch the table's epoch
 */
public record Owner(int partition, String primary, List<String> replicas, long epoch) {
  /** The owner of {@code key} in {@code table}. */
  public static Owner of(PartitionTable table, String key) {
    int p = table.partitionOf(key);
    return new Owner(p, table.primary(p), table.replicas(p), table.epoch());
  }

  /** The JSON form {@code {partition, primary, replicas, epoch}}. */
  public JsonObject toJson() {
    return new JsonObject().put("partition", partition).put("primary", primary)
        .put("replicas", new JsonArray(replicas)).put("epoch", epoch);
  }
}
