package io.keel.recovery;

import io.microraft.RaftEndpoint;

/**
 * A Raft group member: one replica of a group on a Keel node. Its id is the node's stable name
 * (never the random cluster node id, so that a restarted node is the same member), optionally
 * followed by {@code ~} and an incarnation: a replica that joins a group gets a fresh
 * incarnation, so that a replica once removed can never come back under its old identity with
 * its old Raft state (node names cannot contain {@code ~}).
 *
 * <p>Its node name is split off once: leader lookups ask for it on every request.
 */
public final class NodeEndpoint implements RaftEndpoint {
  private static final char SEPARATOR = '~';

  private final String name;
  private final String node;

  /**
   * The replica called {@code name}.
   *
   * @param name the replica's id: {@code node} or {@code node~incarnation}
   */
  public NodeEndpoint(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("an endpoint needs a node name");
    }
    this.name = name;
    this.node = nodeOf(name);
  }

  /** The replica {@code incarnation} of node {@code node}. */
  public static NodeEndpoint of(String node, String incarnation) {
    return new NodeEndpoint(node + SEPARATOR + incarnation);
  }

  /** The replica's id. */
  public String name() {
    return name;
  }

  /** The name of the node this replica runs on. */
  public String node() {
    return node;
  }

  /** The node part of a replica id. */
  public static String nodeOf(String id) {
    int i = id.indexOf(SEPARATOR);
    return i < 0 ? id : id.substring(0, i);
  }

  /** The node a Raft endpoint runs on. */
  public static String nodeOf(RaftEndpoint endpoint) {
    return endpoint instanceof NodeEndpoint e ? e.node : nodeOf(String.valueOf(endpoint.getId()));
  }

  @Override
  public Object getId() {
    return name;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NodeEndpoint e && e.name.equals(name);
  }

  @Override
  public int hashCode() {
    return name.hashCode();
  }

  @Override
  public String toString() {
    return name;
  }
}
