package io.keel.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.harness.InJvmCluster;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The examples do what the README says they do. */
class ExamplesIT {

  @Test
  void sharded_counter_counts_on_the_primary_whichever_node_asks() throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(2)) {
      Keel a = cluster.start("a");
      Keel b = cluster.start("b");
      a.vertx().deployVerticle(new ShardedCounter(a)).await(10, TimeUnit.SECONDS);
      b.vertx().deployVerticle(new ShardedCounter(b)).await(10, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(20)).until(() ->
          a.routing().table().members().size() == 2
              && a.routing().table().epoch() == b.routing().table().epoch());
      String key = "page:test";
      JsonObject first = a.routing().request(ShardedCounter.SERVICE, key,
          new JsonObject().put("by", 5)).await(10, TimeUnit.SECONDS);
      JsonObject second = b.routing().request(ShardedCounter.SERVICE, key,
          new JsonObject().put("by", 2)).await(10, TimeUnit.SECONDS);
      assertThat(first.getLong("value")).isEqualTo(5);
      assertThat(second.getLong("value")).isEqualTo(7);
      assertThat(first.getString("servedBy")).isEqualTo(second.getString("servedBy"))
          .isEqualTo(a.routing().table().primaryOf(key));
    }
  }

  @Test
  void fenced_counter_loses_no_increment_with_two_nodes_writing_one_file() throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("ledger");
    try (InJvmCluster cluster = new InJvmCluster(2)) {
      Keel a = cluster.start("a", o -> o.setPartitions(8));
      Keel b = cluster.start("b", o -> o.setPartitions(8));
      await().atMost(Duration.ofSeconds(60)).until(() -> a.groups() != null
          && b.groups() != null && a.groups().allActive() && b.groups().allActive()
          && a.routing().table().members().size() == 2);
      String file = dir.resolve("ledger").toString();
      FencedCounter onA = new FencedCounter(a, file);
      FencedCounter onB = new FencedCounter(b, file);
      // Not deployed (no timer): the test drives the increments, 20 from each node at once.
      java.util.List<io.vertx.core.Future<Long>> all = new java.util.ArrayList<>();
      for (int i = 0; i < 20; i++) {
        all.add(onA.increment());
        all.add(onB.increment());
      }
      io.vertx.core.Future.all(all).await(120, TimeUnit.SECONDS);
      String ledger = java.nio.file.Files.readString(java.nio.file.Path.of(file)).trim();
      assertThat(ledger.split(" ")[0]).isEqualTo("40");
    } finally {
      InJvmCluster.deleteTree(dir);
    }
  }

  @Test
  void an_application_verticle_embeds_keel_on_its_own_clustered_vertx() throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(2)) {
      Keel a = cluster.start("a");
      KeelOptions options = cluster.nextOptions("app");
      HazelcastClusterManager manager = Keel.clusterManager(options);
      Vertx app = Vertx.builder().with(Keel.vertxOptions(options)).withClusterManager(manager)
          .buildClustered().await(60, TimeUnit.SECONDS);
      try {
        app.deployVerticle(new EmbeddedApp(manager, options)).await(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(20)).until(() ->
            a.routing().table().members().size() == 2);
        // The embedded node serves its share of the greeter's keys; "a" has no greeter, so
        // a key that "app" is primary of is answered by the embedded verticle.
        String key = java.util.stream.IntStream.range(0, 1000).mapToObj(i -> "k" + i)
            .filter(k -> "app".equals(a.routing().table().primaryOf(k))).findFirst()
            .orElseThrow();
        JsonObject reply = a.routing().request("greeter", key, new JsonObject())
            .await(10, TimeUnit.SECONDS);
        assertThat(reply.getString("greeting")).isEqualTo("hello " + key + " from app");
      } finally {
        app.close().await(30, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void deploying_on_a_vertx_without_keel_metadata_fails_with_a_clear_message() throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(1)) {
      KeelOptions options = cluster.nextOptions("bare");
      HazelcastClusterManager manager = Keel.clusterManager(options);
      VertxOptions plain = new VertxOptions();
      plain.getEventBusOptions().setHost("127.0.0.1");
      Vertx vertx = Vertx.builder().with(plain).withClusterManager(manager).buildClustered()
          .await(60, TimeUnit.SECONDS);
      try {
        assertThatThrownBy(() -> Keel.deploy(vertx, manager, options).await(30, TimeUnit.SECONDS))
            .hasMessageContaining("publishes no Keel metadata")
            .hasMessageContaining("Keel.vertxOptions");
      } finally {
        vertx.close().await(30, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void shopping_cart_loses_no_update_when_three_nodes_add_to_one_cart_at_once()
      throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(3)) {
      Keel a = cluster.start("a", o -> o.setPartitions(8));
      Keel b = cluster.start("b", o -> o.setPartitions(8));
      Keel c = cluster.start("c", o -> o.setPartitions(8));
      InJvmCluster.awaitActive(8, a, b, c);
      java.util.List<io.vertx.core.Future<JsonObject>> all = new java.util.ArrayList<>();
      for (Keel k : java.util.List.of(a, b, c)) {
        ShoppingCart shop = new ShoppingCart(k);
        for (int i = 0; i < 10; i++) {
          all.add(shop.add("cart-1", "item-" + k.nodeName(), 1));
          all.add(shop.add("cart-1", "shared", 2));
        }
      }
      io.vertx.core.Future.all(all).await(120, TimeUnit.SECONDS);
      JsonObject items = new ShoppingCart(b).cart("cart-1").await(30, TimeUnit.SECONDS)
          .getJsonObject("items");
      assertThat(items.getInteger("item-a")).isEqualTo(10);
      assertThat(items.getInteger("item-b")).isEqualTo(10);
      assertThat(items.getInteger("item-c")).isEqualTo(10);
      assertThat(items.getInteger("shared")).isEqualTo(60);
    }
  }
}
