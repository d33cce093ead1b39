package io.keel.map;

import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.bus.Json;
import io.keel.map.MapMachine.Fencing;
import io.keel.map.MapMachine.Found;
import io.keel.map.MapMachine.Result;
import io.keel.recovery.MachineSet;
import io.keel.recovery.PartitionGroups;
import io.keel.routing.Routing;
import io.keel.routing.ShardRequest;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.EncodeException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The replicated map on the event bus, deployed on every node (client nodes too):
 * {@code keel.map.put|get|delete}, each routed to the leader of the key's partition group,
 * where the {@link MapMachine} commits it (a put, a delete) or answers it (a read). A key's
 * partition is that of the key alone, whatever the map: keys that are equal in two maps live
 * together.
 *
 * <p>A request is checked on the node it enters, against the limits of {@link MapOptions}; a bad
 * field is answered {@code BAD_REQUEST} there, before anything is sent. When this node leads
 * the key's partition, the request is served here without crossing the event bus; a stale read
 * ({@code stale: true}) is answered by this node's own replica when it has one.
 *
 * <p>A write is acknowledged only once a majority of the partition's replicas has it in its
 * log; without a majority it fails with {@code UNAVAILABLE}. A read on the leader is
 * linearizable: the leader confirms its leadership with a majority, without appending to the
 * log. A write that timed out may or may not have happened; retried with the same
 * {@code requestId}, it happens at most once.
 */
public final class MapVerticle extends VerticleBase {
  /** The routed service name. */
  public static final String SERVICE = "keel.map";
  static final int MAP_NAME_LENGTH_MAX = 255;
  static final int REQUEST_ID_LENGTH_MAX = 128;

  private final Routing routing;
  private final MapOptions limits;
  private final long budget;
  private final long timeoutMs;
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
  private final Supplier<PartitionGroups> groups;
  private final boolean dataNode;
  private final MeterRegistry meters;
  // One timer per operation and outcome, registered on first use and kept.
  private final Map<String, Map<String, Timer>> timers = new ConcurrentHashMap<>();
  private volatile Consumer<String> fencedRejections = op -> { };
  private static final long MACHINES_REFRESH_NANOS = 100_000_000;
  // Every change of byteCount that this node's map machines made, summed.
  private final LongAdder byteChanges;
  // The local replicas' bytes when last summed; any thread may take a new sum.
  private volatile HeldBytes held;

  /** {@code bytes} summed over the local machines at {@code atNanos}, and the changes then. */
  private record HeldBytes(long bytes, long changes, long atNanos) {}

  /**
   * The map of a node whose routing is {@code routing}; when {@code groups} supplies this data
   * node's partition groups (null on a client node), it serves the partitions it leads. Its
   * map machines tell {@code byteChanges} every change of their sizes.
   */
  public MapVerticle(Routing routing, Supplier<PartitionGroups> groups, MapOptions limits,
      long timeoutMs, MeterRegistry meters, LongAdder byteChanges) {
    this.byteChanges = byteChanges;
    this.meters = meters;
    this.routing = routing;
    this.groups = groups == null ? () -> null : groups;
    this.dataNode = groups != null;
    this.limits = new MapOptions(limits);
    this.budget = limits.memoryBudget();
    this.timeoutMs = timeoutMs;
  }

  @Override
  public Future<?> start() {
    consumers.add(vertx.eventBus().consumer(Addresses.MAP_PUT,
        msg -> Failure.replyWith(msg, handle("put", msg.body()))));
    consumers.add(vertx.eventBus().consumer(Addresses.MAP_GET,
        msg -> Failure.replyWith(msg, handle("get", msg.body()))));
    consumers.add(vertx.eventBus().consumer(Addresses.MAP_DELETE,
        msg -> Failure.replyWith(msg, handle("delete", msg.body()))));
    List<Future<?>> ready = new ArrayList<>();
    consumers.forEach(c -> ready.add(c.completion()));
    if (dataNode) {
      ready.add(routing.registerLeader(SERVICE, r -> serve(r.partition(), r.key(), r.body())));
    }
    return Future.all(ready).mapEmpty();
  }

  @Override
  public Future<?> stop() {
    List<Future<?>> done = new ArrayList<>();
    consumers.forEach(c -> done.add(c.unregister()));
    if (dataNode) {
      done.add(routing.unregister(SERVICE));
    }
    return Future.join(done);
  }

