package io.keel.recovery;

import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.bus.Json;
import io.keel.routing.Routing;
import io.keel.routing.ShardRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
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
    consumers.add(vertx.eventBus().consumer(Addresses.COUNTER_ADD,
        msg -> route(msg, CounterService::addRequest)));
    consumers.add(vertx.eventBus().consumer(Addresses.COUNTER_GET,
        msg -> route(msg, CounterService::getRequest)));
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

  /**
   * Checks a request and routes what {@code build} makes of it to the key's leader; a bad field
   * is answered {@code BAD_REQUEST} here, before anything is sent.
   */
  private void route(Message<JsonObject> msg, Function<JsonObject, JsonObject> build) {
    JsonObject forward;
    long timeout;
    try {
      JsonObject body = msg.body();
      String key = Json.requireString(body, "key", KEY_LENGTH_MAX);
      forward = build.apply(body).put("key", key);
      timeout = Json.timeoutMs(body, timeoutMs);
    } catch (RuntimeException e) {
      Failure.reply(msg, e);
      return;
    }
    routing.requestLeader(SERVICE, forward.getString("key"), forward, timeout)
        .onComplete(ar -> {
          if (ar.succeeded()) {
            msg.reply(ar.result());
          } else {
            Failure.reply(msg, ar.cause());
          }
        });
  }

  private static JsonObject addRequest(JsonObject body) {
    Object delta = body.getValue("delta", 1L);
    if (!(delta instanceof Long || delta instanceof Integer)) {
      throw Failure.BAD_REQUEST.exception("field 'delta' must be an integer, was "
          + Json.typeName(delta));
    }
    JsonObject forward = new JsonObject().put("op", "add").put("delta", (Number) delta);
    if (body.getValue("requestId") != null) {
      forward.put("requestId", Json.requireString(body, "requestId", REQUEST_ID_LENGTH_MAX));
    }
    return forward;
  }

  private static JsonObject getRequest(JsonObject body) {
    Object stale = body.getValue("stale", false);
    if (!(stale instanceof Boolean)) {
      throw Failure.BAD_REQUEST.exception("field 'stale' must be a boolean, was "
          + Json.typeName(stale));
    }
    return new JsonObject().put("op", "get").put("stale", stale);
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
          CounterMachine.get(r.key())), b.getBoolean("stale", false))
          .map(answer -> new JsonObject().put("key", r.key())
              .put("value", CounterMachine.value(answer)));
    }
    byte[] command = CounterMachine.add(r.key(), b.getLong("delta", 1L),
        b.getString("requestId"));
    return groups.propose(r.partition(), MachineSet.frame(CounterMachine.NAME, command))
        .compose(answer -> CounterMachine.Added.decode(answer)
            .map(added -> Future.succeededFuture(new JsonObject().put("key", r.key())
                .put("value", added.value()).put("index", added.index())))
            .orElseGet(() -> Future.failedFuture(Failure.BAD_REQUEST.exception(
                "the counter command for key " + r.key() + " was malformed; nothing changed"))));
  }
}
