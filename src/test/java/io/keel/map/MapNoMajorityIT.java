package io.keel.map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.bus.Failure;
import io.keel.harness.InJvmCluster;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A partition that lost the majority of its replicas acknowledges no write: puts fail with
 * {@code UNAVAILABLE} (503 over HTTP), and the values they carried are nowhere once the
 * majority is back.
 */
class MapNoMajorityIT {

  @Test
  void without_a_majority_a_put_is_unavailable_and_changes_nothing() throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(3)) {
      Keel a = cluster.start("a", o -> o.setPartitions(4));
      Keel b = cluster.start("b", o -> o.setPartitions(4));
      Keel c = cluster.start("c", o -> o.setPartitions(4));
      InJvmCluster.awaitActive(4, a, b, c);
      // The key's partition led by its primary (b or c), as it settles: had a still led it when
      // b and c stop, a would already have begun removing b, and b's return would not help.
      int p = a.routing().table().partitionOf("k");
      assertThat(a.routing().table().primary(p)).isIn("b", "c");
      await().atMost(Duration.ofSeconds(30)).until(() -> cluster.primaryLeading(p) != null);
      long v = a.map("m").put("k", "before").await(30, TimeUnit.SECONDS);
      io.keel.KeelOptions bOptions = b.options();
      cluster.stop(b);
      cluster.stop(c);
      Throwable refused = null;
      try {
        a.map("m").put("k", "during").await(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        refused = e.getCause() != null && Failure.of(e) == null ? e.getCause() : e;
      }
      assertThat(refused).isNotNull();
      assertThat(Failure.of(refused)).as(String.valueOf(refused)).isEqualTo(Failure.UNAVAILABLE);
      // The same over HTTP: 503 with the failure's name.
      java.net.http.HttpResponse<String> overHttp = java.net.http.HttpClient.newHttpClient()
          .send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
              + a.httpPort() + "/v1/maps/m/k")).timeout(Duration.ofSeconds(60))
              .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"value\":\"http\"}"))
              .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(overHttp.statusCode()).as(overHttp.body()).isEqualTo(503);
      assertThat(new io.vertx.core.json.JsonObject(overHttp.body()).getString("error"))
          .isEqualTo("UNAVAILABLE");
      // With b back, a majority again: the refused value is nowhere.
      cluster.startWith(bOptions);
      await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> a.map("m").get("k")
          .await(30, TimeUnit.SECONDS).version() == v);
      assertThat(a.map("m").get("k").await(30, TimeUnit.SECONDS).value()).isEqualTo("before");
    }
  }
}
