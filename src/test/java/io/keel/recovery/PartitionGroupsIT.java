package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.harness.InJvmCluster;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * One Raft group per partition, driven by the partition table, on three in-JVM nodes: the first
 * node bootstraps every group, the others are invited and added; writes commit through the
 * leader; losing a majority refuses writes, and bringing it back loses nothing.
 */
class PartitionGroupsIT {
  private static final int PARTITIONS = 8;

  private static KeelOptions small(KeelOptions o) {
    return o.setPartitions(PARTITIONS);
  }

  private static JsonObject call(Keel via, String address, JsonObject body) throws Exception {
    return via.vertx().eventBus().<JsonObject>request(address, body,
        new DeliveryOptions().setSendTimeout(20_000)).map(Message::body)
        .await(30, TimeUnit.SECONDS);
  }

  private static void awaitFullGroups(List<Keel> nodes) {
    await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
      for (Keel k : nodes) {
        JsonObject status = status(k);
        assertThat(k.groups().partitions()).as("partitions held by %s", k.nodeName())
            .hasSize(PARTITIONS);
        for (Object o : status.getJsonArray("partitions")) {
          JsonObject p = (JsonObject) o;
          assertThat(p.getString("phase")).as("%s on %s", p, k.nodeName()).isEqualTo("active");
          assertThat(p.getJsonArray("members")).as("%s on %s", p, k.nodeName()).hasSize(3);
        }
      }
    });
  }

  private static JsonObject status(Keel k) throws Exception {
    return call(k, Addresses.status(k.nodeName()), new JsonObject());
  }

  @Test
  void groups_form_on_the_table_replicate_and_refuse_without_a_majority() throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(3)) {
      Keel a = cluster.start("a", PartitionGroupsIT::small);
      Keel b = cluster.start("b", PartitionGroupsIT::small);
      Keel c = cluster.start("c", PartitionGroupsIT::small);
      List<Keel> nodes = List.of(a, b, c);
      awaitFullGroups(nodes);

      // 30 adds on 10 keys, through every node; each acknowledged add is counted.
      Map<String, Long> expected = new TreeMap<>();
      for (int i = 0; i < 30; i++) {
        String key = "k" + (i % 10);
        JsonObject r = call(nodes.get(i % 3), Addresses.COUNTER_ADD, new JsonObject()
            .put("key", key).put("delta", 2).put("requestId", "r" + i));
        expected.merge(key, 2L, Long::sum);
        assertThat(r.getLong("value")).isEqualTo(expected.get(key));
      }
      // A retried request id is answered again, not applied twice.
      JsonObject again = call(c, Addresses.COUNTER_ADD, new JsonObject().put("key", "k0")
          .put("delta", 2).put("requestId", "r0"));
      assertThat(again.getLong("value")).isEqualTo(2);
      // Every replica has every write (stale reads answer from the local replica).
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
        for (Keel k : nodes) {
          for (Map.Entry<String, Long> e : expected.entrySet()) {
            int p = k.routing().table().partitionOf(e.getKey());
            byte[] answer = k.groups().query(p, MachineSet.frame(CounterMachine.NAME,
                CounterMachine.get(e.getKey())), true).await(10, TimeUnit.SECONDS);
            assertThat(CounterMachine.value(answer)).as("%s on %s", e.getKey(), k.nodeName())
                .isEqualTo(e.getValue());
          }
        }
      });
      // Bad input: a clear BAD_REQUEST.
      assertThat(failure(a, new JsonObject().put("delta", 1)))
          .startsWith("BAD_REQUEST").contains("'key'");
      assertThat(failure(a, new JsonObject().put("key", "x").put("delta", "one")))
          .startsWith("BAD_REQUEST").contains("'delta'");

      // Two of three stop: no group has a majority; no add is acknowledged.
      KeelOptions bOptions = b.options();
      KeelOptions cOptions = c.options();
      cluster.stop(b);
      cluster.stop(c);
      List<String> refusals = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        String refusal = failure(a, new JsonObject().put("key", "k" + i).put("delta", 100)
            .put("requestId", "lost" + i).put("timeoutMs", 4000));
        refusals.add(refusal);
      }
      assertThat(refusals).allSatisfy(r -> assertThat(r).matches("(UNAVAILABLE|TIMEOUT).*"));

      // Both come back with their data: the groups serve again and nothing was lost.
      Keel b2 = cluster.startWith(bOptions);
      Keel c2 = cluster.startWith(cOptions);
      awaitFullGroups(List.of(a, b2, c2));
      for (Map.Entry<String, Long> e : expected.entrySet()) {
        JsonObject r = call(b2, Addresses.COUNTER_GET, new JsonObject().put("key", e.getKey()));
        long v = r.getLong("value");
        // An add refused above may still have committed later (indeterminate), never more.
        String k = e.getKey();
        long lostMax = List.of("k0", "k1", "k2", "k3").contains(k) ? 100 : 0;
        assertThat(v).as(k).isBetween(e.getValue(), e.getValue() + lostMax);
      }
    }
  }

  @Test
  void requests_during_a_hand_over_wait_for_its_end_and_are_sent_to_the_new_leader()
      throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(3)) {
      List<Keel> nodes = new ArrayList<>();
      for (String name : List.of("a", "b", "c")) {
        nodes.add(cluster.start(name, PartitionGroupsIT::small));
      }
      awaitFullGroups(nodes);
      // A partition led by its primary, so that no hand-over of the nodes' own is under way.
      int p = await().atMost(Duration.ofSeconds(30)).until(() -> java.util.stream.IntStream
          .range(0, PARTITIONS).filter(q -> cluster.primaryLeading(q) != null).findFirst()
          .orElse(-1), q -> q >= 0);
      Keel leader = cluster.primaryLeading(p);
      assertThat(leader).as("partition %d's primary, leading it", p).isNotNull();
      Keel to = nodes.stream().filter(k -> k != leader).findFirst().orElseThrow();
      int q = p;
      String key = java.util.stream.IntStream.range(0, 10_000).mapToObj(i -> "k" + i)
          .filter(k -> leader.routing().table().partitionOf(k) == q).findFirst().orElseThrow();
      byte[] add = MachineSet.frame(CounterMachine.NAME, CounterMachine.add(key, 1, "during"));
      byte[] get = MachineSet.frame(CounterMachine.NAME, CounterMachine.get(key));

      // Both requests come after the hand-over began: MicroRaft would refuse them (UNAVAILABLE,
      // and the client would back off); they wait for its end and then name the new leader.
      // In one task of the driver's context, so that the transfer, queued there, cannot end
      // before they are made.
      PartitionGroups groups = leader.groups();
      CompletableFuture<List<Future<?>>> made = new CompletableFuture<>();
      groups.context().runOnContext(v -> made.complete(List.of(
          groups.handOver(q, to.nodeName()), groups.propose(q, add),
          groups.query(q, get, false))));
      List<Future<?>> calls = made.get(30, TimeUnit.SECONDS);
      Future<?> moved = calls.get(0);
      Future<?> write = calls.get(1);
      Future<?> read = calls.get(2);
      assertThat(moved.await(30, TimeUnit.SECONDS)).isEqualTo(to.nodeName());
      for (Future<?> f : List.of(write, read)) {
        f.transform(done -> Future.succeededFuture()).await(30, TimeUnit.SECONDS);
        assertThat(f.failed()).as("refused, not served by the old leader").isTrue();
        assertThat(Failure.NOT_OWNER.is(f.cause())).as(f.cause().toString()).isTrue();
        assertThat(Failure.namedLeader(f.cause())).isEqualTo(to.nodeName());
      }
      assertThat(status(leader).getJsonObject("recovery").getJsonObject("moves")
          .getLong("held")).isGreaterThanOrEqualTo(2);
      // The refused add wrote nothing; sent again, it is applied once, wherever the leader is
      // now (the table's primary may take the lead back).
      assertThat(call(leader, Addresses.COUNTER_GET, new JsonObject().put("key", key))
          .getLong("value")).isZero();
      call(to, Addresses.COUNTER_ADD, new JsonObject().put("key", key).put("delta", 1)
          .put("requestId", "during"));
      assertThat(call(leader, Addresses.COUNTER_GET, new JsonObject().put("key", key))
          .getLong("value")).isEqualTo(1);
    }
  }

  @Test
  void compaction_deletes_old_segments_and_a_restart_keeps_every_write() throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(1)) {
      // Small segments, so that a few thousand adds fill more than the segments kept.
      // Map values must fit a record: the smaller records need smaller values.
      Keel a = cluster.start("a", o -> small(o)
          .setMap(new io.keel.map.MapOptions().setValueBytesMax(16 << 10))
          .setWal(new WalOptions().setSegmentBytesMax(64 << 10).setRecordBytesMax(32 << 10)));
      await().atMost(Duration.ofSeconds(30)).until(() -> a.groups() != null
          && a.groups().allActive());
      Map<String, Long> expected = new TreeMap<>();
      int round = 0;
      while (log(a).getJsonObject("now").getInteger("segments")
          <= PartitionGroups.SEGMENTS_RETAINED + 1) {
        List<Future<Message<JsonObject>>> batch = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
          String key = "k" + (i % 20);
          expected.merge(key, 1L, Long::sum);
          batch.add(a.vertx().eventBus().request(Addresses.COUNTER_ADD, new JsonObject()
              .put("key", key).put("delta", 1).put("requestId", "r" + round + "." + i)));
        }
        Future.all(batch).await(30, TimeUnit.SECONDS);
        round++;
      }
      // Compaction checkpoints the groups that pin the oldest segments, then deletes those.
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        JsonObject now = log(a).getJsonObject("now");
        assertThat(now.getLong("firstLsn")).isGreaterThan(1);
        assertThat(now.getInteger("segments")).isLessThanOrEqualTo(
            PartitionGroups.SEGMENTS_RETAINED);
      });
      KeelOptions options = a.options();
      cluster.stop(a);

      Keel again = cluster.startWith(options);
      assertThat(log(again).getLong("firstLsn")).isGreaterThan(1);
      await().atMost(Duration.ofSeconds(30)).until(() -> again.groups() != null
          && again.groups().allActive());
      for (Map.Entry<String, Long> e : expected.entrySet()) {
        JsonObject r = call(again, Addresses.COUNTER_GET, new JsonObject()
            .put("key", e.getKey()));
        assertThat(r.getLong("value")).as(e.getKey()).isEqualTo(e.getValue());
      }
    }
  }

  private static JsonObject log(Keel k) throws Exception {
    return status(k).getJsonObject("recovery").getJsonObject("log");
  }

  private static String failure(Keel via, JsonObject body) {
    Future<Message<JsonObject>> reply = via.vertx().eventBus().request(Addresses.COUNTER_ADD, body,
        new DeliveryOptions().setSendTimeout(20_000));
    try {
      reply.await(30, TimeUnit.SECONDS);
      return "acknowledged";
    } catch (Exception e) {
      Throwable t = e.getCause() != null && !(e instanceof io.vertx.core.eventbus.ReplyException)
          ? e.getCause() : e;
      Failure f = Failure.of(t);
      if (f == null && t instanceof io.vertx.core.eventbus.ReplyException re
          && re.failureType() == io.vertx.core.eventbus.ReplyFailure.TIMEOUT) {
        return "TIMEOUT: " + t.getMessage();
      }
      return f == null ? t.toString() : t.getMessage();
    }
  }
}
