package io.keel.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.harness.Scrape;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Keel's meters without a node: registered once, series present at 0, counts and gauges. */
class KeelMetricsTest {

  @Test
  void known_series_read_zero_before_the_first_event() {
    KeelMetrics metrics = new KeelMetrics(KeelMetrics.newRegistry());
    String text = metrics.scrape();
    for (String reason : new String[] {"granted", "released", "expired", "node_left"}) {
      assertThat(Scrape.value(text, "keel_lock_events_total{reason=\"" + reason + "\"}"))
          .isZero();
    }
    for (String op : new String[] {"renew", "release", "map_put", "map_delete"}) {
      assertThat(Scrape.value(text, "keel_lock_fenced_rejections_total{op=\"" + op + "\"}"))
          .isZero();
    }
    assertThat(Scrape.value(text, "keel_replicas_added_total")).isZero();
    assertThat(Scrape.value(text, "keel_leader_move_pause_seconds_count")).isZero();
  }

  @Test
  void events_count_on_meters_registered_once() {
    KeelMetrics metrics = new KeelMetrics(KeelMetrics.newRegistry());
    MeterRegistry registry = metrics.registry();
    int meters = registry.getMeters().size();
    for (int i = 0; i < 3; i++) {
      metrics.onEvent(new JsonObject().put("type", "lock-granted").put("reason", "granted"));
      metrics.onEvent(new JsonObject().put("type", "leader-moved").put("pauseMs", 5));
      metrics.onEvent(new JsonObject().put("type", "replica-added"));
      metrics.fencedRejection("release");
    }
    metrics.onEvent(new JsonObject().put("type", "lock-expired").put("reason", "node_left"));
    metrics.onEvent(new JsonObject().put("type", "member-joined"));
    assertThat(registry.getMeters()).hasSize(meters);
    String text = metrics.scrape();
    assertThat(Scrape.value(text, "keel_lock_events_total{reason=\"granted\"}")).isEqualTo(3);
    assertThat(Scrape.value(text, "keel_lock_events_total{reason=\"node_left\"}")).isEqualTo(1);
    assertThat(Scrape.value(text, "keel_lock_fenced_rejections_total{op=\"release\"}"))
        .isEqualTo(3);
    assertThat(Scrape.value(text, "keel_replicas_added_total")).isEqualTo(3);
    assertThat(Scrape.value(text, "keel_leader_move_pause_seconds_count")).isEqualTo(3);
  }

  @Test
  void the_queue_gauge_sums_the_waiters_of_the_held_locks() {
    KeelMetrics metrics = new KeelMetrics(KeelMetrics.newRegistry());
    AtomicReference<JsonArray> held = new AtomicReference<>(new JsonArray());
    metrics.bindLocks(held::get);
    assertThat(Scrape.value(metrics.scrape(), "keel_lock_waiters")).isZero();
    held.set(new JsonArray().add(new JsonObject().put("name", "x").put("waiters", 2))
        .add(new JsonObject().put("name", "y").put("waiters", 3)));
    assertThat(Scrape.value(metrics.scrape(), "keel_lock_waiters")).isEqualTo(5);
  }
}