  /** The Java API of the map called {@code name}, served by this verticle. */
  public KeelMap map(String name) {
    return new KeelMap(this, name);
  }

  /**
   * Serves a request that entered this node: {@code op} is {@code put}, {@code get} or
   * {@code delete} and {@code body} its event-bus body. Fails with a {@link Failure}. Any
   * thread may call it.
   */
  public Future<JsonObject> handle(String op, JsonObject body) {
    long start = System.nanoTime();
    io.vertx.core.Context caller = io.vertx.core.Vertx.currentContext();
    Future<JsonObject> served = serveEntry(op, body);
    if (caller != null) {
      // A request served here completes on the partition group's thread: answer the caller
      // on its own context, as a routed one does.
      // A promise of the caller's context reports what the caller's callbacks throw to that
      // context, rather than to whoever completed it, such as a loop delivering many answers.
      io.vertx.core.Promise<JsonObject> answer = ((ContextInternal) caller).promise();
      if (served.isComplete()) {
        // Answered already (a lease read at once, a refusal): on the next turn, so that a
        // caller looping through compose() does not grow its stack with every request.
        Future<JsonObject> done = served;
        caller.runOnContext(v -> done.onComplete(answer));
      } else {
        served.onComplete(answer);
      }
      served = answer.future();
    }
    return served.onComplete(ar -> {
      Failure f = ar.succeeded() ? null : Failure.of(ar.cause());
      String outcome = ar.succeeded() ? "ok" : f == null ? "error" : f.name().toLowerCase();
      timer(op, outcome).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    });
  }

  private Timer timer(String op, String outcome) {
    // By operation, then outcome: no key string built per request.
    return timers.computeIfAbsent(op, o -> new ConcurrentHashMap<>())
        .computeIfAbsent(outcome, o -> Timer.builder("keel_map_operations")
            .description("map requests that entered this node, by operation and outcome")
            .tag("op", op).tag("outcome", outcome).register(meters));
  }

  /**
   * Hears every put or delete that this node, as the key's leader, refused because its fence
   * token is older than the newest the map accepted for that lock ({@code "map_put"} or
   * {@code "map_delete"}): for metrics. Called on the thread that completes the commit.
   */
  public void observeFencedRejections(Consumer<String> observer) {
    this.fencedRejections = observer;
  }

