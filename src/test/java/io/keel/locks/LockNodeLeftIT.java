package io.keel.locks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.bus.Addresses;
import io.keel.harness.InJvmCluster;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * When the node a lock was acquired through leaves the cluster, its lease ends at once, well
 * before the lease would, and the next waiter gets the lock; the feed says why.
 */
class LockNodeLeftIT {

  @Test
  void a_holders_node_leaving_frees_its_lock_at_once() throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(3)) {
      Keel a = cluster.start("a", o -> o.setPartitions(8));
      Keel b = cluster.start("b", o -> o.setPartitions(8));
      Keel c = cluster.start("c", o -> o.setPartitions(8));
      InJvmCluster.awaitActive(8, a, b, c);
      List<JsonObject> events = new CopyOnWriteArrayList<>();
      a.vertx().eventBus().<JsonObject>consumer(Addresses.EVENTS, m -> {
        if (m.body().getString("type", "").startsWith("lock-")) {
          events.add(m.body());
        }
      }).completion().await(10, TimeUnit.SECONDS);

      FencedLock held = c.locks().acquire("job", new LockOptions().setLeaseMs(120_000))
          .await(30, TimeUnit.SECONDS);
      Future<FencedLock> waiting = a.locks().acquire("job", new LockOptions()
          .setWaitMs(100_000));
      await().atMost(Duration.ofSeconds(20)).until(() -> a.locks().info("job")
          .await(20, TimeUnit.SECONDS).getInteger("waiters") == 1);
      long stoppedAt = System.nanoTime();
      cluster.stop(c);
      FencedLock next = waiting.await(90, TimeUnit.SECONDS);
      long ms = (System.nanoTime() - stoppedAt) / 1_000_000;
      // Far less than the 120 s lease: the node's departure ended it.
      assertThat(ms).isLessThan(60_000);
      assertThat(next.token()).isGreaterThan(held.token());
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(events)
          .anySatisfy(e -> {
            assertThat(e.getString("type")).isEqualTo("lock-expired");
            assertThat(e.getString("reason")).isEqualTo("node_left");
            assertThat(e.getLong("token")).isEqualTo(held.token());
          }));
      next.release().await(30, TimeUnit.SECONDS);
    }
  }
}
