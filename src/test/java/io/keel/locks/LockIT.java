package io.keel.locks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.harness.InJvmCluster;
import io.keel.harness.Scrape;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Lock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fenced locks on three in-JVM data nodes: grants, tokens, FIFO hand-over, leases, every
 * failure code, many acquirers in one JVM, {@code withLock}, a holder's node leaving, and the
 * status that lists held locks.
 */
class LockIT {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LockIT.class);
  private static final int SHARED_LOOPS_PER_NODE = 4;
  private static InJvmCluster cluster;
  private static Keel a;
  private static Keel b;
  private static Keel c;

  @BeforeAll
  static void start() {
    cluster = new InJvmCluster(3);
    a = cluster.start("a", LockIT::small);
    b = cluster.start("b", LockIT::small);
    c = cluster.start("c", LockIT::small);
    InJvmCluster.awaitActive(8, a, b, c);
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
  }

  private static KeelOptions small(KeelOptions o) {
    return o.setPartitions(8).setHttpBodyBytesMax(4096);
  }

  private static JsonObject call(Keel via, String address, JsonObject body) throws Exception {
    return via.vertx().eventBus().<JsonObject>request(address, body,
        new DeliveryOptions().setSendTimeout(30_000)).map(Message::body)
        .await(40, TimeUnit.SECONDS);
  }

  /** The failure's symbol and sentence, or "acknowledged". */
  private static String failure(Keel via, String address, JsonObject body) {
    try {
      call(via, address, body);
      return "acknowledged";
    } catch (Exception e) {
      Throwable t = e instanceof io.vertx.core.eventbus.ReplyException ? e
          : e.getCause() != null ? e.getCause() : e;
      return String.valueOf(Failure.of(t)) + ": " + t.getMessage();
    }
  }

  @Test
  void a_lock_is_granted_refused_while_held_and_handed_to_the_waiter_with_a_larger_token()
      throws Exception {
    FencedLock first = a.locks().acquire("orders").await(30, TimeUnit.SECONDS);
    assertThat(first.token()).isPositive();
    JsonObject info = call(b, Addresses.LOCK_INFO, new JsonObject().put("name", "orders"));
    assertThat(info.getBoolean("held")).isTrue();
    assertThat(info.getLong("token")).isEqualTo(first.token());
    assertThat(info.getString("holder")).isEqualTo("a");
    assertThat(failure(b, Addresses.LOCK_ACQUIRE, new JsonObject().put("name", "orders")))
        .startsWith("TIMEOUT");

    Future<FencedLock> waiting = c.locks().acquire("orders", new LockOptions().setWaitMs(20_000)
        .setHolder("worker-c"));
    await().atMost(Duration.ofSeconds(20)).until(() -> call(a, Addresses.LOCK_INFO,
        new JsonObject().put("name", "orders")).getInteger("waiters") == 1);
    assertThat(waiting.isComplete()).isFalse();
    first.release().await(30, TimeUnit.SECONDS);
    FencedLock second = waiting.await(30, TimeUnit.SECONDS);
    assertThat(second.token()).isGreaterThan(first.token());
    assertThat(second.holder()).isEqualTo("worker-c");
    // The old token is dead.
    assertThat(failure(a, Addresses.LOCK_RENEW, new JsonObject().put("name", "orders")
        .put("token", first.token()))).startsWith("CONFLICT");
    second.release().await(30, TimeUnit.SECONDS);
    assertThat(call(c, Addresses.LOCK_INFO, new JsonObject().put("name", "orders"))
        .getBoolean("held")).isFalse();
  }

  @Test
  void waiters_are_granted_in_arrival_order() throws Exception {
    FencedLock holder = a.locks().acquire("fifo").await(30, TimeUnit.SECONDS);
    List<Keel> via = List.of(b, c, a, b, c);
    List<Future<FencedLock>> waiters = new ArrayList<>();
    for (int i = 0; i < via.size(); i++) {
      waiters.add(via.get(i).locks().acquire("fifo", new LockOptions().setWaitMs(60_000)
          .setHolder("w" + i)));
      int queued = i + 1;
      await().atMost(Duration.ofSeconds(20)).until(() -> call(a, Addresses.LOCK_INFO,
          new JsonObject().put("name", "fifo")).getInteger("waiters") == queued);
    }
    FencedLock current = holder;
    long lastToken = holder.token();
    for (int i = 0; i < waiters.size(); i++) {
      current.release().await(30, TimeUnit.SECONDS);
      current = waiters.get(i).await(30, TimeUnit.SECONDS);
      assertThat(current.holder()).isEqualTo("w" + i);
      assertThat(current.token()).isGreaterThan(lastToken);
      lastToken = current.token();
      for (int j = i + 1; j < waiters.size(); j++) {
        assertThat(waiters.get(j).isComplete()).as("waiter %d after %d", j, i).isFalse();
      }
    }
    current.release().await(30, TimeUnit.SECONDS);
  }

  @Test
  void a_lease_not_renewed_ends_and_the_next_waiter_gets_the_lock() throws Exception {
    FencedLock lapsing = a.locks().acquire("lease", new LockOptions().setLeaseMs(500))
        .await(30, TimeUnit.SECONDS);
    FencedLock next = b.locks().acquire("lease", new LockOptions().setWaitMs(20_000))
        .await(30, TimeUnit.SECONDS);
    assertThat(next.token()).isGreaterThan(lapsing.token());
    assertThat(failure(a, Addresses.LOCK_RELEASE, new JsonObject().put("name", "lease")
        .put("token", lapsing.token()))).startsWith("CONFLICT").contains("lease ended");
    next.release().await(30, TimeUnit.SECONDS);
  }

  @Test
  void bad_input_gets_bad_request_and_changes_nothing() {
    JsonObject ok = new JsonObject().put("name", "bad");
    assertThat(failure(a, Addresses.LOCK_ACQUIRE, new JsonObject())).startsWith("BAD_REQUEST")
        .contains("'name'");
    assertThat(failure(a, Addresses.LOCK_ACQUIRE, ok.copy().put("leaseMs", -1)))
        .startsWith("BAD_REQUEST").contains("'leaseMs'");
    assertThat(failure(a, Addresses.LOCK_ACQUIRE, ok.copy().put("leaseMs", 86_400_000L)))
        .startsWith("BAD_REQUEST").contains("'leaseMs'");
    assertThat(failure(a, Addresses.LOCK_ACQUIRE, ok.copy().put("waitMs", "long")))
        .startsWith("BAD_REQUEST").contains("'waitMs'");
    assertThat(failure(a, Addresses.LOCK_RENEW, ok.copy())).startsWith("BAD_REQUEST")
        .contains("'token'");
    assertThat(failure(a, Addresses.LOCK_RELEASE, ok.copy().put("token", "x")))
        .startsWith("BAD_REQUEST").contains("'token'");
    assertThat(failure(a, Addresses.LOCK_RELEASE, ok.copy().put("token", 12345)))
        .startsWith("CONFLICT");
    assertThat(failure(a, Addresses.LOCK_INFO, new JsonObject().put("name", 7)))
        .startsWith("BAD_REQUEST");
  }

  /**
   * 64 acquirers in one JVM on one name (the failure of Vert.x's own lock): never two holders
   * at once, every increment kept, every token accepted by the fence in order.
   */
  @Test
  void sixty_four_acquirers_in_one_jvm_never_hold_the_lock_together() throws Exception {
    AtomicInteger holding = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    AtomicInteger counter = new AtomicInteger();
    Fence fence = new Fence();
    List<Long> refused = new CopyOnWriteArrayList<>();
    List<Future<Void>> all = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      Keel via = List.of(a, b, c).get(i % 3);
      all.add(via.locks().withLock("hot", new LockOptions().setWaitMs(120_000), lock -> {
        if (holding.incrementAndGet() > 1) {
          overlaps.incrementAndGet();
        }
        if (!fence.accept("hot", lock.token())) {
          refused.add(lock.token());
        }
        int read = counter.get();
        Promise<Void> done = Promise.promise();
        // Read, yield to the event loop, then write: a second holder would lose an increment.
        via.vertx().setTimer(1, id -> {
          counter.set(read + 1);
          holding.decrementAndGet();
          done.complete();
        });
        return done.future();
      }));
    }
    Future.all(all).await(120, TimeUnit.SECONDS);
    assertThat(overlaps.get()).isZero();
    assertThat(refused).isEmpty();
    assertThat(counter.get()).isEqualTo(64);
  }

  @Test
  void with_lock_renews_while_the_block_runs_and_releases_after_it() throws Exception {
    List<Long> tokens = new CopyOnWriteArrayList<>();
    Promise<Void> block = Promise.promise();
    Future<String> running = a.locks().withLock("long", new LockOptions().setLeaseMs(600),
        lock -> {
          tokens.add(lock.token());
          return block.future().map("done");
        });
    await().atMost(Duration.ofSeconds(20)).until(() -> !tokens.isEmpty());
    // Three leases later the lock is still held by the block's token.
    Future<FencedLock> other = b.locks().acquire("long", new LockOptions().setWaitMs(1_800));
    assertThat(failureOf(other)).startsWith("TIMEOUT");
    assertThat(call(c, Addresses.LOCK_INFO, new JsonObject().put("name", "long"))
        .getLong("token")).isEqualTo(tokens.get(0));
    block.complete();
    assertThat(running.await(30, TimeUnit.SECONDS)).isEqualTo("done");
    await().atMost(Duration.ofSeconds(10)).until(() -> !call(c, Addresses.LOCK_INFO,
        new JsonObject().put("name", "long")).getBoolean("held"));
    // A block that throws still releases.
    Future<Object> thrown = a.locks().withLock("long", new LockOptions(), lock -> {
      throw new IllegalStateException("boom");
    });
    assertThat(failureOf(thrown)).contains("boom");
    assertThat(call(c, Addresses.LOCK_INFO, new JsonObject().put("name", "long"))
        .getBoolean("held")).isFalse();
  }

  @Test
  void status_lists_held_locks() throws Exception {
    FencedLock lock = c.locks().acquire("listed", new LockOptions().setHolder("shown"))
        .await(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      List<Object> listed = new ArrayList<>();
      for (Keel k : List.of(a, b, c)) {
        call(k, Addresses.status(k.nodeName()), new JsonObject()).getJsonArray("locks")
            .forEach(listed::add);
      }
      assertThat(listed).anySatisfy(o -> {
        JsonObject j = (JsonObject) o;
        assertThat(j.getString("name")).isEqualTo("listed");
        assertThat(j.getString("holder")).isEqualTo("shown");
        assertThat(j.getLong("token")).isEqualTo(lock.token());
      });
    });
    lock.release().await(30, TimeUnit.SECONDS);
  }

  @Test
  void status_counts_every_held_lock_and_lists_only_the_first_hundred_by_name()
      throws Exception {
    // 350 locks over 3 leaders: one leads at least 117 of them, more than a list shows.
    List<Future<FencedLock>> taking = new ArrayList<>();
    for (int i = 0; i < 350; i++) {
      taking.add(List.of(a, b, c).get(i % 3).locks().acquire(String.format("many-%03d", i)));
    }
    List<FencedLock> taken = new ArrayList<>();
    for (Future<FencedLock> f : taking) {
      taken.add(f.await(30, TimeUnit.SECONDS));
    }
    try {
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
        long held = 0;
        boolean cut = false;
        for (Keel k : List.of(a, b, c)) {
          JsonObject status = call(k, Addresses.status(k.nodeName()), new JsonObject());
          long count = status.getLong("locksHeld");
          List<String> names = status.getJsonArray("locks").stream()
              .map(o -> ((JsonObject) o).getString("name")).toList();
          assertThat(names).hasSize((int) Math.min(count, LockService.HELD_LISTED_MAX))
              .isSorted().doesNotHaveDuplicates();
          cut |= count > LockService.HELD_LISTED_MAX;
          held += count;
        }
        assertThat(held).isGreaterThanOrEqualTo(350);
        assertThat(cut).as("a node leads more held locks than it lists").isTrue();
      });
    } finally {
      for (FencedLock lock : taken) {
        lock.release().await(30, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void http_acquires_shows_and_releases_a_lock_with_the_failure_codes_as_statuses()
      throws Exception {
    io.vertx.ext.web.client.WebClient http = io.vertx.ext.web.client.WebClient.create(a.vertx());
    try {
      int port = b.httpPort();
      var acquired = http.post(port, "127.0.0.1", "/v1/locks/web/acquire")
          .sendJsonObject(new JsonObject().put("leaseMs", 30_000).put("holder", "curl"))
          .await(30, TimeUnit.SECONDS);
      assertThat(acquired.statusCode()).isEqualTo(200);
      long token = acquired.bodyAsJsonObject().getLong("token");
      var info = http.get(port, "127.0.0.1", "/v1/locks/web").send().await(30, TimeUnit.SECONDS);
      assertThat(info.bodyAsJsonObject().getString("holder")).isEqualTo("curl");
      var busy = http.post(port, "127.0.0.1", "/v1/locks/web/acquire").send()
          .await(30, TimeUnit.SECONDS);
      assertThat(busy.statusCode()).isEqualTo(408);
      assertThat(busy.bodyAsJsonObject().getString("error")).isEqualTo("TIMEOUT");
      var bad = http.post(port, "127.0.0.1", "/v1/locks/web/release")
          .sendBuffer(io.vertx.core.buffer.Buffer.buffer("{not json"))
          .await(30, TimeUnit.SECONDS);
      assertThat(bad.statusCode()).isEqualTo(400);
      var huge = http.post(port, "127.0.0.1", "/v1/locks/web/release")
          .sendBuffer(io.vertx.core.buffer.Buffer.buffer("{\"token\":" + token + ",\"pad\":\""
              + "x".repeat(4096) + "\"}")).await(30, TimeUnit.SECONDS);
      assertThat(huge.statusCode()).as("a body over httpBodyBytesMax, 4 KiB here")
          .isEqualTo(413);
      var released = http.post(port, "127.0.0.1", "/v1/locks/web/release")
          .sendJsonObject(new JsonObject().put("token", token)).await(30, TimeUnit.SECONDS);
      assertThat(released.statusCode()).isEqualTo(200);
      var again = http.post(port, "127.0.0.1", "/v1/locks/web/release")
          .sendJsonObject(new JsonObject().put("token", token)).await(30, TimeUnit.SECONDS);
      assertThat(again.statusCode()).isEqualTo(409);
    } finally {
      http.close();
    }
  }

  /**
   * Each lock event and each refusal of a stale token is counted once in the cluster: by the
   * leader of the lock's partition, which decided it. The queue gauge shows the waiter.
   */
  @Test
  void metrics_count_lock_events_and_fenced_rejections_once_on_the_leader() throws Exception {
    String name = "metered";
    int p = a.routing().owner(name).partition();
    List<Keel> all = List.of(a, b, c);
    // The leader the table wants, known to all: leadership has no reason to move meanwhile.
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      String l = a.routing().owner(name).primary();
      return l != null && all.stream().allMatch(k -> l.equals(k.groups().leaderOf(p)));
    });
    Keel leader = cluster.node(a.groups().leaderOf(p));
    Map<String, Integer> expected = new LinkedHashMap<>();
    expected.put("keel_lock_events_total{reason=\"granted\"}", 2);
    expected.put("keel_lock_events_total{reason=\"released\"}", 1);
    expected.put("keel_lock_events_total{reason=\"expired\"}", 1);
    expected.put("keel_lock_fenced_rejections_total{op=\"renew\"}", 1);
    expected.put("keel_lock_fenced_rejections_total{op=\"release\"}", 1);
    expected.put("keel_lock_fenced_rejections_total{op=\"map_put\"}", 1);
    expected.put("keel_lock_fenced_rejections_total{op=\"map_delete\"}", 0);
    Map<Keel, String> before = new LinkedHashMap<>();
    for (Keel k : all) {
      before.put(k, Scrape.text(k));
    }

    FencedLock first = a.locks().acquire(name, new LockOptions().setLeaseMs(30_000))
        .await(30, TimeUnit.SECONDS);
    Future<FencedLock> waiting = b.locks().acquire(name, new LockOptions().setWaitMs(20_000)
        .setLeaseMs(500));
    // The gauge follows the held locks, which the leader refreshes every 2 s.
    await().atMost(Duration.ofSeconds(20)).until(() ->
        Scrape.value(leader, "keel_lock_waiters") == 1.0);
    first.release().await(30, TimeUnit.SECONDS);
    FencedLock second = waiting.await(30, TimeUnit.SECONDS);
    assertThat(failure(c, Addresses.LOCK_RENEW, new JsonObject().put("name", name)
        .put("token", first.token()))).startsWith("CONFLICT");
    a.map("fenced").put(name, 1, second).await(30, TimeUnit.SECONDS);
    assertThat(failureOf(a.map("fenced").put(name, 2, first))).startsWith("CONFLICT");
    // The second lease (500 ms) is never renewed: it expires, and its token is stale.
    await().atMost(Duration.ofSeconds(20)).until(() -> !call(a, Addresses.LOCK_INFO,
        new JsonObject().put("name", name)).getBoolean("held"));
    assertThat(failure(b, Addresses.LOCK_RELEASE, new JsonObject().put("name", name)
        .put("token", second.token()))).startsWith("CONFLICT");

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      Map<Keel, String> after = new LinkedHashMap<>();
      for (Keel k : all) {
        after.put(k, Scrape.text(k));
      }
      expected.forEach((series, count) -> {
        double sum = 0;
        for (Keel k : all) {
          sum += Scrape.value(after.get(k), series) - Scrape.value(before.get(k), series);
        }
        assertThat(sum).as("%s, over the cluster", series).isEqualTo(count.doubleValue());
        assertThat(Scrape.value(after.get(leader), series)
            - Scrape.value(before.get(leader), series)).as("%s, on the leader %s", series,
            leader.nodeName()).isEqualTo(count.doubleValue());
      });
      assertThat(Scrape.value(after.get(leader), "keel_lock_waiters")).isZero();
    });
  }

  private static String failureOf(Future<?> f) {
    try {
      f.await(60, TimeUnit.SECONDS);
      return "acknowledged";
    } catch (Exception e) {
      Throwable t = e instanceof io.vertx.core.eventbus.ReplyException ? e
          : e.getCause() != null ? e.getCause() : e;
      return Failure.of(t) + ": " + t.getMessage();
    }
  }

  @Test
  void vertx_shared_data_lock_loses_increments_under_the_same_workload() throws Exception {
    SharedDataLoops loops = new SharedDataLoops();
    List<Future<Void>> all = new ArrayList<>();
    for (Keel node : List.of(a, b, c)) {
      for (int i = 0; i < SHARED_LOOPS_PER_NODE; i++) {
        Promise<Void> done = Promise.promise();
        all.add(done.future());
        Vertx vertx = node.vertx();
        vertx.runOnContext(v -> loops.next(vertx, done));
      }
    }
    await().atMost(Duration.ofSeconds(90)).until(() -> loops.increments.get() >= 2_000);
    loops.running.set(false);
    Future.all(all).await(60, TimeUnit.SECONDS);
    long lost = loops.increments.get() - loops.shared.get();
    log.info("Vert.x SharedData lock, 3 nodes x {} loops: {} increments, counter {}, {} lost;"
        + " {} grants while another holder held it; {} lock failures", SHARED_LOOPS_PER_NODE,
        loops.increments.get(), loops.shared.get(), lost, loops.overlaps.get(),
        loops.lockFailures.get());
    assertThat(lost).as("increments lost (the counter cannot exceed them)").isNotNegative();
    if (lost == 0) {
      log.warn("this run did not reproduce a lost increment under Vert.x's SharedData lock"
          + " ({} increments)", loops.increments.get());
    }
  }

  /**
   * LockCrashIT's fenced counter workload under {@code vertx.sharedData().getLockWithTimeout}:
   * lock, read, an async hop, write the value read + 1, unlock; until stopped. No token, so no
   * fence. (In-JVM nodes: the control needs no crash, and Vert.x's lock loses increments here
   * already.)
   */
  private static final class SharedDataLoops {
    final AtomicLong shared = new AtomicLong();
    final AtomicLong increments = new AtomicLong();
    final AtomicLong overlaps = new AtomicLong();
    final AtomicLong lockFailures = new AtomicLong();
    final AtomicLong holding = new AtomicLong();
    final AtomicBoolean running = new AtomicBoolean(true);

    void next(Vertx vertx, Promise<Void> done) {
      if (!running.get()) {
        done.complete();
        return;
      }
      vertx.sharedData().getLockWithTimeout("shared-counter", 20_000).onComplete(ar -> {
        if (ar.failed()) {
          lockFailures.incrementAndGet();
          next(vertx, done);
          return;
        }
        Lock lock = ar.result();
        if (holding.incrementAndGet() > 1) {
          overlaps.incrementAndGet();
        }
        long read = shared.get();
        vertx.setTimer(1, id -> {
          shared.set(read + 1);
          increments.incrementAndGet();
          holding.decrementAndGet();
          lock.release();
          next(vertx, done);
        });
      });
    }
  }
}