  private Future<JsonObject> serveEntry(String op, JsonObject body) {
    JsonObject forward;
    long timeout;
    try {
      if (body == null) {
        throw Failure.BAD_REQUEST.exception("the request needs a JSON object body");
      }
      forward = check(op, body);
      timeout = Json.timeoutMs(body, timeoutMs);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    String key = forward.getString("key");
    PartitionGroups g = groups.get();
    if (g != null) {
      int p = routing.table().partitionOf(key);
      boolean stale = forward.getBoolean("stale", false);
      boolean here = stale ? g.machine(p, MapMachine.NAME) != null
          : g.leads(p);
      if (here) {
        // Served here; should this node have lost the lead meanwhile, or the group refused
        // (leadership moving), route as usual: the router retries within the time budget, and
        // the request id keeps a write from applying twice.
        return serve(p, key, forward).recover(t -> Failure.NOT_OWNER.is(t)
            || Failure.UNAVAILABLE.is(t)
            ? routing.requestLeader(SERVICE, key, forward, timeout)
            : Future.failedFuture(t));
      }
    }
    return routing.requestLeader(SERVICE, key, forward, timeout);
  }

  // ---- the entry node: check

  private JsonObject check(String op, JsonObject body) {
    String map = Json.requireString(body, "map", MAP_NAME_LENGTH_MAX);
    String key = Json.requireString(body, "key", limits.getKeyBytesMax());
    // A char takes at most 3 bytes in UTF-8 (a surrogate pair 4 for its two): count only when
    // that bound is past the limit (0: within it without counting).
    int keyBytes = key.length() * 3 > limits.getKeyBytesMax() ? Json.utf8Length(key) : 0;
    if (keyBytes > limits.getKeyBytesMax()) {
      throw Failure.BAD_REQUEST.exception("the key is " + keyBytes + " bytes in UTF-8, more"
          + " than the limit of " + limits.getKeyBytesMax() + " (map.keyBytesMax); nothing"
          + " changed");
    }
    JsonObject forward = new JsonObject().put("op", op).put("map", map).put("key", key);
    switch (op) {
      case "get":
        Object stale = body.getValue("stale", false);
        if (!(stale instanceof Boolean)) {
          throw Failure.BAD_REQUEST.exception("field 'stale' must be a boolean, was "
              + Json.typeName(stale));
        }
        return forward.put("stale", stale);
      case "put":
        forward.put("value", valueText(body));
        break;
      case "delete":
        break;
      default:
        throw Failure.BAD_REQUEST.exception("unknown map operation " + op);
    }
    if (body.getValue("expectVersion") != null) {
      Object v = body.getValue("expectVersion");
      if (!(v instanceof Long || v instanceof Integer) || ((Number) v).longValue() < 0) {
        throw Failure.BAD_REQUEST.exception("field 'expectVersion' must be an integer >= 0 (0:"
            + " the key must be absent), was " + v);
      }
      forward.put("expectVersion", ((Number) v).longValue());
    }
    if (body.getValue("fence") != null) {
      if (!(body.getValue("fence") instanceof JsonObject fence)) {
        throw Failure.BAD_REQUEST.exception("field 'fence' must be an object {lock, token}, was "
            + Json.typeName(body.getValue("fence")));
      }
      String lock = Json.requireString(fence, "lock", 1024);
      Object t = fence.getValue("token");
      if (!(t instanceof Long || t instanceof Integer) || ((Number) t).longValue() < 1) {
        throw Failure.BAD_REQUEST.exception("field 'fence.token' must be a positive integer"
            + " (a lock's fencing token), was " + (t == null ? "missing" : t));
      }
      forward.put("fenceLock", lock).put("fenceToken", ((Number) t).longValue());
    }
    // Always an id: a write whose leader was lost mid-commit is retried, and must not apply
    // twice (a compare-and-set that happened would then answer CONFLICT).
    return forward.put("requestId", body.getValue("requestId") == null
        ? UUID.randomUUID().toString()
        : Json.requireString(body, "requestId", REQUEST_ID_LENGTH_MAX));
  }

  /** The put's value as JSON text, within the value limit. */
  private String valueText(JsonObject body) {
    if (!body.containsKey("value") || body.getValue("value") == null) {
      throw Failure.BAD_REQUEST.exception("field 'value' is missing (a put needs a JSON value"
          + " other than null; delete removes a key)");
    }
    String text;
    try {
      text = io.vertx.core.json.Json.encode(body.getValue("value"));
    } catch (EncodeException e) {
      throw Failure.BAD_REQUEST.exception("field 'value' cannot be written as JSON: "
          + e.getMessage());
    }
    int bytes = text.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > limits.getValueBytesMax()) {
      throw Failure.BAD_REQUEST.exception("the value is " + bytes + " bytes as JSON, more than"
          + " the limit of " + limits.getValueBytesMax() + " (map.valueBytesMax); nothing"
          + " changed");
    }
    return text;
  }

  // ---- the leader (or, for a stale read, any replica)

  private Future<JsonObject> serve(int p, String key, JsonObject b) {
    PartitionGroups g = groups.get();
    if (g == null) {
      return Future.failedFuture(Failure.UNAVAILABLE.exception(
          "this node's partition groups are still starting"));
    }
    String map = b.getString("map");
    String op = b.getString("op", "");
    if ("get".equals(op)) {
      return g.read(p, MapMachine.NAME, m -> ((MapMachine) m).find(map, key),
          b.getBoolean("stale", false)).map(MapVerticle::found);
    }
    Fencing fencing = b.getString("fenceLock") == null ? null
        : new Fencing(b.getString("fenceLock"), b.getLong("fenceToken"));
    long expect = b.getLong("expectVersion", MapMachine.ANY);
    byte[] command;
    if ("put".equals(op)) {
      byte[] value = b.getString("value", "").getBytes(StandardCharsets.UTF_8);
      long held = heldBytes(g, System.nanoTime());
      long cost = MapMachine.cost(key, value.length);
      if (held + cost > budget) {
        return Future.failedFuture(Failure.BAD_REQUEST.exception("node " + routing.nodeName()
            + " holds " + held + " bytes of map entries; " + cost + " more would pass its"
            + " memory budget of " + budget + " bytes (map.memoryBytesMax); nothing changed"));
      }
      command = MapMachine.put(map, key, value, expect, fencing, b.getString("requestId"));
    } else if ("delete".equals(op)) {
      command = MapMachine.delete(map, key, expect, fencing, b.getString("requestId"));
    } else {
      return Future.failedFuture(Failure.BAD_REQUEST.exception("unknown map operation " + op));
    }
    return g.propose(p, MachineSet.frame(MapMachine.NAME, command)).compose(bytes -> {
      Result r = Result.decode(bytes);
      if (r.status() == MapMachine.Status.FENCED) {
        fencedRejections.accept("map_" + op);
      }
      return answer(op, map, key, b, r);
    });
  }

