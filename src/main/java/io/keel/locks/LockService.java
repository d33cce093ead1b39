package io.keel.locks;

import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.bus.Json;
import io.keel.cluster.ClusterMember;
import io.keel.locks.LockMachine.Event;
import io.keel.locks.LockMachine.Outcome;
import io.keel.recovery.MachineSet;
import io.keel.recovery.PartitionGroups;
import io.keel.recovery.PartitionStateMachine;
import io.keel.routing.Routing;
import io.keel.routing.ShardRequest;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Fenced locks on the event bus: {@code keel.lock.acquire|renew|release|info} on every node
 * (client nodes too), routed to the leader of the lock name's partition group, where the
 * {@link LockMachine} commits them.
 *
 * <p>An acquire may name the cluster member it is made for ({@code node}; the Java API names its
 * own node): when that member leaves the cluster, its leases and waits end at once. Without it,
 * only the lease ends a grant (a request enters on whichever node's consumer the event bus
 * picks, so that node says nothing about the caller).
 *
 * <p>On the leader: an acquire that has to wait stays pending here until a later command's
 * outcome grants it or ends its wait; a tick settles leases and waits that ended (every
 * {@link #TICK_MS}, for the partitions whose next deadline has passed); a node that leaves the
 * cluster has its leases and waits ended at once. Every outcome is published on the status feed
 * ({@code lock-granted}, {@code lock-released}, {@code lock-expired}). A leader that loses its
 * leadership fails its pending waits with {@code NOT_OWNER} naming the new leader, and the
 * caller's node retries there with the same request id: the table answers from what happened
 * to it, never granting it twice.
 *
 * <p>Lease time is this node's lease clock when it leads. It keeps every lease
 * {@code clockMarginMs} longer than granted (the command carries the longer lease, so every
 * replica agrees): a forward jump of the leader's clock up to the margin cannot end a lease
 * before its holder, counting the lease from when it asked, thinks it ended. Answers name the
 * lease as granted.
 *
 * <p>Every request is checked on the node it enters; a bad field is answered
 * {@code BAD_REQUEST} there, before anything is sent. All state is touched on the context that
 * {@link #start} ran on.
 */
public final class LockService {
  /** The routed service name. */
  public static final String SERVICE = "keel.lock";
  /** The lease when a request names none. */
  public static final long LEASE_DEFAULT_MS = 10_000;
  static final long LEASE_MAX_MS = 3_600_000;
  static final long WAIT_MAX_MS = 600_000;
  static final int NAME_LENGTH_MAX = 1024;
  static final int HOLDER_LENGTH_MAX = 256;
  static final int REQUEST_ID_LENGTH_MAX = 128;
  /** How often the leader settles leases and waits that ended. */
  static final long TICK_MS = 100;
  private static final long HELD_REFRESH_MS = 2_000;
  /**
   * How many held locks status lists, the first by name: a node may lead hundreds of thousands,
   * and status is rebuilt every 2 s and sent to every dashboard.
   */
  public static final int HELD_LISTED_MAX = 100;
  /**
   * How long one attempt of a waiting acquire waits on the leader. Then the caller's node asks
   * again (same request id), so that a wait survives the death of the leader it waited on.
   */
  static final long ATTEMPT_MS = 3_000;
  private static final long RETRY_DELAY_MS = 200;

  private record Pending(int partition, String name, Promise<JsonObject> promise,
      long timer) {}

  private final Vertx vertx;
  private final Routing routing;
  private final long routeTimeoutMs;
  private final Clock leaseClock;
  private final long clockMarginMs;
  private final List<MessageConsumer<JsonObject>> consumers = new ArrayList<>();
  private final Map<String, Pending> pending = new HashMap<>();
  private final Set<Integer> ticking = new HashSet<>();
  private volatile Held held = new Held(0, new JsonArray());
  // Every member this node has seen: a holder's node counts as gone only once it was seen.
  private final Set<String> seen = new HashSet<>();
  private final Set<String> releasing = new HashSet<>();
  private Context context;
  // Set on start; read by the metrics' scrapes too.
  private volatile Supplier<PartitionGroups> groups;
  private long tickTimer = -1;
  private long heldTimer = -1;
  private volatile Consumer<String> fencedRejections = op -> { };

  /**
   * The service of a node whose routing is {@code routing}, measuring leases it grants as a
   * leader by {@code leaseClock} and keeping them {@code clockMarginMs} longer than granted.
   */
  public LockService(Vertx vertx, Routing routing, long routeTimeoutMs, Clock leaseClock,
      long clockMarginMs) {
    this.vertx = vertx;
    this.routing = routing;
    this.routeTimeoutMs = routeTimeoutMs;
    this.leaseClock = leaseClock;
    this.clockMarginMs = clockMarginMs;
  }

  /**
   * Answers {@code keel.lock.*} on this node and, when {@code groups} supplies this data node's
   * partition groups, serves the partitions it leads.
   */
  public Future<Void> start(Supplier<PartitionGroups> groups) {
    this.context = vertx.getOrCreateContext();
    this.groups = groups;
    consumers.add(vertx.eventBus().consumer(Addresses.LOCK_ACQUIRE,
        msg -> route(msg, this::acquireRequest)));
    consumers.add(vertx.eventBus().consumer(Addresses.LOCK_RENEW,
        msg -> route(msg, LockService::renewRequest)));
    consumers.add(vertx.eventBus().consumer(Addresses.LOCK_RELEASE,
        msg -> route(msg, LockService::releaseRequest)));
    consumers.add(vertx.eventBus().consumer(Addresses.LOCK_INFO,
        msg -> route(msg, b -> new JsonObject().put("op", "info"))));
    List<Future<?>> ready = new ArrayList<>();
    consumers.forEach(c -> ready.add(c.completion()));
    if (groups != null) {
      ready.add(routing.registerLeader(SERVICE, r -> serve(r)));
      tickTimer = vertx.setPeriodic(TICK_MS, id -> context.runOnContext(v -> tick()));
      heldTimer = vertx.setPeriodic(HELD_REFRESH_MS,
          id -> context.runOnContext(v -> refreshHeld()));
    }
    return Future.all(ready).mapEmpty();
  }

  /** Stops answering; pending waits fail with {@code UNAVAILABLE} (their callers ask again). */
  public Future<Void> stop() {
    if (tickTimer >= 0) {
      vertx.cancelTimer(tickTimer);
      vertx.cancelTimer(heldTimer);
    }
    List<Future<?>> done = new ArrayList<>();
    consumers.forEach(c -> done.add(c.unregister()));
    if (groups != null) {
      done.add(routing.unregister(SERVICE));
    }
    if (context != null) {
      context.runOnContext(v -> {
        List<Pending> all = new ArrayList<>(pending.values());
        pending.clear();
        all.forEach(p -> p.promise().tryFail(Failure.UNAVAILABLE.exception(
            "node " + routing.nodeName() + " is stopping; retry with the same requestId")));
      });
    }
    return Future.join(done).mapEmpty();
  }

  /**
   * Hears every renew or release that this node, as the lock's leader, refused because its token
   * does not hold the lock ({@code "renew"} or {@code "release"}): for metrics. Called on this
   * service's context.
   */
  public void observeFencedRejections(Consumer<String> observer) {
    this.fencedRejections = observer;
  }

  /**
   * The locks held in the partitions this node leads, as of the last refresh: how many, and the
   * first {@link #HELD_LISTED_MAX} by name.
   */
  public record Held(long count, JsonArray listed) {}

  /** The held locks of the partitions this node leads (as of the last refresh), for status. */
  public Held held() {
    return held;
  }

  /** How many acquires wait for locks in the partitions this node leads, now. */
  public long waiting() {
    PartitionGroups g = groups == null ? null : groups.get();
    if (g == null) {
      return 0;
    }
    long sum = 0;
    for (Map.Entry<Integer, PartitionStateMachine> e : g.machines(LockMachine.NAME).entrySet()) {
      LockMachine m = (LockMachine) e.getValue();
      if (m.waiterCount() > 0 && g.leads(e.getKey())) {
        sum += m.waiterCount();
      }
    }
    return sum;
  }

  // ---- the entry node: check, then route to the leader

  private void route(Message<JsonObject> msg, Function<JsonObject, JsonObject> build) {
    JsonObject forward;
    try {
      JsonObject body = msg.body();
      if (body == null) {
        throw Failure.BAD_REQUEST.exception("the request needs a JSON object body");
      }
      String name = Json.requireString(body, "name", NAME_LENGTH_MAX);
      forward = build.apply(body).put("name", name);
    } catch (RuntimeException e) {
      Failure.reply(msg, e);
      return;
    }
    // The caller's wait, on this node's monotonic clock: a wall-clock step does not change it.
    long deadline = System.nanoTime() + forward.getLong("waitMs", 0L) * 1_000_000;
    attempt(forward, deadline).onComplete(ar -> {
      if (ar.succeeded()) {
        msg.reply(ar.result());
      } else {
        Failure.reply(msg, ar.cause());
      }
    });
  }

  /**
   * One attempt at the leader; a waiting acquire comes back {@code queued} after at most
   * {@link #ATTEMPT_MS} and is asked again, at whoever leads then, until it is answered.
   */
  private Future<JsonObject> attempt(JsonObject forward, long deadline) {
    long slice = Math.min(Math.max(0, (deadline - System.nanoTime()) / 1_000_000), ATTEMPT_MS);
    JsonObject body = forward.copy().put("attemptMs", slice);
    String name = forward.getString("name");
    return routing.requestLeader(SERVICE, name, body, routeTimeoutMs + slice).transform(ar -> {
      boolean timeLeft = System.nanoTime() - deadline < 0;
      if (ar.succeeded()) {
        JsonObject reply = ar.result();
        if (reply.getBoolean("timedOut", false)) {
          return Future.failedFuture(Failure.TIMEOUT.exception(reply.getString("message")));
        }
        if (!reply.getBoolean("queued", false)) {
          return Future.succeededFuture(reply);
        }
        return timeLeft ? attempt(forward, deadline) : Future.failedFuture(
            Failure.TIMEOUT.exception("lock '" + name + "' is held and the wait of "
                + forward.getLong("waitMs") + " ms ran out; nothing was granted"));
      }
      // The leader died, moved or did not answer: a waiting acquire asks again (the same
      // request id is never granted twice); anything else reports the failure.
      Failure f = Failure.of(ar.cause());
      boolean lost = f == Failure.UNAVAILABLE || f == Failure.NOT_OWNER || f == Failure.TIMEOUT
          || ar.cause() instanceof io.vertx.core.eventbus.ReplyException re
          && re.failureType() != io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE;
      if (!lost || !timeLeft) {
        return Future.failedFuture(ar.cause());
      }
      Promise<JsonObject> again = Promise.promise();
      vertx.setTimer(RETRY_DELAY_MS, id -> attempt(forward, deadline).onComplete(again));
      return again.future();
    });
  }

  private JsonObject acquireRequest(JsonObject body) {
    long leaseMs = millis(body, "leaseMs", LEASE_DEFAULT_MS, 1, LEASE_MAX_MS);
    long waitMs = millis(body, "waitMs", 0, 0, WAIT_MAX_MS);
    String node = body.getValue("node") == null ? ""
        : Json.requireString(body, "node", HOLDER_LENGTH_MAX);
    String holder = body.getValue("holder") == null ? (node.isEmpty() ? "anonymous" : node)
        : Json.requireString(body, "holder", HOLDER_LENGTH_MAX);
    String requestId = body.getValue("requestId") == null ? UUID.randomUUID().toString()
        : Json.requireString(body, "requestId", REQUEST_ID_LENGTH_MAX);
    return new JsonObject().put("op", "acquire").put("leaseMs", leaseMs).put("waitMs", waitMs)
        .put("holder", holder).put("requestId", requestId).put("node", node);
  }

  private static JsonObject renewRequest(JsonObject body) {
    return new JsonObject().put("op", "renew").put("token", token(body))
        .put("leaseMs", millis(body, "leaseMs", LEASE_DEFAULT_MS, 1, LEASE_MAX_MS));
  }

  private static JsonObject releaseRequest(JsonObject body) {
    return new JsonObject().put("op", "release").put("token", token(body));
  }

  private static long token(JsonObject body) {
    Object t = body.getValue("token");
    if (!(t instanceof Long || t instanceof Integer) || ((Number) t).longValue() < 1) {
      throw Failure.BAD_REQUEST.exception("field 'token' must be a positive integer (the token"
          + " the acquire answered), was " + (t == null ? "missing" : t));
    }
    return ((Number) t).longValue();
  }

  private static long millis(JsonObject body, String field, long byDefault, long min,
      long max) {
    Object v = body.getValue(field, byDefault);
    if (!(v instanceof Long || v instanceof Integer) || ((Number) v).longValue() < min
        || ((Number) v).longValue() > max) {
      throw Failure.BAD_REQUEST.exception("field '" + field + "' must be an integer of " + min
          + ".." + max + " ms, was " + v);
    }
    return ((Number) v).longValue();
  }

  // ---- the leader

  private Future<JsonObject> serve(ShardRequest r) {
    PartitionGroups g = groups.get();
    if (g == null) {
      return Future.failedFuture(Failure.UNAVAILABLE.exception(
          "this node's partition groups are still starting"));
    }
    JsonObject b = r.body();
    String name = r.key();
    long now = leaseClock.millis();
    Promise<JsonObject> answer = Promise.promise();
    context.runOnContext(v -> {
      switch (b.getString("op", "")) {
        case "acquire":
          acquire(g, r.partition(), name, b, now).onComplete(answer);
          break;
        case "renew":
          propose(g, r.partition(), LockMachine.renew(name, b.getLong("token"),
              b.getLong("leaseMs") + clockMarginMs, now))
              .compose(o -> o.status() == LockMachine.Status.RENEWED
                  ? Future.succeededFuture(new JsonObject().put("name", name)
                      .put("token", o.token()).put("leaseMs", granted(o.leaseMs())))
                  : Future.<JsonObject>failedFuture(refused(name, b, o)))
              .onComplete(answer);
          break;
        case "release":
          propose(g, r.partition(), LockMachine.release(name, b.getLong("token"), now))
              .compose(o -> o.status() == LockMachine.Status.RELEASED
                  ? Future.succeededFuture(new JsonObject().put("name", name)
                      .put("released", true))
                  : Future.<JsonObject>failedFuture(refused(name, b, o)))
              .onComplete(answer);
          break;
        case "info":
          g.query(r.partition(), MachineSet.frame(LockMachine.NAME,
              LockMachine.info(name, now)), false)
              .map(bytes -> infoJson(LockMachine.decodeInfo(bytes))).onComplete(answer);
          break;
        default:
          answer.fail(Failure.BAD_REQUEST.exception("unknown lock operation"));
      }
    });
    return answer.future();
  }

  private Future<JsonObject> acquire(PartitionGroups g, int partition, String name,
      JsonObject b, long now) {
    String requestId = b.getString("requestId");
    byte[] command = LockMachine.acquire(name, b.getString("holder"), b.getString("node"),
        requestId, b.getLong("leaseMs") + clockMarginMs, b.getLong("waitMs"), now);
    return propose(g, partition, command).compose(o -> {
      switch (o.status()) {
        case GRANTED:
          return Future.succeededFuture(grantJson(name, o.token(), o.holder(),
              granted(o.leaseMs())));
        case QUEUED: {
          Pending waiting = pending.get(requestId);
          if (waiting == null) {
            long timer = vertx.setTimer(Math.max(1, b.getLong("attemptMs", ATTEMPT_MS)),
                id -> context.runOnContext(v -> comeBack(requestId)));
            waiting = new Pending(partition, name, Promise.promise(), timer);
            pending.put(requestId, waiting);
          }
          return waiting.promise().future();
        }
        case TIMEOUT:
          return Future.succeededFuture(timedOut("lock '" + name + "' is held and the wait of "
              + b.getLong("waitMs") + " ms ran out; nothing was granted"));
        default:
          return Future.failedFuture(refusal(name, b, o));
      }
    });
  }

  /** The attempt's time is up: the caller asks again; the waiter stays in the queue. */
  private void comeBack(String requestId) {
    Pending p = pending.remove(requestId);
    if (p != null) {
      p.promise().tryComplete(new JsonObject().put("name", p.name()).put("queued", true));
    }
  }

  /** The lease as the client asked for it: what the table keeps, less the margin. */
  private long granted(long keptMs) {
    return Math.max(1, keptMs - clockMarginMs);
  }

  private Future<JsonObject> settle(String name, Event e) {
    return Future.succeededFuture(e.kind() == LockMachine.EventKind.GRANTED
        ? grantJson(name, e.token(), e.holder(), granted(e.leaseMs()))
        : timedOut("the wait for lock '" + name + "' ran out (or its node left); nothing was"
            + " granted"));
  }

  /** The leader's answer to an acquire whose wait ran out: the caller's node fails it. */
  private static JsonObject timedOut(String sentence) {
    return new JsonObject().put("timedOut", true).put("message", sentence);
  }

  /** A renew's or release's refusal, counted when its token does not hold the lock. */
  private Throwable refused(String name, JsonObject b, Outcome o) {
    if (o.status() == LockMachine.Status.CONFLICT) {
      fencedRejections.accept(b.getString("op"));
    }
    return refusal(name, b, o);
  }

  private static Throwable refusal(String name, JsonObject b, Outcome o) {
    switch (o.status()) {
      case CONFLICT:
        if ("acquire".equals(b.getString("op"))) {
          return Failure.CONFLICT.exception("request " + b.getString("requestId") + " was"
              + " granted lock '" + name + "' with token " + o.token() + " before, and that"
              + " lease has ended; acquire again with a new requestId");
        }
        return Failure.CONFLICT.exception("token " + b.getLong("token") + " does not hold lock '"
            + name + "': its lease ended or it was released; nothing changed");
      case FULL:
        return Failure.UNAVAILABLE.exception("lock '" + name + "' has as many waiters as it"
            + " may queue; nothing was granted, try again later");
      default:
        return Failure.BAD_REQUEST.exception("the lock command for '" + name + "' was"
            + " malformed; nothing changed");
    }
  }

  /**
   * Commits {@code command}, acts on every event its outcome reports, and completes with the
   * outcome, all on this service's context: outcomes are handled in the order the group
   * applied them, so a waiter is pending before the command that grants it is seen.
   */
  private Future<Outcome> propose(PartitionGroups g, int partition, byte[] command) {
    Promise<Outcome> done = Promise.promise();
    g.propose(partition, MachineSet.frame(LockMachine.NAME, command)).onComplete(ar ->
        context.runOnContext(v -> {
          if (ar.failed()) {
            done.fail(ar.cause());
            return;
          }
          Outcome o = Outcome.decode(ar.result());
          onEvents(o.events());
          done.complete(o);
        }));
    return done.future();
  }

  private void onEvents(List<Event> events) {
    for (Event e : events) {
      publish(e);
      if (e.kind() != LockMachine.EventKind.GRANTED
          && e.kind() != LockMachine.EventKind.WAIT_ENDED) {
        continue;
      }
      Pending p = pending.remove(e.requestId());
      // Outcomes are handled in apply order, so a waiter is pending before its grant is seen;
      // one that came back queued meanwhile learns of the grant on its next attempt.
      if (p != null) {
        vertx.cancelTimer(p.timer());
        settle(p.name(), e).onComplete(p.promise());
      }
    }
  }

  private void publish(Event e) {
    String type = switch (e.kind()) {
      case GRANTED -> "lock-granted";
      case RELEASED -> "lock-released";
      case EXPIRED, NODE_LEFT -> "lock-expired";
      case WAIT_ENDED -> null;
    };
    if (type != null) {
      vertx.eventBus().publish(Addresses.EVENTS, new JsonObject().put("type", type)
          .put("node", routing.nodeName()).put("name", e.name()).put("holder", e.holder())
          .put("token", e.token()).put("reason", e.kind().name().toLowerCase()));
    }
  }

  private static JsonObject grantJson(String name, long token, String holder, long leaseMs) {
    return new JsonObject().put("name", name).put("token", token).put("holder", holder)
        .put("leaseMs", leaseMs);
  }

  /** A lock's state; the lease left is the holder's, without the leader's margin. */
  private JsonObject infoJson(LockMachine.Info i) {
    JsonObject out = new JsonObject().put("name", i.name()).put("held", i.held())
        .put("waiters", i.waiters()).put("lastToken", i.lastToken());
    if (i.held()) {
      out.put("token", i.token()).put("holder", i.holder()).put("leaseLeftMs",
          Math.max(0, i.leaseLeftMs() - clockMarginMs));
    }
    return out;
  }

  // ---- the leader's housekeeping

  /**
   * Settles what ended in the partitions this node leads, ends the leases of nodes that left,
   * and hands pending waits of partitions it no longer leads back to their callers.
   */
  private void tick() {
    PartitionGroups g = groups.get();
    if (g == null) {
      return;
    }
    long now = leaseClock.millis();
    Set<String> current = new HashSet<>();
    for (ClusterMember m : routing.members()) {
      current.add(m.name());
    }
    seen.addAll(current);
    for (Map.Entry<Integer, PartitionStateMachine> e : g.machines(LockMachine.NAME).entrySet()) {
      int p = e.getKey();
      LockMachine m = (LockMachine) e.getValue();
      // Read without a query: a partition without locks or waiters costs nothing here.
      if (m.nextDeadlineMs() == Long.MAX_VALUE || !g.leads(p)) {
        continue;
      }
      // Whoever leads now ends the leases of nodes that left, even if they left before.
      for (String node : m.holderNodes()) {
        String key = p + "/" + node;
        if (seen.contains(node) && !current.contains(node) && releasing.add(key)) {
          propose(g, p, LockMachine.releaseNode(node, now))
              .onComplete(ar -> releasing.remove(key));
        }
      }
      if (m.nextDeadlineMs() <= now && ticking.add(p)) {
        propose(g, p, LockMachine.tick(now)).onComplete(ar -> ticking.remove(p));
      }
    }
    for (Map.Entry<String, Pending> e : new ArrayList<>(pending.entrySet())) {
      int p = e.getValue().partition();
      String leader = g.leaderOf(p);
      if (!routing.nodeName().equals(leader)) {
        pending.remove(e.getKey());
        vertx.cancelTimer(e.getValue().timer());
        e.getValue().promise().tryFail(Failure.notLeader("node " + routing.nodeName()
            + " no longer leads the partition of lock '" + e.getValue().name() + "'", leader));
      }
    }
  }

  private void refreshHeld() {
    PartitionGroups g = groups.get();
    if (g == null) {
      return;
    }
    long now = leaseClock.millis();
    long count = 0;
    List<Future<List<LockMachine.Info>>> parts = new ArrayList<>();
    for (Map.Entry<Integer, PartitionStateMachine> e : g.machines(LockMachine.NAME).entrySet()) {
      int p = e.getKey();
      int heldHere = ((LockMachine) e.getValue()).heldCount();
      if (heldHere > 0 && g.leads(p)) {
        count += heldHere;
        parts.add(g.query(p, MachineSet.frame(LockMachine.NAME,
            LockMachine.held(HELD_LISTED_MAX, now)), true)
            .map(LockMachine::decodeHeld));
      }
    }
    long total = count;
    Future.join(parts).onComplete(ar -> {
      // The first names of each partition, merged: the first names of all.
      TreeMap<String, LockMachine.Info> sorted = new TreeMap<>();
      for (Future<List<LockMachine.Info>> f : parts) {
        if (f.succeeded()) {
          for (LockMachine.Info i : f.result()) {
            sorted.put(i.name(), i);
            if (sorted.size() > HELD_LISTED_MAX) {
              sorted.pollLastEntry();
            }
          }
        }
      }
      List<Object> listed = new ArrayList<>();
      sorted.values().forEach(i -> listed.add(infoJson(i)));
      held = new Held(total, new JsonArray(listed));
    });
  }
}
