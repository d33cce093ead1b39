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
 * A partition that lost the majority of its replicas acknowledges no write: the put fails with
 * {@code UNAVAILABLE}, and the value it carried is nowhere once the majority is back.
 */
class MapNoMajorityIT {

  @Test
  void without_a_majority_a_put_is_unavailable_and_changes_nothing() throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(3)) {
      Keel a = cluster.start("a", o -> o.setPartitions(4));
      Keel b = cluster.start("b", o -> o.setPartitions(4));
      Keel c = cluster.start("c", o -> o.setPartitions(4));
      InJvmCluster.awaitActive(4, a, b, c);
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
      // With b back, a majority again: the refused value is nowhere.
      cluster.startWith(bOptions);
      await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> a.map("m").get("k")
          .await(30, TimeUnit.SECONDS).version() == v);
      assertThat(a.map("m").get("k").await(30, TimeUnit.SECONDS).value()).isEqualTo("before");
    }
  }
}
