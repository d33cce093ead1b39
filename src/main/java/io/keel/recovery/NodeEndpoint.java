package io.keel.recovery;

import io.microraft.RaftEndpoint;

/**
 * A Raft group member: a Keel node, identified by its stable name (never by the random cluster
 * node id, so that a restarted node is the same member).
 *
 * @param name the node's stable name
 */
public record NodeEndpoint(String name) implements RaftEndpoint {
  /** Checks the name. */
  public NodeEndpoint {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("an endpoint needs a node name");
    }
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
