package io.keel.locks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.bus.Failure;
import io.keel.harness.InJvmCluster;
import io.keel.harness.SkewedClock;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The lease clock and its margin, on one node that leads every partition: the leader keeps a
 * lease {@code lockClockMarginMs} past its end by the leader's clock (so a forward jump of up
 * to the margin cannot end it before its holder's count); a jump beyond lease plus margin ends
 * it at the next tick, and the old token is refused. Lease and margin are long
 * (60 s and 30 s), so that only the jumps, never the time the test takes, decide.
 */
class LockClockIT {
  private static final long LEASE_MS = 60_000;
  private static final long MARGIN_MS = 30_000;

  private static JsonObject info(Keel node, String name) throws Exception {
    return node.locks().info(name).await(20, TimeUnit.SECONDS);
  }

  @Test
  void a_jump_within_the_margin_keeps_the_lease_and_one_beyond_it_ends_the_lease()
      throws Exception {
    SkewedClock clock = new SkewedClock();
    try (InJvmCluster cluster = new InJvmCluster(1)) {
      Keel a = cluster.startWith(cluster.nextOptions("a").setPartitions(4)
          .setLockClockMarginMs(MARGIN_MS), clock);
      InJvmCluster.awaitActive(4, a);
      FencedLock lock = a.locks().acquire("clock", new LockOptions().setLeaseMs(LEASE_MS)
          .setRequestId("first")).await(30, TimeUnit.SECONDS);
      // The answer names the lease asked for, and so does info: the leader keeps the margin
      // on top for itself. A retry of the same request is told what is left of the lease.
      assertThat(lock.leaseMs()).isEqualTo(LEASE_MS);
      assertThat(info(a, "clock").getLong("leaseLeftMs")).isBetween(1L, LEASE_MS);
      FencedLock retried = a.locks().acquire("clock", new LockOptions().setLeaseMs(LEASE_MS)
          .setRequestId("first")).await(30, TimeUnit.SECONDS);
      assertThat(retried.token()).isEqualTo(lock.token());
      assertThat(retried.leaseMs()).isBetween(1L, LEASE_MS);

      // Past the lease by the leader's clock, but within the margin: still held, through
      // many ticks (one every 100 ms).
      clock.setOffsetMs(LEASE_MS + MARGIN_MS / 2);
      await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            JsonObject i = info(a, "clock");
            assertThat(i.getBoolean("held")).isTrue();
            assertThat(i.getLong("token")).isEqualTo(lock.token());
          });
      lock.renew().await(20, TimeUnit.SECONDS);

      // The renewal counts from the jumped clock; a jump of lease plus margin beyond it ends
      // the lease at the next tick, and the holder's token is refused from then on.
      clock.setOffsetMs(clock.offsetMs() + LEASE_MS + MARGIN_MS + 1_000);
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
          .until(() -> !info(a, "clock").getBoolean("held"));
      assertThatThrownBy(() -> lock.release().await(20, TimeUnit.SECONDS))
          .satisfies(t -> assertThat(Failure.of(t)).isEqualTo(Failure.CONFLICT));
      FencedLock next = a.locks().acquire("clock", new LockOptions().setLeaseMs(LEASE_MS))
          .await(30, TimeUnit.SECONDS);
      assertThat(next.token()).isGreaterThan(lock.token());

      // Back to the system clock: the table's time stands still until it catches up, so the
      // new lease is not ended, nor made shorter, by the jump back.
      clock.setOffsetMs(0);
      await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(100))
          .untilAsserted(() -> assertThat(info(a, "clock").getLong("token"))
              .isEqualTo(next.token()));
      next.release().await(20, TimeUnit.SECONDS);
    }
  }
}
