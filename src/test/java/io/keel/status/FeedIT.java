package io.keel.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.bus.Addresses;
import io.keel.harness.InJvmCluster;
import io.keel.locks.FencedLock;
import io.keel.locks.LockOptions;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The status feed: every event type of the design goes out, each matching the documented
 * schema, with consecutive sequence numbers; and under a flood of events a stalled subscriber
 * is disconnected (and counted) while a hundred others miss nothing, at a thousand events a
 * second. A Vert.x client that
 * pauses its WebSocket keeps reading the socket into memory, so the stalled subscriber here is
 * a plain socket that stops reading after the handshake.
 */
class FeedIT {

  /**
   * One WebSocket subscriber: checks each message as it comes (the snapshot first, then events
   * with consecutive sequence numbers) and keeps the events only when asked to, since a hundred
   * of these under a flood would not fit in the test's heap.
   */
  private static final class Subscriber {
    final boolean keep;
    final List<JsonObject> kept = Collections.synchronizedList(new ArrayList<>());
    final List<String> wrong = Collections.synchronizedList(new ArrayList<>());
    final AtomicLong lastSeq = new AtomicLong(-1);
    final AtomicInteger loadTest = new AtomicInteger();
    final AtomicInteger received = new AtomicInteger();
    WebSocket ws;

    Subscriber(boolean keep) {
      this.keep = keep;
    }

    Subscriber connect(WebSocketClient client, int port) throws Exception {
      // Handlers first, so that no message arrives before there is one to take it.
      ClientWebSocket socket = client.webSocket();
      // A message is the snapshot, or events one JSON object per line.
      socket.textMessageHandler(t -> {
        for (String line : t.split("\n")) {
          accept(new JsonObject(line));
        }
      });
      ws = socket.connect(port, "127.0.0.1", "/status/feed").await(10, TimeUnit.SECONDS);
      return this;
    }

    private void accept(JsonObject m) {
      int n = received.getAndIncrement();
      long seq = m.getLong("seq", -1L);
      boolean snapshot = "snapshot".equals(m.getString("type"));
      if (snapshot != (n == 0)) {
        wrong.add("message " + n + " is " + (snapshot ? "" : "not ") + "a snapshot: " + m);
      } else if (!snapshot && seq != lastSeq.get() + 1) {
        wrong.add("event " + n + " has seq " + seq + " after " + lastSeq.get());
      }
      lastSeq.set(seq);
      if (!snapshot && keep) {
        kept.add(m);
      }
      if ("load-test".equals(m.getString("phase"))) {
        loadTest.incrementAndGet();
      }
    }

    Set<String> types() {
      return List.copyOf(kept).stream().map(e -> e.getString("type"))
          .collect(Collectors.toSet());
    }
  }

  @Test
  void every_event_type_goes_out_and_matches_the_schema() throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(3)) {
      Keel a = cluster.start("a", o -> o.setPartitions(8));
      Keel b = cluster.start("b", o -> o.setPartitions(8));
      Vertx vertx = a.vertx();
      WebSocketClient client = vertx.createWebSocketClient();
      Subscriber onA = new Subscriber(true).connect(client, a.httpPort());
      Subscriber onB = new Subscriber(true).connect(client, b.httpPort());
      Keel c = cluster.start("c", o -> o.setPartitions(8));
      InJvmCluster.awaitActive(8, a, b, c);
      // Lock events come from the feed of the node that leads the lock's partition.
      Subscriber onC = new Subscriber(true).connect(client, c.httpPort());
      FencedLock lock = a.locks().acquire("feed-lock").await(30, TimeUnit.SECONDS);
      lock.release().await(30, TimeUnit.SECONDS);
      b.locks().acquire("feed-lock", new LockOptions().setLeaseMs(300))
          .await(30, TimeUnit.SECONDS);
      cluster.stop(c);
      Set<String> expected = Set.of("member-joined", "member-left", "epoch-changed",
          "partition-moved", "recovery-phase", "replica-added", "leader-moved", "lock-granted",
          "lock-released", "lock-expired");
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        Set<String> seen = new java.util.HashSet<>(onA.types());
        seen.addAll(onB.types());
        seen.addAll(onC.types());
        assertThat(seen).containsAll(expected);
      });
      for (Subscriber s : List.of(onA, onB, onC)) {
        assertThat(s.wrong).isEmpty();
        for (JsonObject e : List.copyOf(s.kept)) {
          assertThat(FeedSchema.violations(e)).as(e.encode()).isEmpty();
        }
      }
      client.close();
    }
  }

  @Test
  void a_stalled_subscriber_is_cut_off_and_a_hundred_others_miss_nothing() throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(1)) {
      Keel a = cluster.start("a", o -> o.setPartitions(8));
      // Vert.x allows 50 WebSocket connections to one server per client by default.
      WebSocketClient client = a.vertx().createWebSocketClient(new WebSocketClientOptions()
          .setMaxConnections(200));
      List<Subscriber> readers = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        readers.add(new Subscriber(false).connect(client, a.httpPort()));
      }
      // The stalled one: a plain socket with a small buffer that completes the WebSocket
      // handshake and then never reads again.
      java.net.Socket stalled = new java.net.Socket();
      stalled.setReceiveBufferSize(4096);
      stalled.connect(new java.net.InetSocketAddress("127.0.0.1", a.httpPort()), 10_000);
      stalled.getOutputStream().write(("GET /status/feed HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      byte[] head = new byte[12];
      new java.io.DataInputStream(stalled.getInputStream()).readFully(head);
      assertThat(new String(head, java.nio.charset.StandardCharsets.US_ASCII))
          .isEqualTo("HTTP/1.1 101");
      // 1,000 events a second of about 400 bytes each, until the stalled one is cut.
      String padding = "x".repeat(250);
      AtomicInteger sent = new AtomicInteger();
      long timer = a.vertx().setPeriodic(10, id -> {
        for (int i = 0; i < 10; i++) {
          a.vertx().eventBus().publish(Addresses.EVENTS, new JsonObject()
              .put("type", "recovery-phase").put("node", "a").put("phase", "load-test")
              .put("n", sent.incrementAndGet()).put("padding", padding));
        }
      });
      // A paused client reads no close frame either: the node's own count tells.
      await().atMost(Duration.ofMinutes(4)).ignoreExceptions()
          .until(() -> feed(a).getLong("slowDisconnects") == 1);
      a.vertx().cancelTimer(timer);
      int total = sent.get();
      assertThat(feed(a).getInteger("subscribers")).isEqualTo(100);
      stalled.close();
      await().atMost(Duration.ofSeconds(60)).until(() -> readers.stream()
          .allMatch(r -> r.loadTest.get() >= total));
      for (Subscriber r : readers) {
        assertThat(r.wrong).isEmpty();
        assertThat(r.loadTest.get()).isEqualTo(total);
      }
      client.close();
    }
  }

  private static JsonObject feed(Keel node) throws Exception {
    return node.vertx().eventBus().<JsonObject>request(Addresses.status(node.nodeName()),
        new JsonObject()).await(30, TimeUnit.SECONDS).body().getJsonObject("feed");
  }
}
