package io.keel.routing;

import io.keel.bus.Addresses;
import io.keel.bus.BinaryJsonCodec;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sending side of batched routed requests: requests for one node's replicated services that
 * are made in one turn of an event loop leave together, as one event-bus message.
 *
 * <p>Implementation notes. Each event-bus message costs both ends a socket write, a wake-up and
 * the framing around it, whatever it carries: with 64 gets in flight, that cost, not the map,
 * was most of a node's work. So a request is queued for its target node, and the first one
 * queued schedules a flush on the caller's context; every request queued before the flush runs
 * (the rest of that turn: a closed loop answering 20 replies sends 20 requests) leaves in the
 * same batch, in the order queued. The target answers with every item that completed by the end
 * of the turn in which its first one did ({@link RoutedBatchServer}); items that take longer
 * (a write waiting for its commit, a lock acquire waiting its turn) come later to this
 * instance's answers address, so that a slow item never holds back a fast one. A request whose
 * answer never comes fails at its own deadline (checked every {@link #SWEEP_MS}) with a
 * {@code TIMEOUT} reply failure, as an event-bus request would; a batch the target cannot take
 * (no handler, no answer) fails every item in it with that failure. Each answer completes its
 * request on the caller's context. Batches and their answers cross in binary form
 * ({@link BinaryJsonCodec}), not as JSON text.
 */
final class RoutedBatches {
  // Bounds on one batch message: past either, the rest waits for the next flush.
  static final int ITEMS_MAX = 128;
  static final int BYTES_MAX = 256 * 1024;
  // How often requests are checked against their deadlines: a timeout is this much late at most.
  private static final long SWEEP_MS = 50;

  private final Vertx vertx;
  private final Context fallback;
  private final String answers = Addresses.routedAnswers(UUID.randomUUID().toString());
  private final AtomicLong ids = new AtomicLong();
  // Invariant: a request is here from the moment its batch leaves until it is answered or fails.
  private final Map<Long, Item> waiting = new ConcurrentHashMap<>();
  private final Map<String, Outbox> outboxes = new ConcurrentHashMap<>();
  private MessageConsumer<JsonObject> consumer;
  private long sweeper;

  /** One request: its message (the routed envelope) and who waits for it. */
  private static final class Item {
    final long id;
    final JsonObject message;
    final int bytes;
    final Context context;
    final Promise<JsonObject> promise = Promise.promise();
    final long deadlineMs;

    Item(long id, JsonObject message, int bytes, Context context, long deadlineMs) {
      this.id = id;
      this.message = message;
      this.bytes = bytes;
      this.context = context;
      this.deadlineMs = deadlineMs;
    }
  }

  /** The requests queued for one target node and not yet sent. */
  private final class Outbox {
    final String target;
    // Guarded by this.
    final List<Item> queued = new ArrayList<>();
    boolean flushScheduled;

    Outbox(String target) {
      this.target = target;
    }

    void add(Item item) {
      boolean schedule;
      synchronized (this) {
        queued.add(item);
        schedule = !flushScheduled;
        flushScheduled = true;
      }
      if (schedule) {
        (item.context != null ? item.context : fallback).runOnContext(v -> flush());
      }
    }

    void flush() {
      List<Item> batch = new ArrayList<>();
      boolean more;
      synchronized (this) {
        int bytes = 0;
        int n = 0;
        while (n < queued.size() && n < ITEMS_MAX
            && (n == 0 || bytes + queued.get(n).bytes <= BYTES_MAX)) {
          bytes += queued.get(n).bytes;
          n++;
        }
        batch.addAll(queued.subList(0, n));
        queued.subList(0, n).clear();
        more = !queued.isEmpty();
        flushScheduled = more;
      }
      if (more) {
        Context here = Vertx.currentContext();
        (here != null ? here : fallback).runOnContext(v -> flush());
      }
      send(target, batch);
    }
  }

  RoutedBatches(Vertx vertx, Context fallback) {
    this.vertx = vertx;
    this.fallback = fallback;
  }

  /** Starts hearing late answers; completes once other nodes can reach this instance. */
  Future<Void> start() {
    consumer = vertx.eventBus().consumer(answers, msg -> deliver(msg.body()));
    sweeper = vertx.setPeriodic(SWEEP_MS, id -> sweep());
    return consumer.completion();
  }

  /** Stops hearing late answers; requests still waiting fail now. */
  Future<Void> stop() {
    if (consumer == null) {
      return Future.succeededFuture();
    }
    vertx.cancelTimer(sweeper);
    waiting.values().forEach(item -> fail(item, new ReplyException(ReplyFailure.TIMEOUT,
        "Stopped waiting for an answer to batched request " + item.id)));
    return consumer.unregister();
  }

  /**
   * Sends the routed envelope {@code message} ({@code {key, epoch, body}}) for {@code service}
   * to {@code target} in the next batch; answers as an event-bus request to the service's shard
   * address would ({@link ReplyException}s included), within {@code timeoutMs}. {@code bytes}
   * is about how large the message is, to bound a batch.
   */
  Future<JsonObject> request(String target, String service, JsonObject message, int bytes,
      long timeoutMs) {
    long id = ids.incrementAndGet();
    Item item = new Item(id, message.put("id", id).put("service", service), bytes,
        Vertx.currentContext(), System.currentTimeMillis() + timeoutMs);
    outboxes.computeIfAbsent(target, Outbox::new).add(item);
    return item.promise.future();
  }

  private void send(String target, List<Item> batch) {
    JsonArray items = new JsonArray(new ArrayList<>(batch.size()));
    long deadline = 0;
    for (Item item : batch) {
      waiting.put(item.id, item);
      items.add(item.message);
      deadline = Math.max(deadline, item.deadlineMs);
    }
    long timeout = Math.max(1, deadline - System.currentTimeMillis());
    vertx.eventBus().<JsonObject>request(Addresses.routedBatch(target),
        new JsonObject().put("answers", answers).put("items", items),
        BinaryJsonCodec.options().setSendTimeout(timeout)).onComplete(ar -> {
          if (ar.failed()) {
            batch.forEach(item -> fail(item, ar.cause()));
            return;
          }
          deliver(ar.result().body());
        });
  }

  /** Fails every request past its deadline with a timeout, as an event-bus request would. */
  private void sweep() {
    long now = System.currentTimeMillis();
    for (Item item : waiting.values()) {
      if (item.deadlineMs <= now) {
        fail(item, new ReplyException(ReplyFailure.TIMEOUT, "Timed out waiting for an answer"
            + " to batched request " + item.id));
      }
    }
  }

  private void fail(Item item, Throwable cause) {
    if (waiting.remove(item.id, item)) {
      if (item.context == null || item.context == Vertx.currentContext()) {
        complete(item, null, cause);
      } else {
        item.context.runOnContext(v -> complete(item, null, cause));
      }
    }
  }

  /**
   * Completes the requests {@code body} answers ({@code {answers: [{id, body} | {id, code,
   * message}]}}): those of the current context at once, the others on their own contexts, one
   * task per context.
   */
  private void deliver(JsonObject body) {
    JsonArray answered = body == null ? null : body.getJsonArray("answers");
    if (answered == null) {
      return;
    }
    Context here = Vertx.currentContext();
    Map<Context, List<Runnable>> elsewhere = null;
    for (int i = 0; i < answered.size(); i++) {
      JsonObject a = answered.getJsonObject(i);
      Item item = waiting.remove(a.getLong("id", -1L));
      if (item == null) {
        continue;
      }
      JsonObject result = a.getJsonObject("body");
      Throwable cause = result != null ? null : new ReplyException(
          ReplyFailure.RECIPIENT_FAILURE, a.getInteger("code", -1), a.getString("message"));
      if (item.context == null || item.context == here) {
        complete(item, result, cause);
      } else {
        if (elsewhere == null) {
          elsewhere = new IdentityHashMap<>();
        }
        elsewhere.computeIfAbsent(item.context, c -> new ArrayList<>())
            .add(() -> complete(item, result, cause));
      }
    }
    if (elsewhere != null) {
      elsewhere.forEach((context, tasks) -> context.runOnContext(v -> tasks.forEach(
          Runnable::run)));
    }
  }

  private static void complete(Item item, JsonObject result, Throwable cause) {
    if (cause == null) {
      item.promise.complete(result);
    } else {
      item.promise.fail(cause);
    }
  }
}
