package io.keel.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.harness.InJvmCluster;
import io.keel.locks.FencedLock;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The replicated map on three in-JVM data nodes: the event-bus contract from every node, the
 * Java API, compare-and-set, fences from real locks, every limit and error with its code (and
 * nothing changed), stale reads, the HTTP routes, and a write refused without a majority.
 */
class MapIT {
  private static final long BUDGET = 400_000;
  private static InJvmCluster cluster;
  private static Keel a;
  private static Keel b;
  private static Keel c;
  private static WebClient http;

  @BeforeAll
  static void start() {
    cluster = new InJvmCluster(3);
    a = cluster.start("a", MapIT::small);
    b = cluster.start("b", MapIT::small);
    c = cluster.start("c", MapIT::small);
    InJvmCluster.awaitActive(8, a, b, c);
    http = WebClient.create(a.vertx());
  }

  @AfterAll
  static void stop() throws Exception {
    http.close();
    cluster.close();
  }

  private static KeelOptions small(KeelOptions o) {
    // One event loop: the routing consumer and the groups' hosts share its thread, so lease
    // reads are answered at once (PartitionGroups#leasedNow); other tests run several loops.
    return o.setEventLoops(1).setPartitions(8).setMap(new MapOptions().setKeyBytesMax(64)
        .setValueBytesMax(4096).setMemoryBytesMax(BUDGET));
  }

  private static JsonObject call(Keel via, String address, JsonObject body) throws Exception {
    return via.vertx().eventBus().<JsonObject>request(address, body,
        new DeliveryOptions().setSendTimeout(30_000)).map(Message::body)
        .await(40, TimeUnit.SECONDS);
  }

  /** The failure's symbol and sentence, or "acknowledged". */
  private static String failure(Future<?> f) {
    try {
      f.await(40, TimeUnit.SECONDS);
      return "acknowledged";
    } catch (Exception e) {
      Throwable t = e instanceof io.vertx.core.eventbus.ReplyException ? e
          : e.getCause() != null ? e.getCause() : e;
      return Failure.of(t) + ": " + t.getMessage();
    }
  }

  private static String failure(Keel via, String address, JsonObject body) {
    return failure(via.vertx().eventBus().request(address, body,
        new DeliveryOptions().setSendTimeout(30_000)));
  }

  private static JsonObject put(String map, String key, Object value) {
    return new JsonObject().put("map", map).put("key", key).put("value", value);
  }

  private static JsonObject key(String map, String key) {
    return new JsonObject().put("map", map).put("key", key);
  }

  @Test
  void every_node_reads_what_any_node_wrote_and_versions_only_grow() throws Exception {
    long last = 0;
    List<Keel> nodes = List.of(a, b, c);
    for (int i = 0; i < 12; i++) {
      Keel writer = nodes.get(i % 3);
      JsonObject value = new JsonObject().put("n", i).put("tags", new JsonArray().add("x"));
      long version = call(writer, Addresses.MAP_PUT, put("carts", "alice", value))
          .getLong("version");
      assertThat(version).isGreaterThan(last);
      last = version;
      for (Keel reader : nodes) {
        JsonObject got = call(reader, Addresses.MAP_GET, key("carts", "alice"));
        assertThat(got.getBoolean("found")).isTrue();
        assertThat(got.getJsonObject("value")).isEqualTo(value);
        assertThat(got.getLong("version")).isEqualTo(version);
      }
    }
    // The same key in another map is another entry.
    assertThat(call(b, Addresses.MAP_GET, key("sessions", "alice")).getBoolean("found"))
        .isFalse();
    JsonObject deleted = call(c, Addresses.MAP_DELETE, key("carts", "alice"));
    assertThat(deleted.getBoolean("deleted")).isTrue();
    assertThat(deleted.getLong("version")).isEqualTo(last);
    assertThat(call(a, Addresses.MAP_GET, key("carts", "alice")).getBoolean("found")).isFalse();
    assertThat(call(a, Addresses.MAP_DELETE, key("carts", "alice")).getBoolean("deleted"))
        .isFalse();
    long again = call(a, Addresses.MAP_PUT, put("carts", "alice", "back")).getLong("version");
    assertThat(again).isGreaterThan(last);
  }

