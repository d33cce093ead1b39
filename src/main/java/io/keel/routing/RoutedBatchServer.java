package io.keel.routing;

import io.keel.bus.BinaryJsonCodec;
import io.keel.bus.Failure;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The receiving side of batched routed requests ({@link RoutedBatches}): serves each item of a
 * batch as a routed request of its own, and answers them in as few messages as it can without
 * making a fast item wait for a slow one.
 *
 * <p>The first items to complete, and every item that completes in the same turn of the event
 * loop, are the batch's reply; the later ones go to the sender's answers address, in one
 * message per turn with those of every other batch of that sender. A batch of lease reads is
 * thus answered by one message, and the writes of many batches that commit together by
 * another.
 */
final class RoutedBatchServer {
  private final Vertx vertx;
  private final Function<JsonObject, Future<JsonObject>> serve;
  // By sender's answers address.
  private final Map<String, Late> lateAnswers = new ConcurrentHashMap<>();

  /**
   * A server that serves each item (a routed envelope with {@code service}, {@code key},
   * {@code epoch} and {@code body}) with {@code serve}.
   */
  RoutedBatchServer(Vertx vertx, Function<JsonObject, Future<JsonObject>> serve) {
    this.vertx = vertx;
    this.serve = serve;
  }

  /** Serves the batch {@code msg}; any thread may complete its items. */
  void handle(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    JsonArray items = body == null ? null : body.getJsonArray("items");
    String answers = body == null ? null : body.getString("answers");
    if (items == null || answers == null) {
      Failure.BAD_REQUEST.fail(msg, "a batch of routed requests needs 'answers' and 'items'");
      return;
    }
    Answers out = new Answers(msg, answers, Vertx.currentContext());
    for (int i = 0; i < items.size(); i++) {
      JsonObject item = items.getJsonObject(i);
      long id = item.getLong("id", -1L);
      Future<JsonObject> served;
      try {
        served = serve.apply(item);
      } catch (Throwable e) {
        served = Future.failedFuture(e);
      }
      served.onComplete(ar -> out.add(answer(id, ar)));
    }
  }

  private static JsonObject answer(long id, AsyncResult<JsonObject> ar) {
    JsonObject a = new JsonObject().put("id", id);
    if (ar.succeeded()) {
      return a.put("body", ar.result() == null ? new JsonObject() : ar.result());
    }
    Failure f = Failure.of(ar.cause());
    return f != null ? a.put("code", f.code()).put("message", ar.cause().getMessage())
        : a.put("code", Failure.UNAVAILABLE.code()).put("message",
            Failure.UNAVAILABLE.message(String.valueOf(ar.cause().getMessage())));
  }

  /** Sends {@code answer} to {@code address} with the others of this turn for that sender. */
  private void late(String address, Context context, JsonObject answer) {
    while (true) {
      Late l = lateAnswers.computeIfAbsent(address, a -> new Late(a, context));
      if (l.add(answer)) {
        return;
      }
      lateAnswers.remove(address, l); // just sent: a fresh one takes it
    }
  }

  /** The answers of one batch not sent yet, and whether its reply has gone. */
  private final class Answers {
    private final Message<JsonObject> request;
    private final String address;
    private final Context context;
    // Guarded by this.
    private List<JsonObject> ready = new ArrayList<>();
    private boolean flushScheduled;
    private boolean replied;

    Answers(Message<JsonObject> request, String address, Context context) {
      this.request = request;
      this.address = address;
      this.context = context;
    }

    void add(JsonObject answer) {
      boolean isLate;
      boolean schedule = false;
      synchronized (this) {
        isLate = replied;
        if (!isLate) {
          ready.add(answer);
          schedule = !flushScheduled;
          flushScheduled = true;
        }
      }
      if (isLate) {
        late(address, context, answer);
      } else if (schedule) {
        context.runOnContext(v -> reply());
      }
    }

    private void reply() {
      List<JsonObject> out;
      synchronized (this) {
        out = ready;
        ready = null;
        replied = true;
      }
      request.reply(new JsonObject().put("answers", new JsonArray(out)),
          BinaryJsonCodec.options());
    }
  }

  /**
   * The answers for one sender that came after their batches' replies, sent once per turn:
   * many writes of many batches commit in the same turn.
   */
  private final class Late {
    private final String address;
    private final Context context;
    // Guarded by this; once sent, this one takes no more.
    private final List<JsonObject> ready = new ArrayList<>();
    private boolean scheduled;
    private boolean sent;

    Late(String address, Context context) {
      this.address = address;
      this.context = context;
    }

    /** Adds {@code answer}; false when this one has been sent already. */
    boolean add(JsonObject answer) {
      boolean schedule;
      synchronized (this) {
        if (sent) {
          return false;
        }
        ready.add(answer);
        schedule = !scheduled;
        scheduled = true;
      }
      if (schedule) {
        context.runOnContext(v -> send());
      }
      return true;
    }

    private void send() {
      synchronized (this) {
        sent = true;
      }
      lateAnswers.remove(address, this);
      vertx.eventBus().send(address, new JsonObject().put("answers", new JsonArray(ready)),
          BinaryJsonCodec.options());
    }
  }
}
