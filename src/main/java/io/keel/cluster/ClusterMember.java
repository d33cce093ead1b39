package io.keel.cluster;

import io.vertx.core.json.JsonObject;

/**
 * One member of the cluster as Keel sees it: its Vert.x node id and, for Keel nodes, the stable
 * name, role and weight it publishes in its node metadata. A member without Keel metadata (a
 * plain Vert.x node) has role {@code external}, its node id as name, and owns nothing.
 *
 * @param nodeId the Vert.x (Hazelcast member) id, new at every start
 * @param name the stable node name, the ring position's source
 * @param role {@code data}, {@code client} or {@code external}
 * @param weight the placement weight (1 for non-data members)
 * @param host the event-bus host the member announces
 */
public record ClusterMember(String nodeId, String name, String role, int weight, String host) {
  /** Role of a member that publishes no Keel metadata. */
  public static final String EXTERNAL = "external";

  /** Whether this member owns partitions. */
  public boolean isData() {
    return "data".equals(role);
  }

  /** The JSON form shown on {@code /status}. */
  public JsonObject toJson() {
    return new JsonObject().put("name", name).put("role", role).put("weight", weight)
        .put("nodeId", nodeId).put("host", host);
  }
}
