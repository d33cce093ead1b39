package io.keel.status;

import io.keel.recovery.PartitionGroups;
import io.keel.recovery.RecoveryVerticle;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A node's metrics in one Prometheus registry, scraped by {@code GET /metrics}: Vert.x's own
 * (event bus, HTTP, pools; when Keel built the Vert.x, {@code vertx_*}) and Keel's
 * ({@code keel_*}): partitions held, led and catching up, Raft commit latency, log force latency
 * and batch size, lock events, leadership hand-over pauses, new replicas, map operations, and
 * feed subscribers cut off for being slow.
 */
public final class KeelMetrics {
  private final PrometheusMeterRegistry registry;
  private final Counter slowDisconnects;

  /** Keel's meters in {@code registry}. */
  public KeelMetrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
    this.slowDisconnects = Counter.builder("keel_feed_slow_disconnects")
        .description("feed subscribers disconnected for falling 1 MiB behind")
        .register(registry);
  }

  /** A fresh registry for a node. */
  public static PrometheusMeterRegistry newRegistry() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  /** The registry, for other meters of the node. */
  public MeterRegistry registry() {
    return registry;
  }

  /** Every meter in Prometheus' text format. */
  public String scrape() {
    return registry.scrape();
  }

  /** The recovery meters: log forces, commits, and the partitions {@code groups} holds. */
  public void bind(RecoveryVerticle recovery, Supplier<PartitionGroups> groups) {
    Timer force = Timer.builder("keel_wal_force").description("write-ahead log fsync latency")
        .publishPercentiles(0.5, 0.99).register(registry);
    DistributionSummary batch = DistributionSummary.builder("keel_wal_force_records")
        .description("records made durable by one fsync (group commit)").register(registry);
    Timer commit = Timer.builder("keel_raft_commit").description("latency of a proposal from"
        + " the leader's replicate to its commit and apply").publishPercentiles(0.5, 0.99)
        .register(registry);
    recovery.observe((nanos, records) -> {
      force.record(nanos, TimeUnit.NANOSECONDS);
      batch.record(records);
    }, nanos -> commit.record(nanos, TimeUnit.NANOSECONDS));
    Gauge.builder("keel_partitions", () -> groups.get() == null ? 0
        : groups.get().partitions().size()).tag("state", "held")
        .description("partition replicas on this node").register(registry);
    Gauge.builder("keel_partitions", () -> groups.get() == null ? 0 : groups.get().ledCount())
        .tag("state", "led").register(registry);
    Gauge.builder("keel_partitions", () -> groups.get() == null ? 0
        : groups.get().phaseCounts().getInteger("catching-up", 0))
        .tag("state", "catching_up").register(registry);
  }

  /** Counts what a feed event says: lock events, hand-over pauses, new replicas. */
  void onEvent(JsonObject event) {
    String type = event.getString("type", "");
    switch (type) {
      case "lock-granted", "lock-released", "lock-expired" -> Counter.builder("keel_lock_events")
          .description("lock grants, releases and expiries decided on this node")
          .tag("reason", String.valueOf(event.getValue("reason"))).register(registry)
          .increment();
      case "leader-moved" -> Timer.builder("keel_leader_move_pause")
          .description("how long a partition took no writes while its leader moved")
          .register(registry).record(Duration.ofMillis(event.getLong("pauseMs", 0L)));
      case "replica-added" -> Counter.builder("keel_replicas_added")
          .description("new replicas that received a partition's state from this leader")
          .register(registry).increment();
      default -> { }
    }
  }

  /** A feed subscriber was cut off for being slow. */
  void slowDisconnect() {
    slowDisconnects.increment();
  }
}
