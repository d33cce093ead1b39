package io.keel.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.cluster.ClusterMember;
import io.keel.cluster.ClusterSetup;
import io.keel.harness.InJvmCluster;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import io.vertx.core.Promise;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Routing across a real in-JVM cluster: three data nodes and one client node, each a clustered
 * Vert.x on its own Hazelcast member.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RoutingIT {
  private static final String SERVICE = "whoami";
  private static final String LED = "led";
  private static final DeliveryOptions FAST = new DeliveryOptions().setSendTimeout(5_000);

  private InJvmCluster cluster;
  private List<Keel> all;

  @BeforeAll
  void start_cluster() throws Exception {
    cluster = new InJvmCluster(6);
    Keel a = cluster.start("a");
    Keel b = cluster.start("b");
    Keel c = cluster.start("c");
    Keel client = cluster.start("client", o -> o.setRole(KeelOptions.Role.CLIENT));
    all = List.of(a, b, c, client);
    for (Keel k : List.of(a, b, c)) {
      k.routing().register(SERVICE, r -> Future.succeededFuture(
          new JsonObject().put("node", k.nodeName()).put("partition", r.partition())))
          .await(10, TimeUnit.SECONDS);
    }
    for (Keel k : List.of(a, b, c)) {
      k.routing().registerLeader(LED, r -> led(k, r)).await(10, TimeUnit.SECONDS);
      k.vertx().eventBus().addOutboundInterceptor(dc -> {
        if (dc.message().address().startsWith("keel.routed.answers.")) {
          lateAnswers.incrementAndGet();
        }
        dc.next();
      });
    }
    client.vertx().eventBus().addOutboundInterceptor(dc -> {
      if (dc.message().address().startsWith("keel.routed.batch.")) {
        batchesSent.incrementAndGet();
        itemsSent.addAndGet(((JsonObject) dc.body()).getJsonArray("items").size());
      }
      dc.next();
    });
    awaitAgreement(3);
  }

  private final AtomicInteger batchesSent = new AtomicInteger();
  private final AtomicInteger itemsSent = new AtomicInteger();
  private final AtomicInteger lateAnswers = new AtomicInteger();

  // Answers the test service holds until the test completes them, by item number.
  private static final Map<Long, Promise<JsonObject>> held = new ConcurrentHashMap<>();

  /**
   * The replicated test service: answers {@code {n, node}}; fails as {@code fail} says
   * ({@code CONFLICT}, or {@code throw}); with {@code hold}, the answer waits in {@link #held}.
   */
  private static Future<JsonObject> led(Keel k, ShardRequest r) {
    long n = r.body().getLong("n", 0L);
    String fail = r.body().getString("fail", "");
    if ("CONFLICT".equals(fail)) {
      return Future.failedFuture(Failure.CONFLICT.exception("item " + n + " conflicts"));
    }
    if ("throw".equals(fail)) {
      throw new IllegalStateException("item " + n + " broke");
    }
    JsonObject answer = new JsonObject().put("n", n).put("node", k.nodeName());
    if (!r.body().getBoolean("hold", false)) {
      return Future.succeededFuture(answer);
    }
    Promise<JsonObject> later = Promise.promise();
    held.put(n, later);
    return later.future().map(v -> answer);
  }

  /** The requests {@code make} makes, all made in one turn of an event loop of {@code k}. */
  private static List<Future<JsonObject>> inOneTurn(Keel k,
      Supplier<List<Future<JsonObject>>> make) throws Exception {
    CompletableFuture<List<Future<JsonObject>>> made = new CompletableFuture<>();
    k.vertx().getOrCreateContext().runOnContext(v -> made.complete(make.get()));
    return made.get(10, TimeUnit.SECONDS);
  }

  private static Future<JsonObject> led(Keel from, String key, JsonObject body, long timeoutMs) {
    return from.routing().requestLeader(LED, key, body, timeoutMs);
  }

  @AfterAll
  void stop_cluster() throws Exception {
    cluster.close();
  }

  private void awaitAgreement(int dataMembers) {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      long epoch = all.get(0).routing().table().epoch();
      for (Keel k : all) {
        assertThat(k.routing().table().members()).hasSize(dataMembers);
        assertThat(k.routing().table().epoch()).as(k.nodeName()).isEqualTo(epoch);
      }
    });
  }

  @Test
  void a_newer_table_from_another_member_list_stops_steps_until_a_data_node_claims_an_epoch()
      throws Exception {
    awaitAgreement(3);
    long before = all.get(0).routing().table().epoch();
    HazelcastInstance hz = Hazelcast.getAllHazelcastInstances().stream()
        .filter(h -> h.getConfig().getClusterName().equals(cluster.clusterName()))
        .findFirst().orElseThrow();
    // What a node whose Hazelcast sees other members would have agreed for its own table.
    long foreign = before + 100;
    hz.getMap("keel.epoch").put("table", foreign + "|a member list no node here has");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      for (Keel k : all) {
        assertThat(k.routing().tableCurrent()).as(k.nodeName()).isFalse();
      }
    });
    Keel first = all.get(0);
    assertThat(first.vertx().eventBus().<JsonObject>request(Addresses.status(first.nodeName()),
        new JsonObject()).await(30, TimeUnit.SECONDS).body().getBoolean("tableCurrent")).isFalse();
    for (Keel k : all) {
      assertThat(k.routing().table().epoch()).as(k.nodeName()).isEqualTo(before);
    }
    // The foreign list never comes to agree: a data node claims a newer epoch for its own list
    // after the wait, and every node, the client too, adopts it.
    await().atMost(Duration.ofMillis(TableAuthority.REASSERT_MS + 20_000)).untilAsserted(() -> {
      for (Keel k : all) {
        assertThat(k.routing().tableCurrent()).as(k.nodeName()).isTrue();
        assertThat(k.routing().table().epoch()).as(k.nodeName()).isGreaterThan(foreign);
      }
    });
    awaitAgreement(3);
  }

  @Test
  void routing_reaches_the_owner_from_every_node() throws Exception {
    SplittableRandom random = new SplittableRandom(42);
    for (Keel from : all) {
      for (int i = 0; i < 50; i++) {
        String key = "user:" + random.nextLong();
        JsonObject reply = from.routing().request(SERVICE, key, new JsonObject())
            .await(10, TimeUnit.SECONDS);
        String owner = from.routing().table().primaryOf(key);
        assertThat(reply.getString("node")).as("key %s from %s", key, from.nodeName())
            .isEqualTo(owner);
        assertThat(reply.getInteger("partition"))
            .isEqualTo(from.routing().table().partitionOf(key));
      }
    }
  }

  @Test
  void every_node_computes_the_same_table_and_the_client_owns_nothing() {
    PartitionTable reference = all.get(0).routing().table();
    for (Keel k : all) {
      assertThat(k.routing().table().sameAssignment(reference)).as(k.nodeName()).isTrue();
    }
    assertThat(reference.members()).extracting(Member::name).containsExactly("a", "b", "c");
    assertThat(reference.primaryPartitions("client")).isEmpty();
    assertThat(all.get(3).routing().members()).extracting(ClusterMember::role)
        .containsExactlyInAnyOrder("data", "data", "data", "client");
  }

  @Test
  void ring_owner_answers_partition_primary_replicas_and_epoch() throws Exception {
    Keel client = all.get(3);
    JsonObject reply = client.vertx().eventBus()
        .<JsonObject>request(Addresses.RING_OWNER, new JsonObject().put("key", "order:7"), FAST)
        .await(10, TimeUnit.SECONDS).body();
    PartitionTable t = client.routing().table();
    int p = t.partitionOf("order:7");
    assertThat(reply.getInteger("partition")).isEqualTo(p);
    assertThat(reply.getString("primary")).isEqualTo(t.primary(p));
    assertThat(reply.getJsonArray("replicas").getList()).isEqualTo(t.replicas(p));
    assertThat(reply.getJsonArray("replicas")).hasSize(3);
    assertThat(reply.getLong("epoch")).isEqualTo(t.epoch());
  }

  @Test
  void ring_owner_with_missing_or_non_string_key_is_bad_request() {
    Vertx vertx = all.get(0).vertx();
    for (JsonObject body : List.of(new JsonObject(), new JsonObject().put("key", 5),
        new JsonObject().put("key", new JsonObject()), new JsonObject().put("key", ""),
        new JsonObject().put("key", true))) {
      assertThatThrownBy(() -> vertx.eventBus().request(Addresses.RING_OWNER, body, FAST)
          .await(10, TimeUnit.SECONDS))
          .as("body %s", body)
          .isInstanceOfSatisfying(ReplyException.class, e -> {
            assertThat(e.failureType()).isEqualTo(ReplyFailure.RECIPIENT_FAILURE);
            assertThat(e.failureCode()).isEqualTo(400);
            assertThat(e.getMessage()).startsWith("BAD_REQUEST: field 'key'");
          });
    }
  }

  @Test
  void a_node_that_is_not_the_primary_answers_not_owner() throws Exception {
    Keel a = all.get(0);
    PartitionTable t = a.routing().table();
    String key = "k-not-owner";
    String notPrimary = t.replicas(t.partitionOf(key)).get(1);
    JsonObject msg = new JsonObject().put("key", key).put("epoch", t.epoch())
        .put("body", new JsonObject());
    Future<Message<Object>> f = a.vertx().eventBus()
        .request(Addresses.shard(SERVICE, notPrimary), msg, FAST);
    assertThatThrownBy(() -> f.await(10, TimeUnit.SECONDS))
        .isInstanceOfSatisfying(ReplyException.class, e -> {
          assertThat(e.failureCode()).isEqualTo(Failure.NOT_OWNER.code());
          assertThat(e.getMessage()).startsWith("NOT_OWNER: node " + notPrimary)
              .contains("its primary is " + t.primary(t.partitionOf(key)));
        });
  }

  @Test
  void a_newer_epoch_than_the_receivers_is_not_owner() {
    Keel a = all.get(0);
    PartitionTable t = a.routing().table();
    String key = "k-future";
    String primary = t.primaryOf(key);
    JsonObject msg = new JsonObject().put("key", key).put("epoch", t.epoch() + 1000)
        .put("body", new JsonObject());
    assertThatThrownBy(() -> a.vertx().eventBus()
        .request(Addresses.shard(SERVICE, primary), msg, FAST).await(10, TimeUnit.SECONDS))
        .isInstanceOfSatisfying(ReplyException.class,
            e -> assertThat(e.getMessage()).startsWith("NOT_OWNER: ").contains("older"));
  }

  @Test
  void handler_failures_keep_their_code_and_bad_requests_are_not_retried() {
    Keel client = all.get(3);
    assertThatThrownBy(() -> client.routing().request("no such service!", "k", null)
        .await(10, TimeUnit.SECONDS))
        .satisfies(e -> assertThat(Failure.of(e)).isEqualTo(Failure.BAD_REQUEST));
    assertThatThrownBy(() -> client.routing().request(SERVICE, "", null)
        .await(10, TimeUnit.SECONDS))
        .satisfies(e -> assertThat(Failure.of(e)).isEqualTo(Failure.BAD_REQUEST));
  }

  /** By the primary, and by the leader in a batch. */
  @Test
  void a_service_nobody_serves_is_unavailable_within_the_budget() {
    Routing routing = all.get(3).routing();
    List<Supplier<Future<JsonObject>>> requests = List.of(
        () -> routing.request("nobody", "k", null, 1_000),
        () -> routing.requestLeader("nobody", "k", null, 1_000));
    for (Supplier<Future<JsonObject>> request : requests) {
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> request.get().await(10, TimeUnit.SECONDS))
          .satisfies(e -> {
            assertThat(Failure.of(e)).isEqualTo(Failure.UNAVAILABLE);
            assertThat(e.getMessage()).contains("service nobody is not served on node");
          });
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    }
  }

  @Test
  void requests_made_together_leave_together_and_each_gets_its_own_answer() throws Exception {
    Keel client = all.get(3);
    batchesSent.set(0);
    itemsSent.set(0);
    List<Future<JsonObject>> sent = inOneTurn(client, () -> {
      List<Future<JsonObject>> f = new ArrayList<>();
      for (int n = 0; n < 300; n++) {
        f.add(led(client, "k" + n, new JsonObject().put("n", n), 10_000));
      }
      return f;
    });
    for (int n = 0; n < sent.size(); n++) {
      JsonObject answer = sent.get(n).await(20, TimeUnit.SECONDS);
      assertThat(answer.getLong("n")).isEqualTo(n);
      assertThat(answer.getString("node")).isEqualTo(client.routing().table().primaryOf("k" + n));
    }
    // Three targets, at most RoutedBatches.ITEMS_MAX items a message.
    assertThat(itemsSent.get()).isEqualTo(300);
    assertThat(batchesSent.get()).isBetween(3, 3 + 300 / RoutedBatches.ITEMS_MAX);

    client.routing().useBatching(false);
    try {
      assertThat(led(client, "k1", new JsonObject().put("n", 1), 10_000)
          .await(20, TimeUnit.SECONDS).getLong("n")).isEqualTo(1);
      assertThat(itemsSent.get()).isEqualTo(300);
    } finally {
      client.routing().useBatching(true);
    }
  }

  @Test
  void a_slow_request_does_not_hold_back_the_others_of_its_batch() throws Exception {
    Keel client = all.get(3);
    batchesSent.set(0);
    lateAnswers.set(0);
    List<Future<JsonObject>> sent = inOneTurn(client, () -> List.of(
        led(client, "same", new JsonObject().put("n", 101).put("hold", true), 20_000),
        led(client, "same", new JsonObject().put("n", 102), 20_000)));
    assertThat(sent.get(1).await(20, TimeUnit.SECONDS).getLong("n")).isEqualTo(102);
    assertThat(sent.get(0).isComplete()).isFalse();
    assertThat(lateAnswers.get()).isZero();
    held.remove(101L).complete(new JsonObject());
    assertThat(sent.get(0).await(20, TimeUnit.SECONDS).getLong("n")).isEqualTo(101);
    assertThat(batchesSent.get()).isEqualTo(1);
    assertThat(lateAnswers.get()).isEqualTo(1);
  }

  @Test
  void batched_failures_keep_their_code_and_an_unanswered_request_times_out() throws Exception {
    Keel client = all.get(3);
    List<Future<JsonObject>> sent = inOneTurn(client, () -> List.of(
        led(client, "f", new JsonObject().put("n", 1).put("fail", "CONFLICT"), 10_000),
        led(client, "f", new JsonObject().put("n", 2).put("fail", "throw"), 1_000),
        led(client, "f", new JsonObject().put("n", 3).put("hold", true), 700),
        led(client, "f", new JsonObject().put("n", 4), 10_000)));
    assertThatThrownBy(() -> sent.get(0).await(20, TimeUnit.SECONDS)).satisfies(e -> {
      assertThat(Failure.of(e)).isEqualTo(Failure.CONFLICT);
      assertThat(e.getMessage()).isEqualTo("CONFLICT: item 1 conflicts");
    });
    assertThatThrownBy(() -> sent.get(1).await(20, TimeUnit.SECONDS)).satisfies(e -> {
      assertThat(Failure.of(e)).isEqualTo(Failure.UNAVAILABLE);
      assertThat(e.getMessage()).contains("item 2 broke");
    });
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> sent.get(2).await(20, TimeUnit.SECONDS)).satisfies(e -> {
      assertThat(Failure.of(e)).isEqualTo(Failure.TIMEOUT);
      assertThat(e.getMessage()).contains("may or may not have been carried out");
    });
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    assertThat(sent.get(3).await(20, TimeUnit.SECONDS).getLong("n")).isEqualTo(4);
    held.remove(3L).complete(new JsonObject());
  }

  @Test
  void client_nodes_cannot_serve() {
    assertThatThrownBy(() -> all.get(3).routing().register("x", r -> null)
        .await(5, TimeUnit.SECONDS)).hasMessageContaining("role client");
  }

  @Test
  void a_plain_vertx_member_owns_nothing_and_can_ask_for_owners() throws Exception {
    KeelOptions o = cluster.nextOptions("plain");
    HazelcastClusterManager manager = ClusterSetup.clusterManager(o);
    VertxOptions vo = new VertxOptions();
    vo.getEventBusOptions().setHost("127.0.0.1");
    Vertx plain = Vertx.builder().with(vo).withClusterManager(manager).buildClustered()
        .await(60, TimeUnit.SECONDS);
    try {
      Keel a = all.get(0);
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
          assertThat(a.routing().members()).extracting(ClusterMember::role)
              .contains(ClusterMember.EXTERNAL));
      assertThat(a.routing().table().members()).extracting(Member::name)
          .containsExactly("a", "b", "c");
      JsonObject reply = plain.eventBus().<JsonObject>request(Addresses.RING_OWNER,
          new JsonObject().put("key", "x"), FAST).await(10, TimeUnit.SECONDS).body();
      assertThat(reply.getString("primary")).isEqualTo(a.routing().table().primaryOf("x"));
      JsonObject ping = plain.eventBus().<JsonObject>request(
          Addresses.shard(Keel.PING_SERVICE, reply.getString("primary")),
          new JsonObject().put("key", "x").put("epoch", 0).put("body", new JsonObject()), FAST)
          .await(10, TimeUnit.SECONDS).body();
      assertThat(ping.getString("node")).isEqualTo(reply.getString("primary"));
    } finally {
      plain.close().await(30, TimeUnit.SECONDS);
    }
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(all.get(0).routing().members()).extracting(ClusterMember::role)
            .doesNotContain(ClusterMember.EXTERNAL));
  }
}
