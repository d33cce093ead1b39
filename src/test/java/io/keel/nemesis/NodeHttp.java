package io.keel.nemesis;

import io.keel.bus.Failure;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * A blocking JSON client of one node's HTTP API, for the workloads' client threads: each call
 * either returns the node's answer ({@link Answer}: status and body) or throws
 * {@link IOException} when there was no answer (reset, timed out), in which case the operation
 * may or may not have happened; {@link java.net.ConnectException} when the node could not be
 * reached at all (it is down), in which case nothing was sent.
 */
final class NodeHttp {
  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(2)).build();

  /** How long a client waits before it tries a node that refused its connection again. */
  static final long DOWN_BACKOFF_MS = 100;

  private final String base;
  private final Duration timeout;

  /** A client of the node at {@code host:port}; calls give up after {@code timeout}. */
  NodeHttp(String host, int port, Duration timeout) {
    this.base = "http://" + host + ":" + port;
    this.timeout = timeout;
  }

  /** A node's answer: its HTTP status and JSON body. */
  record Answer(int status, JsonObject body) {
    boolean ok() {
      return status == 200;
    }

    /** The failure the status stands for, or null for 200 and unknown codes. */
    Failure failure() {
      return ok() ? null : Failure.fromCode(status);
    }

    /** The body's {@code message}, or the whole body. */
    String message() {
      String m = body.getString("message");
      return m != null ? m : body.encode();
    }
  }

  Answer post(String path, JsonObject body) throws IOException {
    return send("POST", path, body, Map.of());
  }

  Answer put(String path, JsonObject body, Map<String, String> headers) throws IOException {
    return send("PUT", path, body, headers);
  }

  Answer get(String path) throws IOException {
    return send("GET", path, null, Map.of());
  }

  private Answer send(String method, String path, JsonObject body, Map<String, String> headers)
      throws IOException {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body.encode()));
    headers.forEach(req::header);
    HttpResponse<String> resp;
    try {
      resp = CLIENT.send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    String text = resp.body();
    JsonObject json;
    try {
      json = text == null || text.isBlank() ? new JsonObject() : new JsonObject(text);
    } catch (RuntimeException e) {
      json = new JsonObject().put("message", text);
    }
    return new Answer(resp.statusCode(), json);
  }

  /** Waits a little after a refused connection, so a client of a down node does not spin. */
  static void backOff() {
    java.util.concurrent.locks.LockSupport.parkNanos(DOWN_BACKOFF_MS * 1_000_000);
  }
}
