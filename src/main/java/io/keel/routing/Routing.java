package io.keel.routing;

import io.keel.KeelOptions;
import io.keel.bus.Addresses;
import io.keel.bus.BinaryJsonCodec;
import io.keel.bus.Failure;
import io.keel.cluster.ClusterMember;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Keel's routing API for sharded services: register a handler under a service name, and
 * {@link #request} reaches it on the primary of the key's partition from any node, client-role
 * nodes included.
 *
 * <p>A node that is not the primary of the key's partition under its own table, or whose table
 * is older than the sender's, answers {@code NOT_OWNER}; the sender waits briefly for its table to
 * catch up and retries, within {@link KeelOptions#getRouteAttemptsMax()} attempts and
 * {@link KeelOptions#getRouteTimeoutMs()}. Handlers must therefore be idempotent.
 */
public final class Routing {
  private static final String SERVICE_PATTERN = "[A-Za-z0-9][A-Za-z0-9_.-]{0,63}";
  private static final int KEY_LENGTH_MAX = 4096;
  private static final long BACKOFF_MS_MIN = 10;
  private static final long BACKOFF_MS_MAX = 250;
  private static final int IMMEDIATE_REDIRECTS = 3;
  private static final long ATTEMPT_MS_MIN = 100;
  // A request larger than this (about) goes in a message of its own, not in a batch.
  private static final int BATCHED_BYTES_MAX = 64 * 1024;

  private final Vertx vertx;
  private final RoutingVerticle verticle;
  private final KeelOptions options;
  private final Map<String, Served> services = new ConcurrentHashMap<>();
  // The leader each partition's group last named or answered from (replicated services).
  private final Map<Integer, String> leaders = new ConcurrentHashMap<>();
  private final RoutedBatches batches;
  private final RoutedBatchServer batchServer;
  // Guarded by this: the consumer of batches, while a replicated service is served here.
  private MessageConsumer<JsonObject> batchConsumer;
  private volatile boolean batching;

  /** A service served here: its consumer, its handler, and whether it is replicated. */
  private record Served(MessageConsumer<JsonObject> consumer, ShardHandler handler,
      boolean byLeader) {}

  /** The routing API over a deployed routing verticle. */
  public Routing(Vertx vertx, RoutingVerticle verticle, KeelOptions options) {
    this.vertx = vertx;
    this.verticle = verticle;
    this.options = options;
    this.batching = options.isRouteBatching();
    // Batches and their answers travel in binary form: every node registers the codec.
    BinaryJsonCodec.register(vertx.eventBus());
    this.batches = new RoutedBatches(vertx, vertx.getOrCreateContext());
    this.batchServer = new RoutedBatchServer(vertx, this::serveBatched);
  }

  /** Starts hearing the late answers of batched requests ({@link #useBatching}). */
  public Future<Void> start() {
    return batches.start();
  }

  /** Stops hearing them; requests still waiting for one fail now, with a timeout. */
  public Future<Void> stop() {
    return batches.stop();
  }

  /**
   * Whether requests to replicated services ({@link #requestLeader}) made in one turn of an
   * event loop for one node leave as one event-bus message (the default,
   * {@link KeelOptions#isRouteBatching()}), or one message each. Nodes serve both either way.
   */
  public void useBatching(boolean use) {
    this.batching = use;
  }

  /** This node's current partition table. */
  public PartitionTable table() {
    return verticle.table();
  }

  /**
   * Whether this node's table is the cluster's newest: while another node's list of members
   * gives a newer one, this node's leaders take no membership steps.
   */
  public boolean tableCurrent() {
    return verticle.tableCurrent();
  }

  /** The cluster's members as this node sees them, sorted by name. */
  public List<ClusterMember> members() {
    return verticle.members();
  }

  /** This node's name. */
  public String nodeName() {
    return verticle.nodeName();
  }

  /** Where {@code key} lives under this node's current table. */
  public Owner owner(String key) {
    return Owner.of(verticle.table(), key);
  }

  /**
   * Calls {@code listener} with this node's ownership change at every new table, in order; the
   * next table's change waits for the returned future.
   */
  public void onOwnershipChange(Function<OwnershipChange, Future<Void>> listener) {
    verticle.addOwnershipListener(listener);
  }

  /**
   * Serves {@code service} on this node for the keys whose primary it is. The handler runs on
   * the caller's context. Only data nodes can serve: client nodes own no partitions.
   */
  public Future<Void> register(String service, ShardHandler handler) {
    return register(service, handler, false);
  }

  /**
   * Serves a replicated {@code service} on this node: requests ({@link #requestLeader}) reach it
   * on the node that leads the key's partition group, and the handler itself answers
   * {@code NOT_OWNER} when this node does not lead it, naming the leader it knows
   * ({@link Failure#notLeader}), so that the sender goes there next.
   */
  public Future<Void> registerLeader(String service, ShardHandler handler) {
    return register(service, handler, true);
  }

  private Future<Void> register(String service, ShardHandler handler, boolean byLeader) {
    if (!isServiceName(service)) {
      return Future.failedFuture(new IllegalArgumentException("service name must match "
          + SERVICE_PATTERN + ", was " + service));
    }
    if (options.getRole() != KeelOptions.Role.DATA) {
      return Future.failedFuture(new IllegalStateException(
          "node " + nodeName() + " has role " + options.getRole().wire() + " and owns no keys"));
    }
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(
        Addresses.shard(service, nodeName()), msg -> serve(service, handler, msg, byLeader));
    if (services.putIfAbsent(service, new Served(consumer, handler, byLeader)) != null) {
      consumer.unregister();
      return Future.failedFuture(new IllegalStateException(
          "service " + service + " is already registered on node " + nodeName()));
    }
    return byLeader ? Future.all(consumer.completion(), batchConsumer()).mapEmpty()
        : consumer.completion();
  }

  /** Takes batches from now on, if not yet; completes once other nodes can send them. */
  private synchronized Future<Void> batchConsumer() {
    if (batchConsumer == null) {
      batchConsumer = vertx.eventBus().consumer(Addresses.routedBatch(nodeName()),
          batchServer::handle);
    }
    return batchConsumer.completion();
  }

  /** Stops serving {@code service} on this node. */
  public Future<Void> unregister(String service) {
    Served s = services.remove(service);
    if (s == null) {
      return Future.succeededFuture();
    }
    MessageConsumer<JsonObject> batchesGone = null;
    synchronized (this) {
      if (batchConsumer != null && services.values().stream().noneMatch(Served::byLeader)) {
        batchesGone = batchConsumer;
        batchConsumer = null;
      }
    }
    return batchesGone == null ? s.consumer().unregister()
        : Future.join(s.consumer().unregister(), batchesGone.unregister()).mapEmpty();
  }

  /** Sends {@code body} to {@code service} on the primary of {@code key}. */
  public Future<JsonObject> request(String service, String key, JsonObject body) {
    return request(service, key, body, options.getRouteTimeoutMs());
  }

  /**
   * As {@link #request(String, String, JsonObject)}, with a time budget of its own (for handlers
   * that may wait, such as a lock acquire).
   */
  public Future<JsonObject> request(String service, String key, JsonObject body,
      long timeoutMs) {
    return start(service, key, body, timeoutMs, false);
  }

  /**
   * Sends {@code body} to the replicated {@code service} ({@link #registerLeader}) on the leader
   * of {@code key}'s partition group, from any node: first to the leader last seen (else the
   * table's primary), following the leader a refusing node names. When no attempt found the
   * leader, the answer is {@code UNAVAILABLE}: the partition has none the caller could reach.
   */
  public Future<JsonObject> requestLeader(String service, String key, JsonObject body,
      long timeoutMs) {
    return start(service, key, body, timeoutMs, true).recover(last -> Future.failedFuture(
        Failure.NOT_OWNER.is(last) ? Failure.UNAVAILABLE.exception("no leader of the partition"
            + " of key " + key + " answered: " + last.getMessage()) : last));
  }

  private Future<JsonObject> start(String service, String key, JsonObject body, long timeoutMs,
      boolean byLeader) {
    if (!isServiceName(service)) {
      return Future.failedFuture(Failure.BAD_REQUEST.exception(
          "service name must match " + SERVICE_PATTERN + ", was " + service));
    }
    if (key == null || key.isEmpty() || key.length() > KEY_LENGTH_MAX) {
      return Future.failedFuture(Failure.BAD_REQUEST.exception(
          "key must be a string of 1.." + KEY_LENGTH_MAX + " characters"));
    }
    if (timeoutMs < 1) {
      return Future.failedFuture(Failure.BAD_REQUEST.exception(
          "timeoutMs must be positive, was " + timeoutMs));
    }
    long deadline = System.currentTimeMillis() + timeoutMs;
    return attempt(service, key, body == null ? new JsonObject() : body, 1, deadline, byLeader);
  }

  /**
   * Whether {@code s} matches {@link #SERVICE_PATTERN}; checked by hand, as every routed
   * request checks its service's name (a regular expression was 2% of a client's CPU).
   */
  static boolean isServiceName(String s) {
    if (s == null || s.isEmpty() || s.length() > 64) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || (i > 0 && (c == '_' || c == '.' || c == '-'));
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private Future<JsonObject> attempt(String service, String key, JsonObject body, int n,
      long deadline, boolean byLeader) {
    PartitionTable t = verticle.table();
    int p = t.partitionOf(key);
    String primary = t.primary(p);
    String target = byLeader ? leaderTarget(t, p, n) : primary;
    long remaining = deadline - System.currentTimeMillis();
    if (target == null) {
      return retry(service, key, body, n, deadline, byLeader, Failure.UNAVAILABLE.exception(
          "no data member owns partition " + p + " at epoch " + t.epoch()));
    }
    JsonObject msg = new JsonObject().put("key", key).put("epoch", t.epoch()).put("body", body);
    long timeout = Math.max(1, remaining);
    int bytes = byLeader && batching ? roughBytes(body) : Integer.MAX_VALUE;
    Future<JsonObject> sent = bytes <= BATCHED_BYTES_MAX
        ? batches.request(target, service, msg, bytes, timeout)
        : vertx.eventBus().<JsonObject>request(Addresses.shard(service, target), msg,
            new DeliveryOptions().setSendTimeout(timeout)).map(Message::body);
    return sent
        .map(reply -> {
          // Written only when it changes: a put locks the entry's bin on every answer.
          if (byLeader && !target.equals(leaders.get(p))) {
            leaders.put(p, target);
          }
          return reply;
        })
        .recover(err -> {
          Throwable cause = explain(err, service, target);
          if (byLeader) {
            String named = Failure.namedLeader(cause);
            if (named != null && !named.equals(target)) {
              leaders.put(p, named);
              // A redirect to a named leader goes at once, without backing off; after two,
              // the nodes are handing leadership over and disagree for a moment (each names
              // the other), so the next ones back off like any other retry.
              if (n < IMMEDIATE_REDIRECTS) {
                return attempt(service, key, body, n + 1, deadline, true);
              }
            }
            leaders.remove(p, target);
          }
          return retry(service, key, body, n, deadline, byLeader, cause);
        });
  }

  /**
   * Where attempt {@code n} for the leader of partition {@code p} goes: the leader last seen or
   * named; without one, the table's replicas in turn, from the primary on. A replica that does
   * not lead names the leader it knows, so that a dead or unreachable primary (the table lags
   * the failure detector) costs one attempt, not all of them.
   */
  private String leaderTarget(PartitionTable t, int p, int n) {
    String known = leaders.get(p);
    if (known != null) {
      return known;
    }
    List<String> replicas = t.replicas(p);
    return replicas.isEmpty() ? null : replicas.get((n - 1) % replicas.size());
  }

  private Future<JsonObject> retry(String service, String key, JsonObject body, int n,
      long deadline, boolean byLeader, Throwable cause) {
    long backoff = Math.min(BACKOFF_MS_MAX, BACKOFF_MS_MIN << Math.min(n - 1, 10));
    boolean retryable = Failure.NOT_OWNER.is(cause) || Failure.UNAVAILABLE.is(cause);
    // An attempt left with less than ATTEMPT_MS_MIN would end in a timeout that hides the
    // cause already known: report the cause instead.
    if (!retryable || n >= options.getRouteAttemptsMax()
        || System.currentTimeMillis() + backoff + ATTEMPT_MS_MIN >= deadline) {
      return Future.failedFuture(cause);
    }
    Promise<Void> wait = Promise.promise();
    vertx.setTimer(backoff, id -> wait.complete());
    return wait.future().compose(v -> attempt(service, key, body, n + 1, deadline, byLeader));
  }

  /** Turns event-bus failures into Keel failures naming the service and node. */
  private static Throwable explain(Throwable err, String service, String node) {
    if (!(err instanceof ReplyException)) {
      return err;
    }
    ReplyException re = (ReplyException) err;
    if (re.failureType() == ReplyFailure.NO_HANDLERS) {
      return Failure.UNAVAILABLE.exception(
          "service " + service + " is not served on node " + node + " (yet)");
    }
    if (re.failureType() == ReplyFailure.TIMEOUT) {
      return Failure.TIMEOUT.exception(
          "no answer from service " + service + " on node " + node + " in time; the request"
              + " may or may not have been carried out");
    }
    return err;
  }

  /**
   * About how many bytes a request with {@code body} takes as JSON, counting the body's
   * top-level text: enough to keep a large value out of a batch without writing it out.
   */
  private static int roughBytes(JsonObject body) {
    int bytes = 64;
    // The map itself: JsonObject's own iterator wraps every entry it hands out.
    for (Map.Entry<String, Object> e : body.getMap().entrySet()) {
      Object v = e.getValue();
      bytes += e.getKey().length() + 8 + (v instanceof String text ? text.length() * 3
          : v instanceof JsonObject || v instanceof JsonArray || v instanceof Map
              || v instanceof List ? BATCHED_BYTES_MAX : 16);
    }
    return bytes;
  }

  private void serve(String service, ShardHandler handler, Message<JsonObject> msg,
      boolean byLeader) {
    Failure.replyWith(msg, serve(service, handler, msg.body(), byLeader));
  }

  /** Serves one item of a batch ({@link RoutedBatchServer}). */
  private Future<JsonObject> serveBatched(JsonObject item) {
    String service = item.getString("service");
    Served s = service == null ? null : services.get(service);
    if (s == null || !s.byLeader()) {
      return Future.failedFuture(Failure.UNAVAILABLE.exception(
          "service " + service + " is not served on node " + nodeName() + " (yet)"));
    }
    return serve(service, s.handler(), item, true);
  }

  private Future<JsonObject> serve(String service, ShardHandler handler, JsonObject m,
      boolean byLeader) {
    String key = m == null ? null : m.getString("key");
    if (key == null) {
      return Future.failedFuture(Failure.BAD_REQUEST.exception("a routed request needs a key"));
    }
    PartitionTable t = verticle.table();
    int p = t.partitionOf(key);
    long senderEpoch = m.getLong("epoch", 0L);
    // A replicated service's handler decides itself: its group knows who leads the partition.
    if (!byLeader && senderEpoch > t.epoch()) {
      return Future.failedFuture(Failure.NOT_OWNER.exception("node " + nodeName()
          + " is on epoch " + t.epoch() + ", older than the sender's " + senderEpoch
          + "; retry"));
    }
    if (!byLeader && !nodeName().equals(t.primary(p))) {
      return Future.failedFuture(Failure.NOT_OWNER.exception("node " + nodeName()
          + " is not the primary of partition " + p + " at epoch " + t.epoch()
          + "; its primary is " + t.primary(p)));
    }
    try {
      return handler.handle(new ShardRequest(service, key, p, t.epoch(),
          m.getJsonObject("body", new JsonObject())));
    } catch (Throwable e) {
      return Future.failedFuture(e);
    }
  }
}
