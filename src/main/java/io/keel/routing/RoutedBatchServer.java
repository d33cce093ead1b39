package io.keel.routing;

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
import java.util.function.Function;

/**
 * The receiving side of batched routed requests ({@link RoutedBatches}): serves each item of a
 * batch as a routed request of its own, and answers them in as few messages as it can without
 * making a fast item wait for a slow one.
 *
 * <p>The first items to complete, and every item that completes in the same turn of the event
 * loop, are the batch's reply; each later group goes to the sender's answers address, one
 * message per turn in which items completed. A batch of lease reads is thus answered by one
 * message, and a write waiting for its commit by a message of its own, when it commits.
 */
final class RoutedBatchServer {
  private final Vertx vertx;
  private final Function<JsonObject, Future<JsonObject>> serve;

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
      boolean schedule;
      synchronized (this) {
        ready.add(answer);
        schedule = !flushScheduled;
        flushScheduled = true;
      }
      if (schedule) {
        context.runOnContext(v -> flush());
      }
    }

    private void flush() {
      List<JsonObject> out;
      boolean first;
      synchronized (this) {
        out = ready;
        ready = new ArrayList<>();
        flushScheduled = false;
        first = !replied;
        replied = true;
      }
      JsonObject body = new JsonObject().put("answers", new JsonArray(out));
      if (first) {
        request.reply(body);
      } else {
        vertx.eventBus().send(address, body);
      }
    }
  }
}