  @Test
  void linearizable_reads_are_answered_under_the_leaders_lease() throws Exception {
    long before = reads("lease");
    long atOnceBefore = reads("leaseAtOnce");
    long version = call(a, Addresses.MAP_PUT, put("leased", "k", "v")).getLong("version");
    for (Keel reader : List.of(a, b, c, a, b, c)) {
      JsonObject got = call(reader, Addresses.MAP_GET, key("leased", "k"));
      assertThat(got.getLong("version")).isEqualTo(version);
    }
    // A leader holds its lease once a majority has echoed a recent heartbeat or append.
    assertThat(reads("lease")).as("reads the leader answered under its lease")
        .isGreaterThan(before);
    assertThat(reads("leaseAtOnce")).as("lease reads answered on the caller's thread")
        .isGreaterThan(atOnceBefore);
    // Written and read again at once: each read sees the write before it.
    for (int i = 0; i < 20; i++) {
      long v = call(b, Addresses.MAP_PUT, put("leased", "k", i)).getLong("version");
      JsonObject got = call(i % 2 == 0 ? a : c, Addresses.MAP_GET, key("leased", "k"));
      assertThat(got.getLong("version")).isEqualTo(v);
      assertThat(got.getInteger("value")).isEqualTo(i);
    }
  }

  @Test
  void a_caller_looping_on_reads_its_node_answers_at_once_keeps_its_stack() throws Exception {
    String key = IntStream.range(0, 1000).mapToObj(i -> "loop-" + i)
        .filter(k -> a.groups().leads(a.routing().table().partitionOf(k))).findFirst()
        .orElseThrow();
    KeelMap map = a.map("loop");
    map.put(key, "v").await(30, TimeUnit.SECONDS);
    long atOnce = reads("leaseAtOnce");
    int rounds = 20_000;
    Promise<Integer> done = Promise.promise();
    // On node a's only event loop, where its groups run: each read is answered at once. Were
    // the answer given within the call, each round would run inside the one before, and the
    // stack would overflow long before the last (the loop then stops, and this times out).
    a.vertx().runOnContext(v -> readInLoop(map, key, rounds, new int[1], done));
    assertThat(done.future().await(60, TimeUnit.SECONDS)).isEqualTo(rounds);
    assertThat(reads("leaseAtOnce") - atOnce).as("reads answered at once")
        .isGreaterThan(rounds / 2);
  }

