package io.keel.status;

import io.keel.KeelOptions;
import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.locks.LockService;
import io.keel.map.MapVerticle;
import io.keel.routing.Routing;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.io.InputStream;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's status over HTTP and the event bus: {@code GET /status}, {@code /health/live},
 * {@code /health/ready}, the WebSocket feed {@code /status/feed} (a snapshot, then events with
 * sequence numbers) and the dashboard at {@code /}; {@code keel.status} on the event bus.
 *
 * <p>A feed message is the snapshot, or one or more events, one JSON object per line: events
 * that come within {@link #FEED_BATCH_MS} of the last message wait for it to pass and go
 * together. A feed subscriber whose socket cannot keep up (its write queue is full) is disconnected
 * rather than buffered without bound; it reconnects and gets a new snapshot.
 *
 * <p>With {@link KeelOptions#getHttpToken()} set, every request, WebSocket upgrades included,
 * must carry the token ({@link BearerToken}) or gets 401 before any route sees it. The feed
 * ignores what clients send, but a bad frame, a message over 64 KiB or text that is not UTF-8
 * closes that one connection ({@link ClientFrames}); the others go on.
 */
public final class StatusVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(StatusVerticle.class);
  private static final int RECENT_EVENTS_MAX = 256;
  private static final int WRITE_QUEUE_BYTES_MAX = 1 << 20;
  /**
   * Events that come faster than one per this many ms go out together, one per line of one
   * message: a write per subscriber per event would be a system call each, and a hundred
   * subscribers at a thousand events a second would take the event loop whole.
   */
  static final long FEED_BATCH_MS = 10;
  /** The largest frame, and message, a feed client may send (it has nothing to send). */
  private static final int CLIENT_MESSAGE_BYTES_MAX = 64 * 1024;
  private static final String UNAUTHORIZED = new JsonObject().put("error", "UNAUTHORIZED")
      .put("code", 401).put("message", "UNAUTHORIZED: this node asks for its bearer token, as"
          + " 'Authorization: Bearer TOKEN' or ?access_token=TOKEN").encode();

  private final KeelOptions options;
  private final Routing routing;
  private final Supplier<JsonObject> recovery;
  private final Supplier<LockService.Held> locks;
  private final MapVerticle maps;
  private final KeelMetrics metrics;
  private final EventFeed feed = new EventFeed(RECENT_EVENTS_MAX, FEED_BATCH_MS);
  private final Set<ServerWebSocket> subscribers = new LinkedHashSet<>();
  private final long startedAtMs = System.currentTimeMillis();
  private volatile int actualPort = -1;
  private Buffer dashboard;
  private long slowDisconnects;
  private final Set<String> schemaWarned = new HashSet<>();
  private long flushTimer = -1;

  /**
   * A status verticle showing {@code routing}'s node; {@code recovery} supplies the
   * {@code recovery} part of the status, whose {@code phase} must be {@code catching-up} or
   * {@code active} (its groups run), or {@code none} (nodes without a log), for the node to be
   * ready; {@code locks} supplies the held locks of the partitions this node leads;
   * {@code maps} serves the map routes and counts this node's map entries; {@code metrics} is
   * what {@code GET /metrics} shows.
   */
  public StatusVerticle(KeelOptions options, Routing routing, Supplier<JsonObject> recovery,
      Supplier<LockService.Held> locks, MapVerticle maps, KeelMetrics metrics) {
    this.locks = locks;
    this.metrics = metrics;
    this.maps = maps;
    this.options = new KeelOptions(options);
    this.routing = routing;
    this.recovery = recovery;
  }

  /** The HTTP port bound, or -1 when HTTP is off or not started. */
  public int actualPort() {
    return actualPort;
  }

  @Override
  public Future<?> start() throws IOException {
    dashboard = loadDashboard();
    MessageConsumer<JsonObject> events =
        vertx.eventBus().localConsumer(Addresses.EVENTS, m -> onEvent(m.body()));
    MessageConsumer<JsonObject> any =
        vertx.eventBus().consumer(Addresses.STATUS, m -> m.reply(document()));
    MessageConsumer<JsonObject> mine = vertx.eventBus()
        .consumer(Addresses.status(routing.nodeName()), m -> m.reply(document()));
    Future<?> consumers = Future.all(events.completion(), any.completion(), mine.completion());
    if (options.getHttpPort() < 0) {
      return consumers;
    }
    // Outgoing messages are split into frames of the same size. No compression: clients send
    // nothing worth it, and an inflated frame could be far larger than its wire size.
    HttpServer server = vertx.createHttpServer(new HttpServerOptions()
        .setHost(options.getHttpHost()).setPort(options.getHttpPort())
        .setMaxWebSocketFrameSize(CLIENT_MESSAGE_BYTES_MAX)
        .setMaxWebSocketMessageSize(CLIENT_MESSAGE_BYTES_MAX)
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false));
    Router router = router();
    String token = options.getHttpToken();
    if (token == null) {
      server.requestHandler(router);
      if (!loopback(options.getHttpHost())) {
        log.warn("node {}: HTTP on {} without a token: whoever reaches it can take locks and"
            + " write maps; set httpToken or KEEL_HTTP_TOKEN", routing.nodeName(),
            options.getHttpHost());
      }
    } else {
      BearerToken check = new BearerToken(token);
      server.requestHandler(req -> authorize(check, req, router));
    }
    return consumers.compose(v -> server.listen()).map(s -> {
      actualPort = s.actualPort();
      return s;
    });
  }

  private Router router() {
    Router router = Router.router(vertx);
    router.get("/status").handler(rc -> json(rc, 200, document()));
    router.get("/metrics").handler(rc -> rc.response()
        .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
        .end(metrics.scrape()));
    router.get("/health/live").handler(rc -> json(rc, 200, new JsonObject().put("status", "UP")));
    router.get("/health/ready").handler(rc -> {
      boolean ready = StatusDocument.ready(routing.nodeName(), options.getRole(), routing.table(),
          recovery.get());
      json(rc, ready ? 200 : 503, new JsonObject().put("status", ready ? "UP" : "DOWN")
          .put("epoch", routing.table().epoch()));
    });
    router.get("/v1/ring/owner").handler(rc -> {
      String key = rc.request().getParam("key");
      if (key == null || key.isEmpty()) {
        json(rc, Failure.BAD_REQUEST.code(), error(Failure.BAD_REQUEST,
            "query parameter 'key' is missing"));
      } else {
        json(rc, 200, routing.owner(key).toJson());
      }
    });
    router.post("/v1/locks/:name/*").handler(BodyHandler.create()
        .setBodyLimit(options.getHttpBodyBytesMax()));
    router.post("/v1/locks/:name/acquire").handler(rc -> lockCall(rc, Addresses.LOCK_ACQUIRE));
    router.post("/v1/locks/:name/renew").handler(rc -> lockCall(rc, Addresses.LOCK_RENEW));
    router.post("/v1/locks/:name/release").handler(rc -> lockCall(rc, Addresses.LOCK_RELEASE));
    router.get("/v1/locks/:name").handler(rc -> lockCall(rc, Addresses.LOCK_INFO));
    router.route("/v1/maps/:map/:key").handler(BodyHandler.create().setBodyLimit(
        options.getMap().getValueBytesMax() + (long) options.getHttpBodyBytesMax()));
    router.get("/v1/maps/:map/:key").handler(rc -> mapCall(rc, "get"));
    router.put("/v1/maps/:map/:key").handler(rc -> mapCall(rc, "put"));
    router.delete("/v1/maps/:map/:key").handler(rc -> mapCall(rc, "delete"));
    router.get("/status/feed").handler(rc -> rc.request().toWebSocket()
        .onSuccess(this::onWebSocket)
        .onFailure(t -> log.debug("node {}: feed upgrade failed: {}", routing.nodeName(), t)));
    // The page may be opened with ?access_token=…: no referrer carries its URL anywhere.
    router.get("/").handler(rc -> rc.response()
        .putHeader("content-type", "text/html; charset=utf-8")
        .putHeader("referrer-policy", "no-referrer")
        .putHeader("cache-control", "no-store").end(dashboard));
    return router;
  }

  /**
   * Passes {@code req} to the router if it carries the token; else answers 401 with
   * {@code WWW-Authenticate: Bearer} and nothing else happens (a WebSocket is not upgraded).
   */
  private void authorize(BearerToken check, HttpServerRequest req, Router router) {
    String param;
    try {
      param = req.getParam("access_token");
    } catch (RuntimeException e) {
      param = null; // a query string that does not decode carries no token
    }
    BearerToken.Verdict verdict = check.check(req.getHeader(HttpHeaders.AUTHORIZATION), param);
    if (verdict == BearerToken.Verdict.ADMITTED) {
      router.handle(req);
      return;
    }
    log.debug("node {}: refused {} {} from {}: {} token", routing.nodeName(), req.method(),
        req.path(), req.remoteAddress(), verdict == BearerToken.Verdict.MISSING ? "no" : "a wrong");
    req.response().setStatusCode(401)
        .putHeader("WWW-Authenticate", verdict == BearerToken.Verdict.MISSING
            ? "Bearer realm=\"keel\"" : "Bearer realm=\"keel\", error=\"invalid_token\"")
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store").end(UNAUTHORIZED);
  }

  private static boolean loopback(String host) {
    return host.startsWith("127.") || host.equals("localhost") || host.equals("::1")
        || host.equals("[::1]");
  }

  private void onWebSocket(ServerWebSocket ws) {
    ws.setWriteQueueMaxSize(WRITE_QUEUE_BYTES_MAX);
    // The snapshot covers every event stamped so far: those still waiting go out first, to
    // the others, so that this subscriber's first event follows its snapshot.
    flush();
    subscribers.add(ws);
    ws.closeHandler(v -> subscribers.remove(ws));
    ws.exceptionHandler(t -> {
      log.debug("node {}: feed socket failed: {}", routing.nodeName(), t.toString());
      subscribers.remove(ws);
    });
    ClientFrames rules = new ClientFrames(CLIENT_MESSAGE_BYTES_MAX);
    ws.frameHandler(frame -> onClientFrame(ws, rules, frame));
    JsonObject snapshot = new JsonObject().put("type", "snapshot").put("seq", feed.seq())
        .put("time", System.currentTimeMillis()).put("status", document())
        .put("recent", new JsonArray(feed.recent()));
    ws.writeTextMessage(snapshot.encode());
  }

  /** A frame from a subscriber: ignored if it keeps to the rules, else its connection ends. */
  private void onClientFrame(ServerWebSocket ws, ClientFrames rules, WebSocketFrame frame) {
    // A closing socket (its close frame comes here too) answers nothing about its queue.
    if (!subscribers.contains(ws) || ws.isClosed() || frame.isClose()) {
      return;
    }
    if (ws.writeQueueFull()) {
      // It sends (pings, say) but does not read what it is sent back.
      disconnectSlow(ws);
      return;
    }
    ClientFrames.Kind kind = frame.isText() ? ClientFrames.Kind.TEXT
        : frame.isBinary() ? ClientFrames.Kind.BINARY
        : frame.isContinuation() ? ClientFrames.Kind.CONTINUATION : null;
    if (kind == null) {
      return;
    }
    ClientFrames.Close close = rules.accept(kind, frame.isFinal(), frame.binaryData().getBytes());
    if (close != null) {
      log.debug("node {}: feed subscriber {} closed: {}", routing.nodeName(), ws.remoteAddress(),
          close.reason());
      subscribers.remove(ws);
      ws.close(close.code(), close.reason());
    }
  }

  private void disconnectSlow(ServerWebSocket ws) {
    slowDisconnects++;
    metrics.slowDisconnect();
    log.info("node {}: feed subscriber {} too slow, disconnected ({} so far)",
        routing.nodeName(), ws.remoteAddress(), slowDisconnects);
    subscribers.remove(ws);
    ws.close((short) 1008, "too slow: reconnect for a new snapshot");
  }

  private void onEvent(JsonObject event) {
    JsonObject stamped = feed.stamp(event, System.currentTimeMillis());
    metrics.onEvent(stamped);
    List<String> wrong = FeedSchema.violations(stamped);
    if (!wrong.isEmpty() && schemaWarned.add(stamped.getString("type", ""))) {
      log.warn("node {}: a feed event does not match the documented schema: {} ({})",
          routing.nodeName(), wrong, stamped.encode());
    }
    if (flushTimer >= 0) {
      return;
    }
    long inMs = feed.sendInMs(System.currentTimeMillis());
    if (inMs == 0) {
      flush();
    } else {
      flushTimer = vertx.setTimer(inMs, id -> {
        flushTimer = -1;
        flush();
      });
    }
  }

  /**
   * Sends the events stamped since the last flush, one per line, as one message to every
   * subscriber: at most one write per subscriber per {@link #FEED_BATCH_MS}, whatever the rate.
   */
  private void flush() {
    String text = feed.take(System.currentTimeMillis());
    if (text == null) {
      return;
    }
    for (ServerWebSocket ws : Set.copyOf(subscribers)) {
      if (ws.isClosed()) {
        subscribers.remove(ws); // its close handler has not run yet
      } else if (ws.writeQueueFull()) {
        disconnectSlow(ws);
      } else {
        ws.writeTextMessage(text);
      }
    }
  }

  private JsonObject document() {
    LockService.Held held = locks.get();
    return StatusDocument.build(routing.nodeName(), options, routing.members(), routing.table(),
        recovery.get(), held.listed(), startedAtMs, System.currentTimeMillis())
        .put("tableCurrent", routing.tableCurrent())
        .put("locksHeld", held.count())
        .put("map", maps.stats())
        .put("feed", new JsonObject().put("seq", feed.seq())
            .put("subscribers", subscribers.size()).put("slowDisconnects", slowDisconnects));
  }

  /**
   * The lock's {@code keel.lock.*} request over HTTP: the JSON body's fields (none for a GET)
   * and the name from the path; the reply, or the failure's code as the HTTP status.
   */
  private void lockCall(RoutingContext rc, String address) {
    JsonObject body;
    try {
      String text = rc.body() == null ? null : rc.body().asString();
      body = text == null || text.isBlank() ? new JsonObject() : new JsonObject(text);
    } catch (RuntimeException e) {
      json(rc, Failure.BAD_REQUEST.code(), error(Failure.BAD_REQUEST,
          "the body must be a JSON object"));
      return;
    }
    body.put("name", rc.pathParam("name"));
    long wait = body.getValue("waitMs") instanceof Number n ? n.longValue() : 0;
    // This node's own lock service, so that an HTTP caller's wait dies only with this node.
    vertx.eventBus().<JsonObject>request(address, body, new io.vertx.core.eventbus
        .DeliveryOptions().setLocalOnly(true)
        .setSendTimeout(options.getRouteTimeoutMs() + wait + 1_000))
        .onSuccess(reply -> json(rc, 200, reply.body()))
        .onFailure(t -> failed(rc, t));
  }

  /**
   * A {@code keel.map.*} request over HTTP: map and key from the path; for a put or delete the
   * JSON body's fields ({@code value}, {@code expectVersion}, {@code fence}, {@code requestId});
   * for a get, {@code ?stale=true}. The version travels as an {@code ETag}; {@code If-Match}
   * sets {@code expectVersion}, and {@code If-None-Match: *} makes a put only-if-absent. A get of
   * an absent key answers 404 with {@code {found: false}}.
   */
  private void mapCall(RoutingContext rc, String op) {
    JsonObject body;
    try {
      String text = "get".equals(op) || rc.body() == null ? null : rc.body().asString();
      body = text == null || text.isBlank() ? new JsonObject() : new JsonObject(text);
      String ifMatch = rc.request().getHeader("If-Match");
      if (ifMatch != null) {
        body.put("expectVersion", Long.parseLong(ifMatch.replace("W/", "").replace("\"", "")
            .trim()));
      }
      if ("*".equals(rc.request().getHeader("If-None-Match")) && "put".equals(op)) {
        body.put("expectVersion", 0L);
      }
    } catch (RuntimeException e) {
      json(rc, Failure.BAD_REQUEST.code(), error(Failure.BAD_REQUEST, "the body must be a JSON"
          + " object and If-Match a version number"));
      return;
    }
    body.put("map", rc.pathParam("map")).put("key", rc.pathParam("key"));
    if ("get".equals(op)) {
      body.put("stale", "true".equals(rc.request().getParam("stale")));
    }
    maps.handle(op, body).onSuccess(reply -> {
      long version = reply.getLong("version", 0L);
      if (version > 0) {
        rc.response().putHeader("ETag", "\"" + version + "\"");
      }
      json(rc, "get".equals(op) && !reply.getBoolean("found") ? Failure.NOT_FOUND.code() : 200,
          reply);
    }).onFailure(t -> failed(rc, t));
  }

  /** A failure's code as the HTTP status, with {@code {error, code, message}}. */
  private static void failed(RoutingContext rc, Throwable t) {
    Failure f = Failure.of(t);
    if (f == null && t instanceof io.vertx.core.eventbus.ReplyException re) {
      f = re.failureType() == io.vertx.core.eventbus.ReplyFailure.TIMEOUT
          ? Failure.TIMEOUT : Failure.UNAVAILABLE;
    }
    json(rc, f == null ? 500 : f.code(), new JsonObject()
        .put("error", f == null ? "INTERNAL" : f.name())
        .put("code", f == null ? 500 : f.code()).put("message", t.getMessage()));
  }

  private static JsonObject error(Failure failure, String sentence) {
    return new JsonObject().put("error", failure.name()).put("code", failure.code())
        .put("message", failure.message(sentence));
  }

  private static void json(RoutingContext rc, int status, JsonObject body) {
    rc.response().setStatusCode(status).putHeader("content-type", "application/json")
        .end(body.encode());
  }

  private static Buffer loadDashboard() throws IOException {
    try (InputStream in = StatusVerticle.class.getResourceAsStream("dashboard.html")) {
      if (in == null) {
        throw new IOException("dashboard.html is missing from the class path");
      }
      return Buffer.buffer(in.readAllBytes());
    }
  }
}
