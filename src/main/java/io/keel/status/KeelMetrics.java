package io.keel.status;

import io.keel.recovery.PartitionGroups;
import io.keel.recovery.RecoveryVerticle;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * A node's metrics in one Prometheus registry, scraped by {@code GET /metrics}: Vert.x's own
 * (event bus, HTTP, pools; when Keel built the Vert.x, {@code vertx_*}) and Keel's
 * ({@code keel_*}): partitions held, led and catching up, Raft commit latency, log force latency
 * and batch size, lock events, fenced rejections and waiters, bytes sent to new replicas while
 * they catch up, leadership hand-over pauses, new replicas, map operations, and feed
 * subscribers cut off for being slow.
 *
 * <p>Every meter is registered once and kept: counting is a map lookup and an increment, never a
 * builder. Labels whose values are known in advance are registered at construction, so that a
 * series reads 0 before its first event instead of being absent.
 */
public final class KeelMetrics {
  /** The {@code reason} of a lock event: {@code LockMachine.EventKind}, lower case. */
  private static final List<String> LOCK_EVENT_REASONS = List.of("granted", "released", "expired",
      "node_left");
  /** Requests refused because a token does not hold its lock, or is older than one seen. */
  private static final List<String> FENCED_OPS = List.of("renew", "release", "map_put",
      "map_delete");

  private final PrometheusMeterRegistry registry;
  private final Counter slowDisconnects;
  private final Counter replicasAdded;
  private final Timer leaderMovePause;
  private final Map<String, Counter> lockEvents = new ConcurrentHashMap<>();
  private final Map<String, Counter> fencedRejections = new ConcurrentHashMap<>();
  private volatile Supplier<PartitionGroups> groups;

  /** Keel's meters in {@code registry}. */
  public KeelMetrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
    this.slowDisconnects = Counter.builder("keel_feed_slow_disconnects")
        .description("feed subscribers disconnected for falling 1 MiB behind")
        .register(registry);
    this.replicasAdded = Counter.builder("keel_replicas_added")
        .description("new replicas that received a partition's state from this leader")
        .register(registry);
    this.leaderMovePause = Timer.builder("keel_leader_move_pause")
        .description("how long a partition took no writes while its leader moved")
        .register(registry);
    LOCK_EVENT_REASONS.forEach(this::lockEventCounter);
    FENCED_OPS.forEach(this::fencedCounter);
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

  /**
   * The recovery meters: log forces, commits, the partitions {@code groups} holds, and the bytes
   * its leaders sent to replicas catching up.
   */
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
    gauge("keel_partitions", "held", "partition replicas on this node", groups,
        g -> g.partitions().size());
    gauge("keel_partitions", "led", "partition replicas on this node", groups,
        PartitionGroups::ledCount);
    gauge("keel_partitions", "catching_up", "partition replicas on this node", groups,
        g -> g.phaseCounts().getInteger("catching-up", 0));
    String sent = "bytes of Raft requests this node's leaders sent to learners (new replicas"
        + " catching up before they vote): append-entries (entries) and install-snapshot"
        + " (snapshot)";
    // Through this object, which the status verticle keeps: a function counter holds its
    // object weakly, and a method reference passed in may have no other holder.
    this.groups = groups;
    FunctionCounter.builder("keel_rebalance_sent", this, m -> m.learnerBytes(false))
        .tag("kind", "entries").baseUnit("bytes").description(sent).register(registry);
    FunctionCounter.builder("keel_rebalance_sent", this, m -> m.learnerBytes(true))
        .tag("kind", "snapshot").baseUnit("bytes").description(sent).register(registry);
  }

  private double learnerBytes(boolean snapshots) {
    PartitionGroups g = groups == null ? null : groups.get();
    return g == null ? 0 : snapshots ? g.snapshotBytesToLearners() : g.entryBytesToLearners();
  }

  private void gauge(String name, String state, String description,
      Supplier<PartitionGroups> groups, ToDoubleFunction<PartitionGroups> f) {
    Gauge.builder(name, groups, s -> {
      PartitionGroups g = s.get();
      return g == null ? 0 : f.applyAsDouble(g);
    }).tag("state", state).description(description).strongReference(true).register(registry);
  }

  /**
   * The lock queue gauge: {@code waiting} counts the acquires that wait for locks in the
   * partitions this node leads.
   */
  public void bindLocks(LongSupplier waiting) {
    Gauge.builder("keel_lock_waiters", waiting, LongSupplier::getAsLong).strongReference(true)
        .description("acquires waiting for locks in the partitions this node leads")
        .register(registry);
  }

  /**
   * A request refused on this node (its partition's leader) because its fencing token does not
   * hold the lock ({@code renew}, {@code release}) or is older than the newest one the map saw
   * ({@code map_put}, {@code map_delete}). Any thread may call it.
   */
  public void fencedRejection(String op) {
    fencedCounter(op).increment();
  }

  private Counter fencedCounter(String op) {
    return fencedRejections.computeIfAbsent(op, o -> Counter.builder(
        "keel_lock_fenced_rejections").description("requests refused by this leader because"
            + " their fencing token does not hold the lock or is older than one seen")
        .tag("op", o).register(registry));
  }

  private Counter lockEventCounter(String reason) {
    return lockEvents.computeIfAbsent(reason, r -> Counter.builder("keel_lock_events")
        .description("lock grants, releases and expiries decided by this node as the lock's"
            + " leader").tag("reason", r).register(registry));
  }

  /** Counts what a feed event says: lock events, hand-over pauses, new replicas. */
  void onEvent(JsonObject event) {
    String type = event.getString("type", "");
    switch (type) {
      case "lock-granted", "lock-released", "lock-expired" ->
          lockEventCounter(String.valueOf(event.getValue("reason"))).increment();
      case "leader-moved" ->
          leaderMovePause.record(Duration.ofMillis(event.getLong("pauseMs", 0L)));
      case "replica-added" -> replicasAdded.increment();
      default -> { }
    }
  }

  /** A feed subscriber was cut off for being slow. */
  void slowDisconnect() {
    slowDisconnects.increment();
  }
}
