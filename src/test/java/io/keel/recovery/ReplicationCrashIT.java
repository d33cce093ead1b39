package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.harness.InProcessClient;
import io.keel.harness.NodeProcess;
import io.keel.harness.ProcessCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replicated writes with real node JVMs that are killed ({@code kill -9}) while clients write:
 * every acknowledged write survives on the remaining nodes and reaches the restarted one; with
 * two of three nodes gone nothing is acknowledged, and their return loses nothing.
 *
 * <p>Writes are adds to replicated counters ({@code keel.counter.add}), each with its own
 * request id. A key's final value must be at least the sum of its acknowledged adds (none lost)
 * and at most the sum of all adds attempted (a refused or timed-out add may or may not have
 * happened, but none twice).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ReplicationCrashIT {
  private static final Logger log = LoggerFactory.getLogger(ReplicationCrashIT.class);
  private static final Duration SETTLE = Duration.ofSeconds(90);
  private static final int PARTITIONS = 16;
  private static final int KEYS = 40;
  private static final int IN_FLIGHT = 8;

  @RegisterExtension
  final NodeProcess.Guard guard = new NodeProcess.Guard();

  private ProcessCluster cluster;
  private InProcessClient client;

  @AfterEach
  void stop() throws Exception {
    try {
      if (client != null) {
        client.close();
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  /** Adds with unique request ids, {@link #IN_FLIGHT} at a time, until stopped. */
  private final class Writers {
    final Map<String, AtomicLong> acked = new ConcurrentHashMap<>();
    final Map<String, AtomicLong> attempted = new ConcurrentHashMap<>();
    final AtomicLong acks = new AtomicLong();
    final AtomicLong failures = new AtomicLong();
    final AtomicBoolean running = new AtomicBoolean(true);
    final List<Future<Void>> loops = new ArrayList<>();
    final AtomicLong ids = new AtomicLong();

    Writers start() {
      for (int i = 0; i < IN_FLIGHT; i++) {
        Promise<Void> done = Promise.promise();
        loops.add(done.future());
        client.keel().vertx().runOnContext(v -> next(done));
      }
      return this;
    }

    private void next(Promise<Void> done) {
      if (!running.get()) {
        done.complete();
        return;
      }
      long id = ids.incrementAndGet();
      String key = "key-" + (id % KEYS);
      long delta = 1 + id % 3;
      attempted.computeIfAbsent(key, k -> new AtomicLong()).addAndGet(delta);
      add(key, delta, "w-" + id, 5_000).onComplete(ar -> {
        if (ar.succeeded()) {
          acked.computeIfAbsent(key, k -> new AtomicLong()).addAndGet(delta);
          acks.incrementAndGet();
        } else {
          failures.incrementAndGet();
        }
        next(done);
      });
    }

    void stop() throws Exception {
      running.set(false);
      Future.all(loops).await(60, TimeUnit.SECONDS);
    }
  }

  private Future<JsonObject> add(String key, long delta, String requestId, long timeoutMs) {
    return client.keel().vertx().eventBus().<JsonObject>request(Addresses.COUNTER_ADD,
        new JsonObject().put("key", key).put("delta", delta).put("requestId", requestId)
            .put("timeoutMs", timeoutMs),
        new DeliveryOptions().setSendTimeout(timeoutMs + 5_000)).map(Message::body);
  }

  private long read(String key) throws Exception {
    return client.keel().vertx().eventBus().<JsonObject>request(Addresses.COUNTER_GET,
        new JsonObject().put("key", key), new DeliveryOptions().setSendTimeout(20_000))
        .map(m -> m.body().getLong("value")).await(30, TimeUnit.SECONDS);
  }

  /** Waits until every partition on every named node is active with three members. */
  private void awaitGroups(List<String> names) {
    cluster.awaitGroups(names, PARTITIONS, SETTLE);
  }

  /** Each partition's applied index on node {@code n}. */
  private Map<Integer, Long> applied(String n) {
    Map<Integer, Long> out = new TreeMap<>();
    for (Object o : cluster.node(n).status().getJsonArray("partitions")) {
      JsonObject p = (JsonObject) o;
      out.put(p.getInteger("partition"), p.getLong("applied"));
    }
    return out;
  }

  private void start3() {
    cluster = new ProcessCluster(guard.logDir(), 3, "--partitions", Integer.toString(PARTITIONS));
    cluster.startAll("n1", "n2", "n3");
    client = InProcessClient.join(cluster, "client");
    awaitGroups(List.of("n1", "n2", "n3"));
  }

  @Test
  void acknowledged_writes_survive_kill_9_during_a_write_stream() throws Exception {
    start3();
    Writers writers = new Writers().start();
    await().atMost(SETTLE).until(() -> writers.acks.get() >= 300);
    NodeProcess victim = cluster.node("n2");
    victim.kill9();
    long acksAtKill = writers.acks.get();
    // Writes go on, and are acknowledged again once the victim's groups have new leaders.
    await().atMost(SETTLE).until(() -> writers.acks.get() >= acksAtKill + 300);
    writers.stop();
    log.info("{} adds acknowledged, {} failed", writers.acks.get(), writers.failures.get());

    for (int k = 0; k < KEYS; k++) {
      String key = "key-" + k;
      long value = read(key);
      assertThat(value).as(key).isBetween(count(writers.acked, key),
          count(writers.attempted, key));
    }
    Map<Integer, Long> before = applied("n1");

    victim.restart().awaitReady();
    awaitGroups(List.of("n1", "n2", "n3"));
    // The restarted node caught up: it applied every partition's log at least as far as the
    // survivors had when the writes stopped.
    await().atMost(SETTLE).untilAsserted(() -> {
      Map<Integer, Long> restarted = applied("n2");
      for (Map.Entry<Integer, Long> e : before.entrySet()) {
        assertThat(restarted.get(e.getKey())).as("partition %d on n2", e.getKey())
            .isGreaterThanOrEqualTo(e.getValue());
      }
    });
    for (int k = 0; k < KEYS; k++) {
      String key = "key-" + k;
      assertThat(read(key)).as(key).isBetween(count(writers.acked, key),
          count(writers.attempted, key));
    }
  }

  @Test
  void two_of_three_killed_acknowledge_nothing_and_lose_nothing_on_return() throws Exception {
    start3();
    Map<String, Long> acked = new TreeMap<>();
    for (int k = 0; k < 20; k++) {
      String key = "key-" + k;
      add(key, 5, "before-" + k, 10_000).await(30, TimeUnit.SECONDS);
      acked.put(key, 5L);
    }
    cluster.node("n2").kill9();
    cluster.node("n3").kill9();
    // All at once: each waits out its own budget, and none may be acknowledged.
    List<Future<JsonObject>> during = new ArrayList<>();
    for (int k = 0; k < 20; k++) {
      during.add(add("key-" + k, 1000, "during-" + k, 3_000));
    }
    List<String> outcomes = new ArrayList<>();
    for (Future<JsonObject> write : during) {
      try {
        write.await(30, TimeUnit.SECONDS);
        outcomes.add("acknowledged");
      } catch (Exception e) {
        Failure f = Failure.of(e);
        outcomes.add(f == null ? e.toString() : f.name());
      }
    }
    log.info("writes without a majority: {}", outcomes);
    assertThat(outcomes).allMatch(o -> o.equals("UNAVAILABLE") || o.equals("TIMEOUT")
        || o.contains("Timed out"));

    cluster.startAll("n2", "n3");
    awaitGroups(List.of("n1", "n2", "n3"));
    for (Map.Entry<String, Long> e : acked.entrySet()) {
      long v = read(e.getKey());
      // The unacknowledged add may have been committed after all (it was in the old leader's
      // log), once; never more.
      assertThat(v).as(e.getKey()).isIn(e.getValue(), e.getValue() + 1000);
    }
  }

  private static long count(Map<String, AtomicLong> counts, String key) {
    AtomicLong c = counts.get(key);
    return c == null ? 0 : c.get();
  }
}
