package io.keel.bench;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * One node's {@code /status/feed}, followed from a benchmark: the events it sends, kept with
 * the node's name; reconnected when the node drops a subscriber that fell behind (close code
 * 1008), taking the missed events from the new snapshot's {@code recent} list when it still
 * has them, and counting those it no longer has (the sequence numbers are consecutive).
 * Callbacks run on one event loop of {@code vertx}.
 */
final class StatusFeed implements AutoCloseable {
  private final Vertx vertx;
  private final WebSocketClient client;
  private final String node;
  private final int port;
  private final List<JsonObject> events = new CopyOnWriteArrayList<>();
  private volatile WebSocket socket;
  private volatile boolean closed;
  private volatile long lastSeq = -1;
  private volatile long missed;
  private volatile int reconnects;

  private StatusFeed(Vertx vertx, String node, int port) {
    this.vertx = vertx;
    this.node = node;
    this.port = port;
    this.client = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setMaxMessageSize(64 << 20).setMaxFrameSize(1 << 20));
  }

  /** Follows node {@code node}'s feed on HTTP port {@code port}. */
  static StatusFeed follow(Vertx vertx, String node, int port) throws Exception {
    StatusFeed f = new StatusFeed(vertx, node, port);
    f.connect().await(10, TimeUnit.SECONDS);
    return f;
  }

  private io.vertx.core.Future<WebSocket> connect() {
    return client.connect(port, "127.0.0.1", "/status/feed").onSuccess(ws -> {
      socket = ws;
      ws.textMessageHandler(this::onText);
      ws.closeHandler(v -> {
        if (!closed) {
          reconnects++;
          vertx.setTimer(100, id -> connect().onFailure(t -> missed = -1));
        }
      });
    });
  }

  /** A feed message: the snapshot, or events one JSON object per line. */
  private void onText(String text) {
    for (String line : text.split("\n")) {
      onEvent(line);
    }
  }

  private void onEvent(String text) {
    JsonObject e = new JsonObject(text);
    long seq = e.getLong("seq", -1L);
    if ("snapshot".equals(e.getString("type"))) {
      JsonArray recent = e.getJsonArray("recent", new JsonArray());
      long oldest = Long.MAX_VALUE;
      for (Object o : recent) {
        JsonObject r = (JsonObject) o;
        oldest = Math.min(oldest, r.getLong("seq", Long.MAX_VALUE));
        if (lastSeq >= 0 && r.getLong("seq", -1L) > lastSeq) {
          add(r);
        }
      }
      if (lastSeq >= 0 && seq > lastSeq && oldest > lastSeq + 1) {
        missed += Math.min(seq, oldest - 1) - lastSeq;
      }
      lastSeq = Math.max(lastSeq, seq);
      return;
    }
    if (lastSeq >= 0 && seq > lastSeq + 1) {
      missed += seq - lastSeq - 1;
    }
    lastSeq = Math.max(lastSeq, seq);
    add(e);
  }

  private void add(JsonObject e) {
    events.add(e.copy().put("node", e.getString("node", node)));
  }

  /** The events of type {@code type} stamped at or after {@code fromMs} (the node's clock). */
  List<JsonObject> events(String type, long fromMs) {
    return events.stream().filter(e -> type.equals(e.getString("type"))
        && e.getLong("time", 0L) >= fromMs).toList();
  }

  /** How many times the node dropped this subscriber, and how many events were lost for good. */
  String health() {
    return node + ": " + reconnects + " reconnect(s), " + (missed < 0 ? "a reconnect failed"
        : missed + " event(s) missed");
  }

  @Override
  public void close() {
    closed = true;
    WebSocket ws = socket;
    if (ws != null) {
      ws.close();
    }
  }
}
