package io.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.harness.FreePorts;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The operator commands against a scripted node (a plain Vert.x server): the bearer token on
 * every request, an error answer, and a feed that skips sequence numbers and drops the socket,
 * which {@code keel watch} reports and survives.
 */
class WatchCommandIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private Vertx vertx;
  private String url;
  // Set by the test thread, read by the server's event loop.
  private volatile int statusCode = 200;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    int port = FreePorts.next();
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1")
        .setPort(port));
    server.webSocketHandler(this::feed);
    server.requestHandler(req -> {
      authorizations.add(String.valueOf(req.getHeader("Authorization")));
      JsonObject body = statusCode == 200 ? new JsonObject().put("node", "fake")
          .put("locks", new JsonArray())
          : new JsonObject().put("error", "UNAVAILABLE").put("message", "UNAVAILABLE: not yet");
      req.response().setStatusCode(statusCode).end(body.encode());
    });
    server.listen().await(10, TimeUnit.SECONDS);
    url = "http://127.0.0.1:" + port;
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static JsonObject event(long seq) {
    return new JsonObject().put("type", "lock-granted").put("seq", seq)
        .put("time", System.currentTimeMillis()).put("node", "fake").put("name", "l" + seq);
  }

  private static JsonObject snapshot(long seq, JsonObject... recent) {
    return new JsonObject().put("type", "snapshot").put("seq", seq)
        .put("time", System.currentTimeMillis()).put("status", new JsonObject()
            .put("node", "fake").put("epoch", 1))
        .put("recent", new JsonArray(List.of((Object[]) recent)));
  }

  /**
   * First connection: snapshot 5, events 6 and 9, then the socket closes. Second: snapshot 12
   * still listing events 10 to 12, then event 13.
   */
  private void feed(ServerWebSocket ws) {
    authorizations.add(String.valueOf(ws.headers().get("Authorization")));
    List<JsonObject> script = connections.incrementAndGet() == 1
        ? List.of(snapshot(5), event(6), event(9))
        : List.of(snapshot(12, event(9), event(10), event(11), event(12)), event(13));
    script.forEach(m -> ws.writeTextMessage(m.encode()));
    if (connections.get() == 1) {
      ws.close();
    }
  }

  private CommandLine cli(StringWriter out, StringWriter err) {
    CommandLine cli = KeelMain.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli;
  }

  @Test
  void watch_reports_a_gap_reconnects_and_shows_what_the_new_snapshot_still_lists()
      throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    ExecutorService thread = Executors.newSingleThreadExecutor();
    try {
      Future<Integer> exit = thread.submit(() -> cli(out, err).execute("watch", "--url", url,
          "--token", "s3cret", "--count", "6"));
      assertThat(exit.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isZero();
    } finally {
      thread.shutdownNow();
    }

    List<String> lines = out.toString().lines().toList();
    assertThat(lines).hasSize(9);
    assertThat(lines.get(0)).contains("#5 ", "snapshot", "fake");
    assertThat(lines.get(1)).contains("#6 ", "lock-granted", "name=l6");
    assertThat(lines.get(2)).isEqualTo("-- missed 2 events (seq 7-8)");
    assertThat(lines.get(3)).contains("#9 ");
    assertThat(lines.get(4)).contains("#12 ", "snapshot");
    assertThat(lines.subList(5, 9)).allSatisfy(l -> assertThat(l).contains("lock-granted"));
    assertThat(String.join("\n", lines.subList(5, 9))).contains("#10 ", "#11 ", "#12 ", "#13 ");
    assertThat(err.toString()).contains("keel watch: lost " + url + "/status/feed",
        "reconnecting in 250 ms", "keel watch: reconnected");
    assertThat(authorizations).containsExactly("Bearer s3cret", "Bearer s3cret");
  }

  @Test
  void watch_keeps_reconnecting_while_the_node_is_away_until_interrupted() throws Exception {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    ExecutorService thread = Executors.newSingleThreadExecutor();
    try {
      Future<Integer> exit = thread.submit(() -> cli(out, err).execute("watch", "--url", url));
      await().atMost(WAIT).until(() -> out.toString().contains("#9 "));
      vertx.close().await(10, TimeUnit.SECONDS);
      await().atMost(WAIT).until(() -> err.toString().contains("cannot reach " + url
          + "/status/feed") && err.toString().contains("retrying in 1000 ms"));
      thread.shutdownNow();
      assertThat(exit.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isZero();
    } finally {
      thread.shutdownNow();
      vertx = Vertx.vertx();
    }
  }

  @Test
  void status_sends_the_token_and_an_error_answer_exits_1_with_its_message() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    assertThat(cli(out, err).execute("locks", "--url", url, "--token", "t0k")).isZero();
    assertThat(out.toString()).startsWith("0 lock(s) held in the partitions node fake leads");
    assertThat(authorizations).containsExactly("Bearer t0k");

    statusCode = 503;
    StringWriter err2 = new StringWriter();
    assertThat(cli(new StringWriter(), err2).execute("status", "--url", url)).isEqualTo(1);
    assertThat(err2.toString()).isEqualTo("keel status: " + url + "/status answered 503:"
        + " UNAVAILABLE: not yet" + System.lineSeparator());
    assertThat(authorizations).hasSize(2).last().isEqualTo("null");
  }
}
