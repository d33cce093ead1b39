package io.keel.recovery;

import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.bus.Json;
import io.keel.routing.Routing;
import io.keel.routing.ShardRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The replicated counters ({@link CounterMachine}) on the event bus: {@code keel.counter.add}
 * and {@code keel.counter.get} on every node, which route each request to the leader of the
 * key's partition group, where it is committed (or read) through the group.
 *
 * <p>An add is acknowledged only once a majority of the partition's replicas has it in its log;
 * without a majority it fails with {@code UNAVAILABLE}. An add that timed out may or may not
 * have happened; retried with the same {@code requestId}, it happens at most once.
 */
public final class CounterService {
  /** The routed service name. */
  public static final String SERVICE = "keel.counter";
  static final int KEY_LENGTH_MAX = 1024;
  static final int REQUEST_ID_LENGTH_MAX = 128;

  private final Vertx vertx;
  private final Routing routing;
  private final long timeoutMs;
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();

  /** The service of a node whose routing is {@code routing}. */
  public CounterService(Vertx vertx, Routing routing, long timeoutMs) {
    this.vertx = vertx;
    this.routing = routing;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Answers {@code keel.counter.*} on this node and, when {@code groups} supplies this data
   * node's partition groups, serves the partitions it leads.
   */
  public Future<Void> start(Supplier<PartitionGroups> groups) {
    consumers.add(vertx.eventBus().consumer(Addresses.COUNTER_ADD, this::add));
    consumers.add(vertx.eventBus().consumer(Addresses.COUNTER_GET, this::get));
    List<Future<?>> ready = new ArrayList<>();
    consumers.forEach(c -> ready.add(c.completion()));
    if (groups != null) {
      ready.add(routing.registerLeader(SERVICE, r -> serve(groups.get(), r)));
    }
    return Future.all(ready).mapEmpty();
  }

  /** Stops answering. */
  public Future<Void> stop() {
    List<Future<?>> done = new ArrayList<>();
    consumers.forEach(c -> done.add(c.unregister()));
    done.add(routing.unregister(SERVICE));
    return Future.join(done).mapEmpty();
  }

  private void add(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    JsonObject forward;
    long timeout;
    try {
      String key = Json.requireString(body, "key", KEY_LENGTH_MAX);
      Object delta = body.getValue("delta", 1L);
      if (!(delta instanceof Long || delta instanceof Integer)) {
        throw Failure.BAD_REQUEST.exception("field 'delta' must be an integer, was "
            + Json.typeName(delta));
      }
      forward = new JsonObject().put("op", "add").put("key", key)
          .put("delta", ((Number) delta).longValue());
      if (body.getValue("requestId") != null) {
        forward.put("requestId", Json.requireString(body, "requestId", REQUEST_ID_LENGTH_MAX));
      }
      timeout = timeout(body);
    } catch (RuntimeException e) {
      Failure.reply(msg, e);
      return;
    }
    reply(msg, routing.requestLeader(SERVICE, forward.getString("key"), forward, timeout));
  }

  private void get(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    JsonObject forward;
    long timeout;
    try {
      String key = Json.requireString(body, "key", KEY_LENGTH_MAX);
      Object stale = body.getValue("stale", false);
      if (!(stale instanceof Boolean)) {
        throw Failure.BAD_REQUEST.exception("field 'stale' must be a boolean, was "
            + Json.typeName(stale));
      }
      forward = new JsonObject().put("op", "get").put("key", key).put("stale", stale);
      timeout = timeout(body);
    } catch (RuntimeException e) {
      Failure.reply(msg, e);
      return;
    }
    reply(msg, routing.requestLeader(SERVICE, forward.getString("key"), forward, timeout));
  }

  private long timeout(JsonObject body) {
    Object t = body.getValue("timeoutMs", timeoutMs);
    if (!(t instanceof Long || t instanceof Integer) || ((Number) t).longValue() < 1
        || ((Number) t).longValue() > 600_000) {
      throw Failure.BAD_REQUEST.exception("field 'timeoutMs' must be an integer of"
          + " 1..600000, was " + t);
    }
    return ((Number) t).longValue();
  }

  private static void reply(Message<JsonObject> msg, Future<JsonObject> result) {
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        msg.reply(ar.result());
      } else {
        Failure.reply(msg, ar.cause());
      }
    });
  }

  /** On the node the request was routed to: commit or read through the partition's group. */
  private static Future<JsonObject> serve(PartitionGroups groups, ShardRequest r) {
    if (groups == null) {
      return Future.failedFuture(Failure.UNAVAILABLE.exception(
          "this node's partition groups are still starting"));
    }
    JsonObject b = r.body();
    if ("get".equals(b.getString("op"))) {
      return groups.query(r.partition(), MachineSet.frame(CounterMachine.NAME,
          CounterMachine.get(r.key())), b.getBoolean("stale", false)).map(CounterService::json);
    }
    byte[] command = CounterMachine.add(r.key(), b.getLong("delta", 1L),
        b.getString("requestId"));
    return groups.propose(r.partition(), MachineSet.frame(CounterMachine.NAME, command))
        .map(CounterService::json);
  }

  private static JsonObject json(byte[] bytes) {
    return new JsonObject(Buffer.buffer(bytes));
  }
}
