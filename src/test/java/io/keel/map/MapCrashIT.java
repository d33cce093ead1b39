package io.keel.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.check.HistoryCheck;
import io.keel.check.Linearizability;
import io.keel.check.Op;
import io.keel.harness.InProcessClient;
import io.keel.harness.NodeProcess;
import io.keel.harness.ProcessCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
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
 * The replicated map with real node JVMs under faults. Clients put, compare-and-set, delete and
 * read random keys through every node (half of them over the event bus, which picks the entry
 * node, half over the HTTP API of a node they pick, with If-Match for compare-and-set, so that
 * both APIs face the same checks) while the harness
 * kills a node with {@code kill -9}, restarts it, and adds a fourth. Then every key is read, and
 * the whole history is checked: every acknowledged write is still there or overwritten by a
 * later one, no version of a key goes backwards, and each key's history is linearizable
 * (indeterminate operations, those that timed out or lost their leader, may or may not have
 * happened). A second test kills all three nodes at once and restarts them: everything
 * acknowledged is still there.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class MapCrashIT {
  private static final Logger log = LoggerFactory.getLogger(MapCrashIT.class);
  private static final Duration SETTLE = Duration.ofSeconds(120);
  private static final int PARTITIONS = 16;
  private static final int KEYS = 10;
  private static final int CLIENTS = 8;
  private static final String MAP = "history";
  private static final List<String> NODES = List.of("n1", "n2", "n3");

  @RegisterExtension
  final NodeProcess.Guard guard = new NodeProcess.Guard();

  private ProcessCluster cluster;
  private InProcessClient client;
  private HttpClient http;

  @AfterEach
  void stop() throws Exception {
    try {
      if (client != null) {
        client.close();
      }
      if (http != null) {
        http.close();
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  private Future<JsonObject> call(String address, JsonObject body) {
    return client.keel().vertx().eventBus().<JsonObject>request(address,
        body.put("map", MAP).put("timeoutMs", 5_000),
        new DeliveryOptions().setSendTimeout(10_000)).map(Message::body);
  }

  /**
   * The same request through the HTTP API of node {@code node}: the body the event bus would
   * carry becomes the route, the {@code If-Match} / {@code If-None-Match} pair and the JSON
   * body; a failure status becomes the failure of that code, as the event bus would give it.
   */
  private Future<JsonObject> httpCall(String node, String address, JsonObject body) {
    HttpMethod method = address.equals(Addresses.MAP_GET) ? HttpMethod.GET
        : address.equals(Addresses.MAP_PUT) ? HttpMethod.PUT : HttpMethod.DELETE;
    RequestOptions req = new RequestOptions().setMethod(method).setHost("127.0.0.1")
        .setPort(cluster.node(node).httpPort()).setTimeout(10_000)
        .setURI("/v1/maps/" + MAP + "/" + body.getString("key"));
    Long expect = body.getLong("expectVersion");
    if (expect != null && expect == 0) {
      req.addHeader("If-None-Match", "*");
    } else if (expect != null) {
      req.addHeader("If-Match", "\"" + expect + "\"");
    }
    JsonObject sent = new JsonObject().put("timeoutMs", 5_000);
    if (body.containsKey("value")) {
      sent.put("value", body.getValue("value"));
    }
    return http.request(req).compose(r -> r.send(method == HttpMethod.GET ? "" : sent.encode()))
        .compose(resp -> resp.body().compose(b -> {
          JsonObject reply = new JsonObject(b);
          if (resp.statusCode() == 200 || (resp.statusCode() == 404 && method == HttpMethod.GET
              && Boolean.FALSE.equals(reply.getBoolean("found")))) {
            return Future.succeededFuture(reply);
          }
          Failure f = Failure.fromCode(resp.statusCode());
          return Future.failedFuture(f == null ? new IllegalStateException("HTTP "
              + resp.statusCode() + ": " + b) : f.exception(reply.getString("message")));
        }));
  }

  /** Clients that each run one operation at a time, recording every one, until stopped. */
  private final class Clients {
    final List<Op> history = Collections.synchronizedList(new ArrayList<>());
    final List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
    final AtomicLong completed = new AtomicLong();
    final AtomicLong httpAnswered = new AtomicLong();
    final AtomicBoolean running = new AtomicBoolean(true);
    final List<Future<Void>> loops = new ArrayList<>();

    Clients start() {
      for (int i = 0; i < CLIENTS; i++) {
        Promise<Void> done = Promise.promise();
        loops.add(done.future());
        String name = "c" + i;
        Random random = new Random(i);
        Map<String, Long> seen = new HashMap<>();
        client.keel().vertx().runOnContext(v -> next(name, random, seen, 0, done));
      }
      return this;
    }

    private void next(String name, Random random, Map<String, Long> seen, int n,
        Promise<Void> done) {
      if (!running.get()) {
        done.complete();
        return;
      }
      String key = "k" + random.nextInt(KEYS);
      String value = name + "-" + n;
      long known = seen.getOrDefault(key, 0L);
      int dice = random.nextInt(100);
      Op op;
      Future<JsonObject> sent;
      long at = System.nanoTime();
      JsonObject body = new JsonObject().put("key", key);
      String address;
      if (dice < 35) {
        op = Op.get(name, key, at);
        address = Addresses.MAP_GET;
      } else if (dice < 65) {
        op = Op.put(name, key, value, at);
        address = Addresses.MAP_PUT;
        body.put("value", value);
      } else if (dice < 92) {
        op = Op.cas(name, key, known, value, at);
        address = Addresses.MAP_PUT;
        body.put("value", value).put("expectVersion", known);
      } else if (known > 0 && random.nextBoolean()) {
        op = Op.deleteIf(name, key, known, at);
        address = Addresses.MAP_DELETE;
        body.put("expectVersion", known);
      } else {
        op = Op.delete(name, key, at);
        address = Addresses.MAP_DELETE;
      }
      // Odd clients speak HTTP to a node of their choice (one that is down fails the call,
      // which then counts as indeterminate); even ones use the event bus.
      sent = http(name) ? httpCall(NODES.get(random.nextInt(NODES.size())), address, body)
          : call(address, body);
      sent.onComplete(ar -> {
        if (ar.failed() && ar.cause() instanceof java.net.ConnectException) {
          // The node is down: nothing was sent, so nothing happened. Pick another soon.
          client.keel().vertx().setTimer(100, id -> next(name, random, seen, n + 1, done));
          return;
        }
        if (http(name) && ar.succeeded()) {
          httpAnswered.incrementAndGet();
        }
        record(op, ar.succeeded() ? ar.result() : null, ar.cause(), seen);
        next(name, random, seen, n + 1, done);
      });
    }

    private void record(Op op, JsonObject reply, Throwable failure, Map<String, Long> seen) {
      long now = System.nanoTime();
      completed.incrementAndGet();
      if (reply != null) {
        Op done = switch (op.kind()) {
          case GET -> reply.getBoolean("found")
              ? op.found(reply.getString("value"), reply.getLong("version"), now)
              : op.notFound(now);
          case PUT, CAS -> op.ok(reply.getLong("version"), now);
          case DELETE -> reply.getBoolean("deleted") ? op.deleted(now) : op.notFound(now);
        };
        history.add(done);
        seen.put(op.key(), done.outcome() == Op.Outcome.FOUND || done.outcome() == Op.Outcome.OK
            ? done.version() : 0L);
        return;
      }
      Failure f = Failure.of(failure);
      if (f == Failure.CONFLICT && op.expectVersion() != Op.ANY) {
        history.add(op.conflict(now));
        seen.remove(op.key()); // learn the version again by a read
      } else if (f == Failure.BAD_REQUEST) {
        unexpected.add(op + ": " + failure.getMessage());
      } else if (op.kind() != Op.Kind.GET) {
        // Timed out, lost its leader or found none: it may or may not have happened.
        history.add(op);
      }
    }

    /** Whether client {@code name} speaks HTTP (the odd ones) rather than the event bus. */
    boolean http(String name) {
      return Integer.parseInt(name.substring(1)) % 2 == 1;
    }

    void stop() throws Exception {
      running.set(false);
      Future.all(loops).await(60, TimeUnit.SECONDS);
    }
  }

  /** Waits until every partition on every named node is active with three members. */
  private void awaitGroups(List<String> names) {
    await().atMost(SETTLE).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
      int replicas = 0;
      for (String n : names) {
        JsonObject status = cluster.node(n).status();
        for (Object o : status.getJsonArray("partitions")) {
          JsonObject p = (JsonObject) o;
          assertThat(p.getString("phase")).as("%s on %s", p, n).isEqualTo("active");
          assertThat(p.getJsonArray("members")).as("%s on %s", p, n).hasSize(3);
          replicas++;
        }
      }
      assertThat(replicas).isEqualTo(3 * PARTITIONS);
    });
  }

  /** What each key holds now, read linearizably (retried while its partition settles). */
  private Map<String, HistoryCheck.Stored> readAll(int keys) {
    Map<String, HistoryCheck.Stored> finals = new TreeMap<>();
    for (int k = 0; k < keys; k++) {
      String key = "k" + k;
      JsonObject got = await().atMost(SETTLE).ignoreExceptions().until(() ->
          call(Addresses.MAP_GET, new JsonObject().put("key", key)).await(20, TimeUnit.SECONDS),
          r -> r != null);
      if (got.getBoolean("found")) {
        finals.put(key, new HistoryCheck.Stored(got.getString("value"), got.getLong("version")));
      }
    }
    return finals;
  }

  private void awaitMore(Clients clients, long more) {
    long target = clients.completed.get() + more;
    await().atMost(SETTLE).until(() -> clients.completed.get() >= target);
  }

  @Test
  void histories_stay_linearizable_through_kill_9_restart_and_a_join() throws Exception {
    cluster = new ProcessCluster(guard.logDir(), 4, "--partitions", Integer.toString(PARTITIONS));
    cluster.startAll("n1", "n2", "n3");
    client = InProcessClient.join(cluster, "client");
    http = client.keel().vertx().createHttpClient();
    awaitGroups(List.of("n1", "n2", "n3"));

    Clients clients = new Clients().start();
    awaitMore(clients, 300);
    cluster.node("n2").kill9();
    log.info("n2 killed after {} operations", clients.completed.get());
    awaitMore(clients, 300);
    cluster.node("n2").restart().awaitReady();
    log.info("n2 back after {} operations", clients.completed.get());
    awaitMore(clients, 300);
    cluster.node("n4").start().awaitReady();
    log.info("n4 joined after {} operations", clients.completed.get());
    awaitMore(clients, 300);
    clients.stop();

    awaitGroups(List.of("n1", "n2", "n3", "n4"));
    Map<String, HistoryCheck.Stored> finals = readAll(KEYS);
    List<Op> history = List.copyOf(clients.history);
    long indeterminate = history.stream().filter(Op::indeterminate).count();
    log.info("{} operations recorded, {} indeterminate; final state {}", history.size(),
        indeterminate, finals);
    assertThat(clients.unexpected).isEmpty();
    assertThat(clients.httpAnswered.get()).as("operations answered over HTTP")
        .isGreaterThan(300);
    assertThat(HistoryCheck.all(history, finals)).isEmpty();
    Map<String, Linearizability.Result> results = Linearizability.checkAll(history);
    results.values().forEach(r -> log.info("{}: {} in {} steps", r.key(), r.verdict(),
        r.steps()));
    assertThat(results.values()).noneMatch(r -> r.verdict()
        == Linearizability.Verdict.NOT_LINEARIZABLE);
    // Decided for most keys: a search that gives up on every key would prove nothing.
    assertThat(results.values().stream().filter(Linearizability.Result::linearizable).count())
        .isGreaterThanOrEqualTo(KEYS - 2L);
  }

  @Test
  void a_full_cluster_kill_9_and_restart_keeps_every_acknowledged_write() throws Exception {
    cluster = new ProcessCluster(guard.logDir(), 3, "--partitions", Integer.toString(PARTITIONS));
    cluster.startAll("n1", "n2", "n3");
    client = InProcessClient.join(cluster, "client");
    awaitGroups(List.of("n1", "n2", "n3"));
    int keys = 200;
    Map<String, HistoryCheck.Stored> acked = new TreeMap<>();
    List<Future<JsonObject>> writes = new ArrayList<>();
    for (int k = 0; k < keys; k++) {
      writes.add(call(Addresses.MAP_PUT, new JsonObject().put("key", "k" + k)
          .put("value", "v" + k)));
    }
    for (int k = 0; k < keys; k++) {
      JsonObject r = writes.get(k).await(30, TimeUnit.SECONDS);
      acked.put("k" + k, new HistoryCheck.Stored("v" + k, r.getLong("version")));
    }
    // The client leaves first: alone, it would stay a cluster of its own until Hazelcast's
    // split-brain merge, minutes later.
    client.close();
    client = null;
    for (String n : List.of("n1", "n2", "n3")) {
      cluster.node(n).kill9();
    }
    // All at once, as an operator restarting a cluster would: none waits alone for the others.
    cluster.startAll("n1", "n2", "n3");
    awaitGroups(List.of("n1", "n2", "n3"));
    client = InProcessClient.join(cluster, "client-2");
    assertThat(readAll(keys)).isEqualTo(acked);
  }
}
