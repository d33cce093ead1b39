package io.keel.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.bus.Addresses;
import io.keel.harness.InJvmCluster;
import io.keel.harness.Scrape;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Map data moves with placement: a node that joins gets a copy of the partitions it takes over
 * (their snapshot and log tail) before it votes in them, takes the lead of those it is now the
 * primary of, and the status feed reports each copy and each hand-over with its write pause.
 */
class MapMoveIT {
  private static final String ADDED = "keel_replicas_added_total";

  /** The bytes of entries and snapshots the node's leaders sent to learners, so far. */
  private static double sentToLearners(Keel k) throws Exception {
    String text = Scrape.text(k);
    return Scrape.value(text, "keel_rebalance_sent_bytes_total{kind=\"entries\"}")
        + Scrape.value(text, "keel_rebalance_sent_bytes_total{kind=\"snapshot\"}");
  }

  @Test
  void a_joining_node_receives_its_partitions_data_and_the_feed_reports_the_moves()
      throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(3)) {
      Keel a = cluster.start("a", o -> o.setPartitions(8));
      Keel b = cluster.start("b", o -> o.setPartitions(8));
      InJvmCluster.awaitActive(8, a, b);
      List<JsonObject> events = new CopyOnWriteArrayList<>();
      for (Keel k : List.of(a, b)) {
        k.vertx().eventBus().<JsonObject>localConsumer(Addresses.EVENTS, m -> {
          String type = m.body().getString("type");
          if ("replica-added".equals(type) || "leader-moved".equals(type)) {
            events.add(m.body());
          }
        }).completion().await(10, TimeUnit.SECONDS);
      }
      Map<String, Long> written = new TreeMap<>();
      List<Future<Long>> puts = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        puts.add(a.map("moving").put("key-" + i, new JsonObject().put("i", i)));
      }
      for (int i = 0; i < 64; i++) {
        written.put("key-" + i, puts.get(i).await(30, TimeUnit.SECONDS));
      }

      double sentBefore = sentToLearners(a) + sentToLearners(b);
      double addedBefore = Scrape.value(a, ADDED) + Scrape.value(b, ADDED);

      Keel c = cluster.start("c", o -> o.setPartitions(8));
      // With replicas = 3 and three members, c ends with a voting replica of every partition.
      await().atMost(Duration.ofSeconds(90)).until(() -> c.groups() != null
          && c.groups().partitions().size() == 8 && c.groups().allActive());
      for (Map.Entry<String, Long> e : written.entrySet()) {
        MapEntry copy = c.map("moving").getStale(e.getKey()).await(30, TimeUnit.SECONDS);
        assertThat(copy.version()).as(e.getKey()).isEqualTo(e.getValue());
        assertThat(((JsonObject) copy.value()).getInteger("i"))
            .isEqualTo(Integer.parseInt(e.getKey().substring(4)));
      }
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        assertThat(events).filteredOn(e -> "replica-added".equals(e.getString("type")))
            .extracting(e -> e.getInteger("partition")).containsExactlyInAnyOrder(
                0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(events).filteredOn(e -> "replica-added".equals(e.getString("type")))
            .allSatisfy(e -> {
              assertThat(e.getString("member")).isEqualTo("c");
              assertThat(e.getLong("copyMs")).isNotNegative();
            });
        // c is now the primary of some partitions; their leaders handed over to it.
        long primaries = c.routing().table().primaryPartitions("c").length;
        assertThat(primaries).isPositive();
        assertThat(events).filteredOn(e -> "leader-moved".equals(e.getString("type"))
            && "c".equals(e.getString("to")) && e.getBoolean("ok"))
            .hasSizeGreaterThanOrEqualTo((int) primaries)
            .allSatisfy(e -> assertThat(e.getLong("pauseMs")).isNotNegative());
      });
      JsonObject moves = a.vertx().eventBus().<JsonObject>request(Addresses.status("a"),
          new JsonObject()).await(10, TimeUnit.SECONDS).body().getJsonObject("recovery")
          .getJsonObject("moves");
      JsonObject movesB = b.vertx().eventBus().<JsonObject>request(Addresses.status("b"),
          new JsonObject()).await(10, TimeUnit.SECONDS).body().getJsonObject("recovery")
          .getJsonObject("moves");
      assertThat(moves.getLong("handoffs") + movesB.getLong("handoffs")).isPositive();
      // What a and b sent c while it caught up holds at least every key and value written
      // before it joined ("key-N" and {"i":N}: 12 bytes or more each).
      assertThat(sentToLearners(a) + sentToLearners(b) - sentBefore)
          .isGreaterThanOrEqualTo(64 * 12);
      assertThat(Scrape.value(a, ADDED) + Scrape.value(b, ADDED) - addedBefore).isEqualTo(8.0);
      // Every key is still served, linearizably, after the moves.
      for (Map.Entry<String, Long> e : written.entrySet()) {
        assertThat(b.map("moving").get(e.getKey()).await(30, TimeUnit.SECONDS).version())
            .isEqualTo(e.getValue());
      }
    }
  }
}
