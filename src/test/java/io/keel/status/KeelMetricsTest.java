package io.keel.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.harness.Scrape;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicLong;
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
  void the_queue_gauge_shows_the_waiters_it_is_given() {
    KeelMetrics metrics = new KeelMetrics(KeelMetrics.newRegistry());
    AtomicLong waiting = new AtomicLong();
    metrics.bindLocks(waiting::get);
    assertThat(Scrape.value(metrics.scrape(), "keel_lock_waiters")).isZero();
    waiting.set(5);
    assertThat(Scrape.value(metrics.scrape(), "keel_lock_waiters")).isEqualTo(5);
  }
}