  private static Future<JsonObject> answer(String op, String map, String key, JsonObject b,
      Result r) {
    switch (r.status()) {
      case OK:
        return Future.succeededFuture("put".equals(op)
            ? new JsonObject().put("version", r.version())
            : new JsonObject().put("deleted", r.deleted()).put("version", r.version()));
      case VERSION_CONFLICT:
        return Future.failedFuture(Failure.CONFLICT.exception("key '" + key + "' of map '" + map
            + "' " + (r.current() == 0 ? "is absent" : "is at version " + r.current())
            + ", not " + (b.getLong("expectVersion") == 0 ? "absent"
                : "at version " + b.getLong("expectVersion")) + " as expected; nothing"
            + " changed"));
      case FENCED:
        return Future.failedFuture(Failure.CONFLICT.exception("token " + b.getLong("fenceToken")
            + " of lock '" + b.getString("fenceLock") + "' is older than token " + r.fence()
            + ", the newest map '" + map + "' accepted for that lock; nothing changed"));
      default:
        return Future.failedFuture(Failure.BAD_REQUEST.exception("the map command for key '"
            + key + "' was malformed; nothing changed"));
    }
  }

  private static JsonObject found(Found f) {
    if (!f.found()) {
      return new JsonObject().put("found", false);
    }
    return new JsonObject().put("found", true).put("value", valueOf(f.value()))
        .put("version", f.version());
  }

  /**
   * The JSON value stored as {@code json}. Values are stored as {@code Json.encode} wrote them,
   * which escapes with a backslash every character of a string that JSON text cannot hold as
   * it is: a string without one is its text between the quotes, taken without a parser.
   */
  static Object valueOf(byte[] json) {
    String text = new String(json, StandardCharsets.UTF_8);
    int last = text.length() - 1;
    if (last >= 1 && text.charAt(0) == '"' && text.charAt(last) == '"'
        && text.indexOf('\\') < 0) {
      return text.substring(1, last);
    }
    try {
      return io.vertx.core.json.Json.decodeValue(text);
    } catch (DecodeException e) {
      throw new IllegalStateException("a stored value is not JSON", e);
    }
  }

  /**
   * The bytes the map entries of every local replica take: the sum over their machines, taken
   * at most every {@link #MACHINES_REFRESH_NANOS} (visiting every partition on every put cost a
   * leader 40% of its CPU, and summing them on every put still 15%), plus every change the
   * machines made since ({@link #byteChanges}), so that puts one after another are held to the
   * budget exactly. A change made while the sum is taken may count twice until the next one,
   * never zero times; a replica added or dropped counts that much late.
   */
  private long heldBytes(PartitionGroups g, long now) {
    HeldBytes b = held;
    if (b == null || now - b.atNanos() >= MACHINES_REFRESH_NANOS) {
      long changes = byteChanges.sum();
      b = new HeldBytes(sum(machines(g), MapMachine::byteCount), changes, now);
      held = b;
    }
    return b.bytes() + byteChanges.sum() - b.changes();
  }

  /** The map machines of the local replicas (none on a client node). */
  private static List<MapMachine> machines(PartitionGroups g) {
    List<MapMachine> found = new ArrayList<>();
    if (g != null) {
      g.machines(MapMachine.NAME).values().forEach(m -> found.add((MapMachine) m));
    }
    return found;
  }

  /** {@code f} of each of {@code machines}, summed. */
  private static long sum(List<MapMachine> machines,
      java.util.function.ToLongFunction<MapMachine> f) {
    long sum = 0;
    for (MapMachine m : machines) {
      sum += f.applyAsLong(m);
    }
    return sum;
  }


  /** How many map entries the local replicas hold, and their bytes, for status. */
  public JsonObject stats() {
    PartitionGroups g = groups.get();
    List<MapMachine> local = machines(g);
    return new JsonObject().put("entries", sum(local, MapMachine::entryCount))
        .put("bytes", sum(local, MapMachine::byteCount)).put("budget", budget);
  }

}
