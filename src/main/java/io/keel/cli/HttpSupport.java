package io.keel.cli;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One operator command's connection to a node: a small non-clustered Vert.x of its own, an HTTP
 * client for JSON {@code GET}s and a WebSocket client for the feed, every request carrying
 * {@code Authorization: Bearer TOKEN} when a token is given. {@link #close()} closes the Vert.x.
 *
 * <p>Failures come back as {@link CliFailure}s whose message names the URL and the cause.
 */
final class HttpSupport implements AutoCloseable {
  static final int CONNECT_TIMEOUT_MS = 5_000;
  static final long IDLE_TIMEOUT_MS = 15_000;
  static final long CLOSE_WAIT_MS = 10_000;
  /** A snapshot carries the whole status and recent events: far more than one 64 KiB frame. */
  static final int FEED_MESSAGE_BYTES_MAX = 64 << 20;

  private final Vertx vertx;
  private final NodeUrl url;
  private final String token;
  private final HttpClient http;
  private final WebSocketClient webSockets;

  /** A connection to the node at {@code url}; {@code token} may be null. */
  HttpSupport(NodeUrl url, String token) {
    this.url = url;
    this.token = token;
    // A command's first task loads classes on a busy machine: no blocked-thread warnings.
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
        .setInternalBlockingPoolSize(1).setMaxEventLoopExecuteTime(1)
        .setMaxEventLoopExecuteTimeUnit(TimeUnit.MINUTES));
    this.http = vertx.createHttpClient(new HttpClientOptions()
        .setConnectTimeout(CONNECT_TIMEOUT_MS).setSsl(url.ssl()));
    this.webSockets = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setConnectTimeout(CONNECT_TIMEOUT_MS).setSsl(url.ssl())
        .setMaxMessageSize(FEED_MESSAGE_BYTES_MAX));
  }

  /** The node's URL. */
  NodeUrl url() {
    return url;
  }

  /** This connection's Vert.x, for timers. */
  Vertx vertx() {
    return vertx;
  }

  /**
   * {@code GET path}: the JSON object a 2xx answer carries. Fails with a {@link CliFailure} when
   * the node cannot be reached, answers another status, or answers something else than JSON.
   */
  Future<JsonObject> getJson(String path) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
        .setHost(url.host()).setPort(url.port()).setSsl(url.ssl()).setURI(url.uri(path))
        .setIdleTimeout(IDLE_TIMEOUT_MS).putHeader(HttpHeaders.ACCEPT, "application/json");
    if (token != null) {
      options.putHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token);
    }
    String where = url.resolve(path);
    return http.request(options)
        .compose(req -> req.send())
        .compose(resp -> resp.body().map(body -> decode(where, resp.statusCode(), body)))
        .recover(t -> Future.failedFuture(t instanceof CliFailure ? t
            : new CliFailure("cannot reach " + where + ": " + describe(t))));
  }

  /** Opens the WebSocket at {@code path}; fails with a {@link CliFailure}. */
  Future<WebSocket> connect(String path) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost(url.host())
        .setPort(url.port()).setSsl(url.ssl()).setURI(url.uri(path));
    if (token != null) {
      options.addHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token);
    }
    String where = url.resolve(path);
    return webSockets.connect(options).recover(t -> Future.failedFuture(
        new CliFailure("cannot reach " + where + ": " + describe(t))));
  }

  /**
   * Waits for {@code future} on the command's own thread (never an event loop): its result, or
   * a {@link CliFailure}.
   */
  static <T> T await(Future<T> future) throws InterruptedException {
    try {
      return future.toCompletionStage().toCompletableFuture()
          .get(IDLE_TIMEOUT_MS + CONNECT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof CliFailure f ? f : new CliFailure(describe(cause));
    } catch (TimeoutException e) {
      throw new CliFailure("no answer within " + (IDLE_TIMEOUT_MS + CONNECT_TIMEOUT_MS) + " ms");
    }
  }

  /** {@code segment} escaped for a URL path: a lock name may hold any character. */
  static String pathSegment(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** A cause on one line: its message, else its class. */
  static String describe(Throwable t) {
    String msg = t.getMessage();
    if (msg == null || msg.isBlank()) {
      return t.getClass().getSimpleName();
    }
    int nl = msg.indexOf('\n');
    return nl < 0 ? msg : msg.substring(0, nl);
  }

  private static JsonObject decode(String where, int status, Buffer body) {
    JsonObject json;
    try {
      json = body.length() == 0 ? new JsonObject() : new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      String text = body.toString(StandardCharsets.UTF_8).strip();
      throw new CliFailure(where + " answered " + status + " with something other than a JSON"
          + " object: " + describe(new RuntimeException(text.length() > 80
          ? text.substring(0, 80) + "..." : text)));
    }
    if (status / 100 != 2) {
      String error = json.getString("message", json.getString("error", ""));
      throw new CliFailure(where + " answered " + status + (error.isEmpty() ? "" : ": " + error));
    }
    return json;
  }

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture()
          .get(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // The command's answer is printed already; a slow close changes nothing for the operator.
    }
  }
}
