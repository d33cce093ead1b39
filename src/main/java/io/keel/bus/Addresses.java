package io.keel.bus;

/**
 * Every event-bus address Keel uses. Public addresses follow {@code keel.<capability>.<verb>}; the
 * {@code __vertx.} prefix is core's and never used here.
 */
public final class Addresses {
  /** {@code {key}} → {@code {partition, primary, replicas, epoch}}; answered by every node. */
  public static final String RING_OWNER = "keel.ring.owner";
  /** {@code {}} → the {@code GET /status} document of the node that answers. */
  public static final String STATUS = "keel.status";
  /**
   * {@code {key, delta?, requestId?, timeoutMs?}} → {@code {key, value, index}}: adds to a
   * replicated counter (delta 1 by default); answered by every node.
   */
  public static final String COUNTER_ADD = "keel.counter.add";
  /** {@code {key, stale?}} → {@code {key, value}}: reads a replicated counter. */
  public static final String COUNTER_GET = "keel.counter.get";
  /**
   * {@code {name, leaseMs?, waitMs?, holder?, requestId?, node?}} → {@code {name, token, holder,
   * leaseMs}}: acquires a fenced lock, waiting up to {@code waitMs} (0 by default); when
   * {@code node} names a cluster member, the grant ends as soon as that member leaves.
   */
  public static final String LOCK_ACQUIRE = "keel.lock.acquire";
  /** {@code {name, token, leaseMs?}} → {@code {name, token, leaseMs}}: renews the lease. */
  public static final String LOCK_RENEW = "keel.lock.renew";
  /** {@code {name, token}} → {@code {name, released: true}}: releases the lock. */
  public static final String LOCK_RELEASE = "keel.lock.release";
  /**
   * {@code {name}} → {@code {name, held, token?, holder?, leaseLeftMs?, waiters, lastToken}}.
   */
  public static final String LOCK_INFO = "keel.lock.info";
  /**
   * {@code {map, key, value, expectVersion?, fence?: {lock, token}, requestId?, timeoutMs?}} →
   * {@code {version}}: sets a key of a replicated map (expectVersion 0: only if absent).
   */
  public static final String MAP_PUT = "keel.map.put";
  /** {@code {map, key, stale?, timeoutMs?}} → {@code {found, value?, version?}}. */
  public static final String MAP_GET = "keel.map.get";
  /**
   * {@code {map, key, expectVersion?, fence?, requestId?, timeoutMs?}} → {@code {deleted,
   * version}}: removes a key (deleted false when it was absent).
   */
  public static final String MAP_DELETE = "keel.map.delete";
  /** Node-local: cluster events (JSON with a {@code type}) for the status feed. */
  public static final String EVENTS = "keel.local.events";

  private static final String SHARD_PREFIX = "keel.shard.";
  private static final String MEMBER_PROBE_PREFIX = "keel.member.probe.";
  private static final String ROUTED_BATCH_PREFIX = "keel.routed.batch.";
  private static final String ROUTED_ANSWERS_PREFIX = "keel.routed.answers.";

  private Addresses() {}

  /** Where the node {@code nodeName} serves the sharded service {@code service}. */
  public static String shard(String service, String nodeName) {
    return SHARD_PREFIX + service + "." + nodeName;
  }

  /**
   * Where the node {@code nodeName} takes batches of requests for its replicated services
   * ({@code {answers, items: [{id, service, key, epoch, body}]}}): node to node, not a public
   * contract.
   */
  public static String routedBatch(String nodeName) {
    return ROUTED_BATCH_PREFIX + nodeName;
  }

  /**
   * Where one routing instance ({@code instance}: random, fresh at each start) hears the
   * answers of its batched requests that came after the batch's reply.
   */
  public static String routedAnswers(String instance) {
    return ROUTED_ANSWERS_PREFIX + instance;
  }

  /**
   * {@code {}} → {@code {nodeId}}: answered by the member whose Vert.x node id is
   * {@code nodeId}. Other members place it only once it has answered over the event bus.
   */
  public static String memberProbe(String nodeId) {
    return MEMBER_PROBE_PREFIX + nodeId;
  }

  /** Where one node answers status requests addressed to it by name. */
  public static String status(String nodeName) {
    return STATUS + "." + nodeName;
  }
}
