package io.keel.recovery;

import io.microraft.RaftEndpoint;

/**
 * A Raft group member: one replica of a group on a Keel node. Its id is the node's stable name
 * (never the random cluster node id, so that a restarted node is the same member), optionally
 * followed by {@code ~} and an incarnation: a replica that joins a group gets a fresh
 * incarnation, so that a replica once removed can never come back under its old identity with
 * its old Raft state (node names cannot contain {@code ~}).
 *
 * @param name the replica's id: {@code node} or {@code node~incarnation}
 */
public record NodeEndpoint(String name) implements RaftEndpoint {
  private static final char SEPARATOR = '~';

  /** Checks the name. */
  public NodeEndpoint {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("an endpoint needs a node name");
    }
  }

  /** The replica {@code incarnation} of node {@code node}. */
  public static NodeEndpoint of(String node, String incarnation) {
    return new NodeEndpoint(node + SEPARATOR + incarnation);
  }

  /** The name of the node this replica runs on. */
  public String node() {
    return nodeOf(name);
  }

  /** The node part of a replica id. */
  public static String nodeOf(String id) {
    int i = id.indexOf(SEPARATOR);
    return i < 0 ? id : id.substring(0, i);
  }

  @Override
  public Object getId() {
    return name;
  }

  @Override
  public String toString() {
    return name;
  }
}
