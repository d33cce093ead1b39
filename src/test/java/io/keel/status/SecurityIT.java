package io.keel.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.keel.Keel;
import io.keel.bus.Addresses;
import io.keel.harness.InJvmCluster;
import io.keel.harness.NodeProcess;
import io.keel.harness.ProcessCluster;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * The HTTP token and the feed's defences, on real nodes over real sockets. With a token, every
 * route, the WebSocket upgrade and the dashboard answer 401 to a request without it or with a
 * wrong one, and a refused request changes nothing; the token passes as a header or as
 * {@code access_token}, and never reaches a log or {@code /status}. A bad frame or an oversized
 * message closes that one feed connection, while the node keeps serving and other subscribers
 * miss no event. A node process takes its token from {@code KEEL_HTTP_TOKEN}, and the operator
 * commands send it from the same variable.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class SecurityIT {
  private static final String TOKEN = "sec-it-0123456789abcdef-token";
  private static final String WRONG = "sec-it-0123456789abcdef-tokeX";
  private static final String AUTH = "Bearer " + TOKEN;
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  /** One request: method, path (with its query), and a JSON body or null. */
  private record Route(String method, String path, String body) {}

  private static final Route STATUS = new Route("GET", "/status", null);
  private static final Route LOCK_INFO = new Route("GET", "/v1/locks/sec-lock", null);
  private static final Route MAP_GET = new Route("GET", "/v1/maps/sec/k", null);
  private static final Route DASHBOARD = new Route("GET", "/", null);
  private static final Route ACQUIRE = new Route("POST", "/v1/locks/sec-lock/acquire",
      "{\"leaseMs\":60000,\"holder\":\"x\"}");
  /** Every route the node serves, and one it does not. */
  private static final List<Route> ROUTES = List.of(STATUS,
      new Route("GET", "/metrics", null),
      new Route("GET", "/health/live", null),
      new Route("GET", "/health/ready", null),
      new Route("GET", "/v1/ring/owner?key=user:1", null),
      ACQUIRE,
      new Route("POST", "/v1/locks/sec-lock/renew", "{\"token\":1}"),
      new Route("POST", "/v1/locks/sec-lock/release", "{\"token\":1}"),
      LOCK_INFO, MAP_GET,
      new Route("PUT", "/v1/maps/sec/k", "{\"value\":{\"by\":\"intruder\"}}"),
      new Route("DELETE", "/v1/maps/sec/k", null),
      new Route("GET", "/status/feed", null),
      DASHBOARD,
      new Route("GET", "/no/such/page", null));

  @RegisterExtension
  final NodeProcess.Guard guard = new NodeProcess.Guard();

  @Test
  void every_route_refuses_a_missing_or_wrong_token_and_a_refusal_changes_nothing()
      throws Exception {
    try (LogCapture logs = new LogCapture(); InJvmCluster cluster = new InJvmCluster(1)) {
      Keel a = cluster.start("a", o -> o.setPartitions(8).setHttpToken(TOKEN));
      InJvmCluster.awaitActive(8, a);
      int port = a.httpPort();
      for (Route r : ROUTES) {
        refused(send(port, r, null, null), true, r);
        refused(send(port, r, "Bearer " + WRONG, null), false, r);
        refused(send(port, r, "Bearer " + TOKEN.substring(0, 20), null), false, r);
        refused(send(port, r, null, WRONG), false, r);
        // A header decides, even when the query parameter is right.
        refused(send(port, r, "Basic " + Base64.getEncoder().encodeToString(
            ("me:" + TOKEN).getBytes(StandardCharsets.UTF_8)), TOKEN), false, r);
      }
      for (String[] presented : new String[][] {{null, null}, {"Bearer " + WRONG, null},
          {null, WRONG}}) {
        String head = RawFeed.handshake(port, presented[0], presented[1]);
        assertThat(head).as("upgrade with %s", (Object) presented).startsWith("HTTP/1.1 401 ");
        assertThat(head.toLowerCase()).contains("www-authenticate: bearer")
            .doesNotContain("sec-websocket-accept");
      }
      WebSocketClient client = a.vertx().createWebSocketClient();
      Throwable rejected = catchThrowable(() -> client.connect(port, "127.0.0.1", "/status/feed")
          .await(10, TimeUnit.SECONDS));
      assertThat(rejected).isInstanceOf(UpgradeRejectedException.class);
      assertThat(((UpgradeRejectedException) rejected).getStatus()).isEqualTo(401);

      // Nothing happened: no lock granted, no value written, no subscriber.
      JsonObject lock = json(send(port, LOCK_INFO, AUTH, null), 200);
      assertThat(lock.getBoolean("held")).isFalse();
      assertThat(lock.getLong("lastToken", 0L)).isZero();
      assertThat(send(port, MAP_GET, AUTH, null).statusCode()).isEqualTo(404);
      assertThat(json(send(port, STATUS, AUTH, null), 200).getJsonObject("feed")
          .getInteger("subscribers")).isZero();

      theTokenAdmitsEveryRoute(port);
      refusalsLeaveStateAlone(port);
      theTokenOpensTheFeed(client, port);
      client.close();
      assertThat(logs.matching("refused")).as("the capture works").isNotEmpty();
      assertThat(logs.matching(TOKEN)).isEmpty();
    }
  }

  private static void theTokenAdmitsEveryRoute(int port) throws Exception {
    String status = send(port, STATUS, AUTH, null).body();
    assertThat(new JsonObject(status).getString("node")).isEqualTo("a");
    assertThat(status).doesNotContain(TOKEN);
    assertThat(send(port, new Route("GET", "/metrics", null), AUTH, null).body())
        .contains("keel_partitions").doesNotContain(TOKEN);
    json(send(port, new Route("GET", "/health/live", null), AUTH, null), 200);
    json(send(port, new Route("GET", "/health/ready", null), AUTH, null), 200);
    json(send(port, new Route("GET", "/v1/ring/owner?key=user:1", null), null, TOKEN), 200);
    long token = json(send(port, ACQUIRE, AUTH, null), 200).getLong("token");
    json(send(port, new Route("POST", "/v1/locks/sec-lock/renew", "{\"token\":" + token + "}"),
        null, TOKEN), 200);
    assertThat(json(send(port, LOCK_INFO, AUTH, null), 200).getBoolean("held")).isTrue();
    json(send(port, new Route("POST", "/v1/locks/sec-lock/release",
        "{\"token\":" + token + "}"), AUTH, null), 200);
    json(send(port, new Route("PUT", "/v1/maps/sec/k", "{\"value\":1}"), AUTH, null), 200);
    assertThat(json(send(port, MAP_GET, null, TOKEN), 200).getInteger("value")).isEqualTo(1);
    json(send(port, new Route("DELETE", "/v1/maps/sec/k", null), AUTH, null), 200);
    for (String[] presented : new String[][] {{AUTH, null}, {null, TOKEN}}) {
      HttpResponse<String> page = send(port, DASHBOARD, presented[0], presented[1]);
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.body()).contains("<title>Keel</title>", "access_token")
          .doesNotContain(TOKEN);
      assertThat(page.headers().firstValue("referrer-policy")).hasValue("no-referrer");
    }
    // Past the token, the router answers as before.
    assertThat(send(port, new Route("GET", "/no/such/page", null), AUTH, null).statusCode())
        .isEqualTo(404);
  }

  /** A lock held and a value written stay so when a release or a delete is refused. */
  private static void refusalsLeaveStateAlone(int port) throws Exception {
    long token = json(send(port, ACQUIRE, AUTH, null), 200).getLong("token");
    Route release = new Route("POST", "/v1/locks/sec-lock/release", "{\"token\":" + token + "}");
    refused(send(port, release, null, null), true, release);
    refused(send(port, release, null, WRONG), false, release);
    JsonObject lock = json(send(port, LOCK_INFO, AUTH, null), 200);
    assertThat(lock.getBoolean("held")).isTrue();
    assertThat(lock.getLong("token")).isEqualTo(token);
    json(send(port, new Route("PUT", "/v1/maps/sec/k", "{\"value\":2}"), AUTH, null), 200);
    Route delete = new Route("DELETE", "/v1/maps/sec/k", null);
    Route overwrite = new Route("PUT", "/v1/maps/sec/k", "{\"value\":3}");
    refused(send(port, delete, "Bearer " + WRONG, null), false, delete);
    refused(send(port, overwrite, null, null), true, overwrite);
    assertThat(json(send(port, MAP_GET, AUTH, null), 200).getInteger("value")).isEqualTo(2);
  }

  /** The feed opens with the token as a header, and as {@code access_token}. */
  private static void theTokenOpensTheFeed(WebSocketClient client, int port) throws Exception {
    WebSocketConnectOptions header = new WebSocketConnectOptions().setHost("127.0.0.1")
        .setPort(port).setURI("/status/feed").addHeader("Authorization", AUTH);
    WebSocketConnectOptions query = new WebSocketConnectOptions().setHost("127.0.0.1")
        .setPort(port).setURI("/status/feed?access_token=" + TOKEN);
    for (WebSocketConnectOptions o : List.of(header, query)) {
      Subscriber s = new Subscriber().connect(client, o);
      await().atMost(WAIT).until(() -> !s.messages.isEmpty());
      assertThat(s.messages.get(0).getString("type")).isEqualTo("snapshot");
    }
    assertThat(json(send(port, STATUS, AUTH, null), 200).getJsonObject("feed")
        .getInteger("subscribers")).isEqualTo(2);
  }

  @Test
  void bad_frames_and_oversized_messages_close_only_their_own_connection() throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(1)) {
      Keel a = cluster.start("a", o -> o.setPartitions(8));
      int port = a.httpPort();
      WebSocketClient client = a.vertx().createWebSocketClient();
      WebSocketConnectOptions feed = new WebSocketConnectOptions().setHost("127.0.0.1")
          .setPort(port).setURI("/status/feed");
      Subscriber before = new Subscriber().connect(client, feed);
      await().atMost(WAIT).until(() -> !before.messages.isEmpty());
      AtomicInteger sent = new AtomicInteger();
      long timer = a.vertx().setPeriodic(20, id -> a.vertx().eventBus().publish(Addresses.EVENTS,
          new JsonObject().put("type", "recovery-phase").put("node", "a")
              .put("phase", "frame-test").put("n", sent.incrementAndGet())));
      List<Subscriber> subscribers = new ArrayList<>(List.of(before));
      List<RawFeed.BadInput> inputs = RawFeed.badInputs();
      for (int i = 0; i < inputs.size(); i++) {
        RawFeed.BadInput bad = inputs.get(i);
        int code = RawFeed.sendAndAwaitClose(port, bad.bytes());
        if (bad.closeCode() > 0) {
          assertThat(code).as("close code for %s", bad.name()).isEqualTo(bad.closeCode());
        }
        if (i == inputs.size() / 2) {
          subscribers.add(new Subscriber().connect(client, feed));
        }
        assertThat(send(port, STATUS, null, null).statusCode()).as("after %s", bad.name())
            .isEqualTo(200);
      }
      await().atMost(WAIT).until(() -> sent.get() > 0 && subscribers.stream()
          .allMatch(s -> lastN(s) > 0));
      a.vertx().cancelTimer(timer);
      // A tick may still be running as the timer is cancelled: compare with the count as it is.
      await().atMost(WAIT).untilAsserted(() -> {
        for (Subscriber s : subscribers) {
          assertThat(lastN(s)).isEqualTo(sent.get());
        }
      });
      for (Subscriber s : subscribers) {
        s.assertConsecutive();
      }
      assertThat(before.events().stream().filter(e -> "frame-test".equals(e.getString("phase"))))
          .hasSize(sent.get());
      await().atMost(WAIT).untilAsserted(() -> assertThat(json(send(port, STATUS, null, null),
          200).getJsonObject("feed").getInteger("subscribers")).isEqualTo(2));
      client.close();
    }
  }

  private static int lastN(Subscriber s) {
    return s.events().stream().filter(e -> "frame-test".equals(e.getString("phase")))
        .mapToInt(e -> e.getInteger("n")).max().orElse(0);
  }

  @Test
  void a_node_process_takes_its_token_from_the_environment_and_so_do_the_commands()
      throws Exception {
    try (ProcessCluster cluster = new ProcessCluster(guard.logDir(), 1, "--partitions", "8")) {
      NodeProcess node = cluster.node("s1").environment("KEEL_HTTP_TOKEN", TOKEN).start()
          .awaitReady();
      int port = node.httpPort();
      refused(send(port, STATUS, null, null), true, STATUS);
      assertThat(node.status().getString("node")).isEqualTo("s1");
      assertThat(node.stdoutLines()).anyMatch(l -> l.startsWith("Keel node s1 ready: dashboard")
          && l.contains("(add ?access_token=TOKEN)"));
      List<String> status = List.of("status", "--url", "http://127.0.0.1:" + port, "--json");

      NodeProcess withEnv = command("env", status, TOKEN, null);
      assertThat(withEnv.awaitExit(WAIT)).as(withEnv.tail(20)).isZero();
      assertThat(new JsonObject(String.join("\n", withEnv.stdoutLines())).getString("node"))
          .isEqualTo("s1");
      NodeProcess older = command("older-env", status, null, TOKEN);
      assertThat(older.awaitExit(WAIT)).as(older.tail(20)).isZero();
      NodeProcess without = command("none", status, null, null);
      assertThat(without.awaitExit(WAIT)).isEqualTo(1);
      assertThat(String.join("\n", without.stderrLines())).contains("/status answered 401:"
          + " UNAUTHORIZED: this node asks for its bearer token");

      assertThat(node.stop()).isZero();
      assertThat(Files.readString(node.logFile())).doesNotContain(TOKEN);
    }
  }

  /** An operator command as a process, with these two variables (null: unset). */
  private NodeProcess command(String label, List<String> args, String httpToken,
      String olderToken) {
    return new NodeProcess("keel-" + label, guard.logDir().resolve("command-" + label + ".log"),
        guard.logDir(), -1, args).environment("KEEL_HTTP_TOKEN", httpToken)
        .environment("KEEL_TOKEN", olderToken).start();
  }

  /**
   * Sends {@code r} with {@code authorization} as its header and {@code accessToken} as its
   * query parameter (either null for none).
   */
  private static HttpResponse<String> send(int port, Route r, String authorization,
      String accessToken) throws IOException, InterruptedException {
    String path = r.path() + (accessToken == null ? ""
        : (r.path().contains("?") ? "&" : "?") + "access_token=" + accessToken);
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
        + path)).timeout(Duration.ofSeconds(30)).method(r.method(), r.body() == null
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(r.body()));
    if (authorization != null) {
      req.header("Authorization", authorization);
    }
    return HTTP.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A 401 that names the scheme, says why in general terms, and carries nothing else. */
  private static void refused(HttpResponse<String> resp, boolean missing, Route r) {
    String what = r.method() + " " + r.path() + (missing ? " without a token" : " wrong token");
    assertThat(resp.statusCode()).as(what).isEqualTo(401);
    assertThat(resp.headers().firstValue("www-authenticate")).as(what)
        .hasValue(missing ? "Bearer realm=\"keel\""
            : "Bearer realm=\"keel\", error=\"invalid_token\"");
    JsonObject body = new JsonObject(resp.body());
    assertThat(body.fieldNames()).containsExactlyInAnyOrder("error", "code", "message");
    assertThat(body.getString("error")).isEqualTo("UNAUTHORIZED");
    assertThat(body.getInteger("code")).isEqualTo(401);
    assertThat(resp.body()).doesNotContain(TOKEN);
  }

  private static JsonObject json(HttpResponse<String> resp, int status) {
    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(status);
    return new JsonObject(resp.body());
  }

  /** The messages one WebSocket subscriber received, in order. */
  private static final class Subscriber {
    final List<JsonObject> messages = new CopyOnWriteArrayList<>();

    Subscriber connect(WebSocketClient client, WebSocketConnectOptions options)
        throws Exception {
      // Handlers first, so that no message arrives before there is one to take it.
      ClientWebSocket socket = client.webSocket();
      // A message is the snapshot, or events one JSON object per line.
      socket.textMessageHandler(t -> {
        for (String line : t.split("\n")) {
          messages.add(new JsonObject(line));
        }
      });
      socket.connect(options).await(10, TimeUnit.SECONDS);
      return this;
    }

    List<JsonObject> events() {
      return messages.stream().filter(m -> !"snapshot".equals(m.getString("type"))).toList();
    }

    void assertConsecutive() {
      List<JsonObject> events = events();
      long first = messages.get(0).getLong("seq");
      for (int i = 0; i < events.size(); i++) {
        assertThat(events.get(i).getLong("seq")).as("event %d of %s", i, events.get(i))
            .isEqualTo(first + 1 + i);
      }
    }
  }

  /**
   * Every log event while open, with Keel's and Vert.x's loggers at DEBUG: what the test
   * checks the token against.
   */
  private static final class LogCapture implements AutoCloseable {
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final List<Logger> raised = List.of(logger("io.keel"), logger("io.vertx"));
    private final List<Level> levels = new ArrayList<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        lines.add(e.getFormattedMessage() + (e.getThrowableProxy() == null ? ""
            : " " + e.getThrowableProxy().getMessage()));
      }
    };

    LogCapture() {
      Logger root = logger(org.slf4j.Logger.ROOT_LOGGER_NAME);
      for (Logger l : raised) {
        levels.add(l.getLevel());
        l.setLevel(Level.DEBUG);
      }
      appender.setContext(root.getLoggerContext());
      appender.start();
      root.addAppender(appender);
    }

    List<String> matching(String text) {
      return lines.stream().filter(l -> l.contains(text)).toList();
    }

    private static Logger logger(String name) {
      return (Logger) LoggerFactory.getLogger(name);
    }

    @Override
    public void close() {
      logger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(appender);
      appender.stop();
      for (int i = 0; i < raised.size(); i++) {
        raised.get(i).setLevel(levels.get(i));
      }
    }
  }
}