  /** Reads {@code key} {@code left} more times, each once the one before has its answer. */
  private static void readInLoop(KeelMap map, String key, int left, int[] count,
      Promise<Integer> done) {
    if (left == 0) {
      done.complete(count[0]);
      return;
    }
    map.get(key).onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
        return;
      }
      count[0]++;
      readInLoop(map, key, left - 1, count, done);
    });
  }

  private static long reads(String way) {
    return List.of(a, b, c).stream()
        .mapToLong(k -> k.groups().readStats().getLong(way)).sum();
  }

  @Test
  void the_java_api_compares_and_sets_and_refuses_wrong_versions_with_conflict()
      throws Exception {
    KeelMap map = b.map("java");
    long v1 = map.putIfAbsent("k", 1).await(30, TimeUnit.SECONDS);
    assertThat(failure(map.putIfAbsent("k", 2))).startsWith("CONFLICT: CONFLICT: key 'k' of"
        + " map 'java' is at version " + v1 + ", not absent as expected; nothing changed");
    assertThat(failure(map.compareAndSet("k", v1 + 1, 3))).startsWith("CONFLICT");
    assertThat(failure(map.delete("k", v1 + 1))).startsWith("CONFLICT");
    MapEntry e = a.map("java").get("k").await(30, TimeUnit.SECONDS);
    assertThat(e.value()).isEqualTo(1);
    assertThat(e.version()).isEqualTo(v1);
    long v2 = map.compareAndSet("k", v1, 4).await(30, TimeUnit.SECONDS);
    assertThat(v2).isGreaterThan(v1);
    assertThat(c.map("java").get("k").await(30, TimeUnit.SECONDS))
        .isEqualTo(new MapEntry("k", 4, v2));
    assertThat(map.delete("k", v2).await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(map.get("k").await(30, TimeUnit.SECONDS).found()).isFalse();
    assertThat(map.put("k", "s").await(30, TimeUnit.SECONDS)).isGreaterThan(v2);
  }

  @Test
  void a_fenced_put_with_an_older_token_than_one_accepted_is_refused() throws Exception {
    FencedLock first = a.locks().acquire("inventory").await(30, TimeUnit.SECONDS);
    KeelMap map = c.map("stock");
    map.put("apples", 10, first).await(30, TimeUnit.SECONDS);
    first.release().await(30, TimeUnit.SECONDS);
    FencedLock second = b.locks().acquire("inventory").await(30, TimeUnit.SECONDS);
    assertThat(second.token()).isGreaterThan(first.token());
    long v = map.put("apples", 7, second).await(30, TimeUnit.SECONDS);
    // The first holder, paused and unaware its lease ended, writes late: refused.
    assertThat(failure(map.put("apples", 99, first))).startsWith("CONFLICT: CONFLICT: token "
        + first.token() + " of lock 'inventory' is older than token " + second.token());
    assertThat(map.get("apples").await(30, TimeUnit.SECONDS))
        .isEqualTo(new MapEntry("apples", 7, v));
    second.release().await(30, TimeUnit.SECONDS);
  }

  @Test
  void every_limit_and_malformed_field_is_a_bad_request_and_changes_nothing() throws Exception {
    long v = call(a, Addresses.MAP_PUT, put("limits", "k", "kept")).getLong("version");
    String longKey = "é".repeat(40); // 40 characters, 80 bytes
    assertThat(failure(a, Addresses.MAP_PUT, put("limits", longKey, 1))).isEqualTo(
        "BAD_REQUEST: BAD_REQUEST: the key is 80 bytes in UTF-8, more than the limit of 64"
            + " (map.keyBytesMax); nothing changed");
    assertThat(failure(b, Addresses.MAP_PUT, put("limits", "k", "x".repeat(4095))))
        .isEqualTo("BAD_REQUEST: BAD_REQUEST: the value is 4097 bytes as JSON, more than the"
            + " limit of 4096 (map.valueBytesMax); nothing changed");
    assertThat(failure(c, Addresses.MAP_PUT, key("limits", "k")))
        .startsWith("BAD_REQUEST: BAD_REQUEST: field 'value' is missing");
    assertThat(failure(c, Addresses.MAP_PUT, put("limits", "k", 1).put("expectVersion", "3")))
        .startsWith("BAD_REQUEST: BAD_REQUEST: field 'expectVersion' must be an integer >= 0");
    assertThat(failure(c, Addresses.MAP_PUT, put("limits", "k", 1).put("expectVersion", -2)))
        .startsWith("BAD_REQUEST");
    assertThat(failure(c, Addresses.MAP_PUT, put("limits", "k", 1).put("fence", 5)))
        .startsWith("BAD_REQUEST: BAD_REQUEST: field 'fence' must be an object");
    assertThat(failure(c, Addresses.MAP_PUT, put("limits", "k", 1)
        .put("fence", new JsonObject().put("lock", "L").put("token", 0))))
        .startsWith("BAD_REQUEST: BAD_REQUEST: field 'fence.token' must be a positive integer");
    assertThat(failure(a, Addresses.MAP_GET, new JsonObject().put("key", "k")))
        .isEqualTo("BAD_REQUEST: BAD_REQUEST: field 'map' is missing");
    assertThat(failure(a, Addresses.MAP_GET, key("limits", "k").put("stale", "yes")))
        .startsWith("BAD_REQUEST: BAD_REQUEST: field 'stale' must be a boolean");
    assertThat(failure(a, Addresses.MAP_DELETE, key("limits", "")))
        .isEqualTo("BAD_REQUEST: BAD_REQUEST: field 'key' must not be empty");
    assertThat(failure(a, Addresses.MAP_PUT, put("limits", "k", 1).put("timeoutMs", 0)))
        .startsWith("BAD_REQUEST");
    JsonObject kept = call(b, Addresses.MAP_GET, key("limits", "k"));
    assertThat(kept.getString("value")).isEqualTo("kept");
    assertThat(kept.getLong("version")).isEqualTo(v);
  }

  @Test
  void a_node_refuses_puts_beyond_its_memory_budget_and_accepts_again_after_deletes()
      throws Exception {
    // Every node holds a replica of all 8 partitions: each put costs every node its size.
    String value = "x".repeat(3000);
    List<String> written = new ArrayList<>();
    String refusal = null;
    for (int i = 0; i < 400 && refusal == null; i++) {
      String outcome = failure(a, Addresses.MAP_PUT, put("budget", "k" + i, value));
      if (outcome.equals("acknowledged")) {
        written.add("k" + i);
      } else {
        refusal = outcome;
      }
    }
    String refusedKey = "k" + written.size();
    try {
      assertThat(refusal).startsWith("BAD_REQUEST").contains("memory budget of " + BUDGET
          + " bytes (map.memoryBytesMax); nothing changed");
      assertThat(written.size()).isBetween(100, 140);
      assertThat(call(a, Addresses.MAP_GET, key("budget", refusedKey)).getBoolean("found"))
          .isFalse();
      // The refusing leader's node held more than the budget less one put's cost (about
      // 4,000 B), or less two if a change counted twice while the sum was taken. Every node
      // holds all 8 partitions, and a follower applies a put once it learns of its commit,
      // with a later append or the next heartbeat: every node gets there. (Followers apply
      // what was committed, so a node may also end past the budget; the README says so.)
      long floor = BUDGET - 2 * MapMachine.cost(refusedKey, value.length() + 2);
      for (Keel k : List.of(a, b, c)) {
        await().atMost(Duration.ofSeconds(30))
            .untilAsserted(() -> assertThat(statusBytes(k)).isGreaterThan(floor));
      }
    } finally {
      // Free the budget even when an assertion above failed, so other tests can still write.
      for (String k : written) {
        call(b, Addresses.MAP_DELETE, key("budget", k));
      }
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> List.of(a, b, c).stream().allMatch(k ->
        statusBytes(k) < 10_000));
    assertThat(call(c, Addresses.MAP_PUT, put("budget", refusedKey, value)).getLong("version"))
        .isPositive();
    call(c, Addresses.MAP_DELETE, key("budget", refusedKey));
  }

  private static long statusBytes(Keel k) {
    try {
      return call(k, Addresses.status(k.nodeName()), new JsonObject()).getJsonObject("map")
          .getLong("bytes");
    } catch (Exception e) {
      return Long.MAX_VALUE;
    }
  }

  @Test
  void a_stale_read_answers_from_a_replica() throws Exception {
    long v = a.map("stale").put("k", "v").await(30, TimeUnit.SECONDS);
    for (Keel k : List.of(a, b, c)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> k.map("stale").getStale("k")
          .await(30, TimeUnit.SECONDS).version() == v);
    }
    JsonObject stale = call(b, Addresses.MAP_GET, key("stale", "k").put("stale", true));
    assertThat(stale.getLong("version")).isLessThanOrEqualTo(v);
  }

  private static HttpResponse<Buffer> send(io.vertx.core.http.HttpMethod method, String path,
      String body, String header, String headerValue) throws Exception {
    var request = http.request(method, a.httpPort(), "127.0.0.1", path);
    if (header != null) {
      request.putHeader(header, headerValue);
    }
    return (body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)))
        .await(40, TimeUnit.SECONDS);
  }

  @Test
  void the_http_routes_mirror_the_bus_with_etags_and_statuses() throws Exception {
    var put = io.vertx.core.http.HttpMethod.PUT;
    var get = io.vertx.core.http.HttpMethod.GET;
    var delete = io.vertx.core.http.HttpMethod.DELETE;
    var created = send(put, "/v1/maps/web/cart-1", "{\"value\":{\"items\":[1,2]}}", null, null);
    assertThat(created.statusCode()).isEqualTo(200);
    long v = created.bodyAsJsonObject().getLong("version");
    assertThat(created.getHeader("ETag")).isEqualTo("\"" + v + "\"");
    var read = send(get, "/v1/maps/web/cart-1", null, null, null);
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(read.getHeader("ETag")).isEqualTo("\"" + v + "\"");
    assertThat(read.bodyAsJsonObject().getJsonObject("value").getJsonArray("items"))
        .containsExactly(1, 2);
    assertThat(send(put, "/v1/maps/web/cart-1", "{\"value\":3}", "If-Match", "\"" + (v + 1)
        + "\"").statusCode()).isEqualTo(409);
    assertThat(send(put, "/v1/maps/web/cart-1", "{\"value\":3}", "If-None-Match", "*")
        .statusCode()).isEqualTo(409);
    var swapped = send(put, "/v1/maps/web/cart-1", "{\"value\":3}", "If-Match", "\"" + v + "\"");
    assertThat(swapped.statusCode()).isEqualTo(200);
    long v2 = swapped.bodyAsJsonObject().getLong("version");
    assertThat(send(put, "/v1/maps/web/cart-1", "{\"value\":", null, null).statusCode())
        .isEqualTo(400);
    assertThat(send(put, "/v1/maps/web/cart-1", "{}", null, null).bodyAsJsonObject()
        .getString("error")).isEqualTo("BAD_REQUEST");
    // The body limit is the value limit (4,096 B here) plus 64 KiB for the rest.
    assertThat(send(put, "/v1/maps/web/cart-1", "{\"value\":\"" + "x".repeat(4096 + 64 * 1024)
        + "\"}", null, null).statusCode()).isEqualTo(413);
    assertThat(send(get, "/v1/maps/web/cart-1", null, null, null).getHeader("ETag"))
        .as("the refused puts changed nothing").isEqualTo("\"" + v2 + "\"");
    assertThat(send(delete, "/v1/maps/web/cart-1", null, "If-Match", "\"" + v + "\"")
        .statusCode()).isEqualTo(409);
    var gone = send(delete, "/v1/maps/web/cart-1", null, "If-Match", "\"" + v2 + "\"");
    assertThat(gone.bodyAsJsonObject().getBoolean("deleted")).isTrue();
    var absent = send(get, "/v1/maps/web/cart-1", null, null, null);
    assertThat(absent.statusCode()).isEqualTo(404);
    assertThat(absent.bodyAsJsonObject().getBoolean("found")).isFalse();
    assertThat(send(put, "/v1/maps/web/cart-2", "{\"value\":1}", "If-None-Match", "*")
        .statusCode()).isEqualTo(200);
  }

  @Test
  void metrics_show_map_operations_commits_log_forces_and_vertx_meters() throws Exception {
    a.map("metered").put("k", 1).await(30, TimeUnit.SECONDS);
    a.map("metered").get("k").await(30, TimeUnit.SECONDS);
    assertThat(failure(a.map("metered").putIfAbsent("k", 2))).startsWith("CONFLICT");
    var scrape = http.get(a.httpPort(), "127.0.0.1", "/metrics").send()
        .await(30, TimeUnit.SECONDS);
    assertThat(scrape.statusCode()).isEqualTo(200);
    assertThat(scrape.getHeader("content-type")).startsWith("text/plain");
    String text = scrape.bodyAsString();
    assertThat(text).contains(
        "keel_map_operations_seconds_count{op=\"put\",outcome=\"ok\"}",
        "keel_map_operations_seconds_count{op=\"get\",outcome=\"ok\"}",
        "keel_map_operations_seconds_count{op=\"put\",outcome=\"conflict\"}",
        "keel_raft_commit_seconds", "keel_wal_force_seconds", "keel_wal_force_records",
        "keel_partitions{state=\"held\"} 8.0", "keel_feed_slow_disconnects_total",
        "keel_lock_events_total{reason=\"granted\"}", "keel_lock_waiters",
        "keel_lock_fenced_rejections_total{op=\"map_put\"}",
        "keel_rebalance_sent_bytes_total{kind=\"entries\"}",
        "vertx_eventbus_", "vertx_http_server_");
  }
}
