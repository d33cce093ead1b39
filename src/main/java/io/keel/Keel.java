package io.keel;

import io.keel.cluster.ClusterSetup;
import io.keel.cluster.DataDir;
import io.keel.locks.KeelLocks;
import io.keel.locks.LockMachine;
import io.keel.locks.LockService;
import io.keel.map.KeelMap;
import io.keel.map.MapMachine;
import io.keel.map.MapVerticle;
import io.keel.recovery.CounterMachine;
import io.keel.recovery.CounterService;
import io.keel.recovery.GroupHosts;
import io.keel.recovery.PartitionGroups;
import io.keel.recovery.RecoveryVerticle;
import io.keel.recovery.ReplayedLog;
import io.keel.routing.Routing;
import io.keel.routing.RoutingVerticle;
import io.keel.status.KeelMetrics;
import io.keel.status.StatusVerticle;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Keel node: its verticles deployed on a clustered Vert.x.
 *
 * <p>Standalone, {@link #start(KeelOptions)} builds the clustered Vert.x on embedded Hazelcast
 * and deploys the node (this is all the jar's {@code main} does besides parsing options). Inside
 * an application that builds its own clustered Vert.x, call {@link #deploy} with its
 * {@link HazelcastClusterManager}; the Vert.x must publish Keel's node metadata
 * ({@link #vertxOptions(KeelOptions)} sets it up).
 */
public final class Keel {
  private static final Logger log = LoggerFactory.getLogger(Keel.class);
  /**
   * A sharded service every data node serves: it answers {@code {node, key, partition, epoch}}
   * from the key's primary, so that operators and tests can see where a key is served.
   */
  public static final String PING_SERVICE = "keel.ping";

  private final Vertx vertx;
  private final KeelOptions options;
  private final Routing routing;
  private final StatusVerticle status;
  private final CounterService counters;
  private final LockService lockService;
  private final KeelLocks locks;
  private final MapVerticle maps;
  private final RecoveryVerticle recovery;
  private final List<String> deployments;
  private final boolean ownsVertx;

  private Keel(Vertx vertx, KeelOptions options, Routing routing, StatusVerticle status,
      CounterService counters, LockService lockService, MapVerticle maps,
      RecoveryVerticle recovery, List<String> deployments, boolean ownsVertx) {
    this.vertx = vertx;
    this.maps = maps;
    this.counters = counters;
    this.lockService = lockService;
    this.locks = new KeelLocks(vertx, options.getName(), options.getRouteTimeoutMs());
    this.recovery = recovery;
    this.options = options;
    this.routing = routing;
    this.status = status;
    this.deployments = deployments;
    this.ownsVertx = ownsVertx;
  }

  /**
   * Resolves the node name (configured, else persisted in the data directory, else new and
   * persisted). Blocks on the data directory: call it before Vert.x runs or off the event loop.
   *
   * @return a copy of {@code options} with the name set
   * @throws IllegalArgumentException when the data directory cannot be used
   */
  public static KeelOptions resolveName(KeelOptions options) {
    DataDir dir = DataDir.open(options.getDataDir());
    return new KeelOptions(options).setName(dir.resolveName(options.getName()));
  }

  /**
   * Vert.x options for a node with these options: the event bus on the cluster host and port,
   * publishing Keel's node metadata. {@code options} must have a name ({@link #resolveName}).
   */
  public static io.vertx.core.VertxOptions vertxOptions(KeelOptions options) {
    requireName(options);
    return ClusterSetup.vertxOptions(options, options.getName());
  }

  /** A Hazelcast cluster manager configured from these options. */
  public static HazelcastClusterManager clusterManager(KeelOptions options) {
    return ClusterSetup.clusterManager(options);
  }

  /**
   * Starts a standalone node: checks the ports, resolves the name, builds a clustered Vert.x on
   * embedded Hazelcast and deploys Keel on it. {@link #close()} closes that Vert.x too.
   * Blocks briefly on the data directory and port checks before going asynchronous.
   */
  public static Future<Keel> start(KeelOptions options) {
    return start(options, Clock.systemUTC());
  }

  /**
   * {@link #start(KeelOptions)} with the clock that lock leases are measured by on this node
   * when it leads (the system clock by default): for tests that skew one node's clock.
   */
  public static Future<Keel> start(KeelOptions options, Clock leaseClock) {
    Objects.requireNonNull(leaseClock, "leaseClock");
    KeelOptions resolved;
    io.vertx.core.VertxOptions vertxConfig;
    HazelcastClusterManager manager;
    ReplayedLog replayed = null;
    try {
      requirePortFree("cluster port", options.getClusterHost(), options.getClusterPort());
      if (options.getHttpPort() > 0) {
        requirePortFree("HTTP port", options.getHttpHost(), options.getHttpPort());
      }
      resolved = resolveName(options);
      // Reads the event bus's TLS files, if any: a missing one fails here, by name.
      vertxConfig = vertxOptions(resolved);
      manager = clusterManager(resolved);
      if (resolved.getRole() == KeelOptions.Role.DATA) {
        // A corrupt log stops the node here, before it joins: the others never count it as a
        // member only to take its partitions back when its recovery refuses the log. The same
        // read rebuilds the groups, with the cores to itself rather than shared with the join.
        replayed = RecoveryVerticle.replayLog(resolved);
      }
    } catch (RuntimeException | IOException e) {
      return Future.failedFuture(e);
    }
    ReplayedLog preread = replayed;
    Promise<Keel> result = Promise.promise();
    // Vert.x's own metrics and Keel's in one registry, scraped by GET /metrics.
    PrometheusMeterRegistry registry = KeelMetrics.newRegistry();
    Vertx.builder().with(vertxConfig.setMetricsOptions(new MicrometerMetricsOptions()
            .setEnabled(true).setJvmMetricsEnabled(true)))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .withClusterManager(manager).buildClustered()
        .onFailure(result::fail)
        .onSuccess(vertx -> deploy(vertx, manager, resolved, true, registry, leaseClock, preread)
            .onSuccess(result::complete)
            .onFailure(t -> closeThenFail(vertx, t, result)));
    return result.future().onFailure(t -> closeUnlessTaken(preread));
  }

  /** Closes a log read before the join that no recovery took, so that a retry may open it. */
  private static void closeUnlessTaken(ReplayedLog preread) {
    if (preread == null) {
      return;
    }
    try {
      preread.closeUnlessTaken();
    } catch (IOException e) {
      log.warn("closing the write-ahead log after a failed start: {}", e.toString());
    }
  }

  /**
   * Closes a Vert.x whose deployment failed, then fails {@code result}. The close is started
   * off the Vert.x threads: a future made on one of its contexts would try to notify that
   * context after it has shut down, and the failure would never arrive.
   */
  private static void closeThenFail(Vertx vertx, Throwable cause, Promise<Keel> result) {
    Thread closer = new Thread(() -> vertx.close().onComplete(ar -> result.fail(cause)),
        "keel-close-after-failed-start");
    closer.setDaemon(true);
    closer.start();
  }

  /**
   * Deploys Keel on an application's clustered Vert.x. The node's name is the one in
   * {@code options}, and the Vert.x must have been built with {@link #vertxOptions} (or publish
   * the same metadata) and {@code manager}.
   */
  public static Future<Keel> deploy(Vertx vertx, HazelcastClusterManager manager,
      KeelOptions options) {
    // The application's Vert.x keeps its own metrics; Keel's go to a registry of Keel's.
    return deploy(vertx, manager, options, Clock.systemUTC());
  }

  /** {@link #deploy(Vertx, HazelcastClusterManager, KeelOptions)} with a lease clock. */
  public static Future<Keel> deploy(Vertx vertx, HazelcastClusterManager manager,
      KeelOptions options, Clock leaseClock) {
    Objects.requireNonNull(leaseClock, "leaseClock");
    return deploy(vertx, manager, options, false, KeelMetrics.newRegistry(), leaseClock, null);
  }

  /**
   * Through compose, so that anything the assembly throws (a class missing from the jar, say)
   * fails the start instead of being lost in a callback and hanging it: for a standalone node
   * and an embedded one alike.
   */
  private static Future<Keel> deploy(Vertx vertx, HazelcastClusterManager manager,
      KeelOptions options, boolean ownsVertx, PrometheusMeterRegistry registry,
      Clock leaseClock, ReplayedLog replayed) {
    return Future.<Void>succeededFuture()
        .compose(v -> assemble(vertx, manager, options, ownsVertx, registry, leaseClock,
            replayed));
  }

  private static Future<Keel> assemble(Vertx vertx, HazelcastClusterManager manager,
      KeelOptions options, boolean ownsVertx, PrometheusMeterRegistry registry,
      Clock leaseClock, ReplayedLog replayed) {
    try {
      requireName(options);
      JsonObject meta = manager.getNodeInfo() == null ? null : manager.getNodeInfo().metadata();
      JsonObject keelMeta = meta == null ? null : meta.getJsonObject(ClusterSetup.METADATA_KEY);
      if (keelMeta == null || !options.getName().equals(keelMeta.getString("name"))) {
        throw new IllegalStateException("this Vert.x publishes no Keel metadata for node '"
            + options.getName() + "': build it with Keel.vertxOptions(options)");
      }
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    DataDir dir;
    try {
      dir = DataDir.open(options.getDataDir());
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    RoutingVerticle routingVerticle = new RoutingVerticle(options, manager, dir, options.getName());
    List<String> ids = new ArrayList<>();
    Routing routing = new Routing(vertx, routingVerticle, options);
    GroupHosts hosts = new GroupHosts();
    LongAdder mapBytes = new LongAdder();
    RecoveryVerticle recovery = options.getRole() == KeelOptions.Role.DATA
        ? new RecoveryVerticle(options, dir, manager, routing, hosts,
            Map.of(CounterMachine.NAME, CounterMachine::new, LockMachine.NAME,
                LockMachine::new, MapMachine.NAME, () -> new MapMachine(mapBytes::add)),
            replayed)
        : null;
    CounterService counters = new CounterService(vertx, routing, options.getRouteTimeoutMs());
    LockService lockService = new LockService(vertx, routing, options.getRouteTimeoutMs(),
        leaseClock, options.getLockClockMarginMs());
    KeelMetrics metrics = new KeelMetrics(registry);
    if (recovery != null) {
      metrics.bind(recovery, recovery::groups);
    }
    MapVerticle maps = new MapVerticle(routing, recovery == null ? null : recovery::groups,
        options.getMap(), options.getRouteTimeoutMs(), metrics.registry(), mapBytes);
    metrics.bindLocks(lockService::waiting);
    lockService.observeFencedRejections(metrics::fencedRejection);
    maps.observeFencedRejections(metrics::fencedRejection);
    StatusVerticle status = new StatusVerticle(options, routing, () -> recovery == null
        ? new JsonObject().put("phase", "none") : recovery.status(), lockService::held, maps,
        metrics);
    return vertx.deployVerticle(routingVerticle, new DeploymentOptions())
        .compose(id -> {
          ids.add(id);
          return routing.start();
        })
        .compose(v -> vertx.deployVerticle(status, new DeploymentOptions()))
        .compose(id -> {
          ids.add(id);
          // The group hosts first and beside recovery: undeployed after it, in reverse order.
          return recovery == null ? Future.succeededFuture(null) : hosts.deploy(vertx)
              .compose(hostsId -> {
                ids.add(hostsId);
                return vertx.deployVerticle(recovery, new DeploymentOptions());
              });
        })
        .compose(id -> {
          if (id != null) {
            ids.add(id);
          }
          return options.getRole() == KeelOptions.Role.DATA
              ? routing.register(PING_SERVICE, r -> ping(options.getName(), r))
              : Future.succeededFuture();
        })
        .compose(v -> counters.start(recovery == null ? null : recovery::groups))
        .compose(v -> lockService.start(recovery == null ? null : recovery::groups))
        .compose(v -> vertx.deployVerticle(maps, new DeploymentOptions()))
        .map(id -> {
          ids.add(id);
          Keel keel = new Keel(vertx, options, routing, status, counters, lockService, maps,
              recovery, ids, ownsVertx);
          log.info("node {} ({}) started: epoch {}, {} members, dashboard {}, transport {}",
              options.getName(), options.getRole().wire(), routing.table().epoch(),
              routing.members().size(), keel.dashboardUrl(),
              vertx.isNativeTransportEnabled() ? "native" : "NIO");
          return keel;
        })
        .recover(t -> counters.stop().eventually(lockService::stop)
            .eventually(() -> undeployAll(vertx, ids)).eventually(routing::stop)
            .transform(ar -> Future.failedFuture(t)));
  }

  private static Future<JsonObject> ping(String node, io.keel.routing.ShardRequest request) {
    return Future.succeededFuture(new JsonObject().put("node", node).put("key", request.key())
        .put("partition", request.partition()).put("epoch", request.epoch()));
  }

  /** The routing API: sharded services and key ownership. */
  public Routing routing() {
    return routing;
  }

  /**
   * This data node's partition groups (null on a client node, and until they start): where
   * replicated state machines commit their commands.
   */
  public PartitionGroups groups() {
    return recovery == null ? null : recovery.groups();
  }

  /** Fenced locks: acquire, renew, release, and run a block under a lock. */
  public KeelLocks locks() {
    return locks;
  }

  /**
   * The replicated map called {@code name}: versioned JSON values by key, with
   * compare-and-set and fenced writes. Cheap: a view, made anew on each call.
   */
  public KeelMap map(String name) {
    return maps.map(name);
  }

  /** This node's stable name. */
  public String nodeName() {
    return options.getName();
  }

  /** The options this node runs with (name resolved). */
  public KeelOptions options() {
    return new KeelOptions(options);
  }

  /** The Vert.x this node runs on. */
  public Vertx vertx() {
    return vertx;
  }

  /** The HTTP port actually bound, or -1 when HTTP is off. */
  public int httpPort() {
    return status.actualPort();
  }

  /** The dashboard's URL, or null when HTTP is off. */
  public String dashboardUrl() {
    int port = httpPort();
    return port < 0 ? null : "http://" + options.getHttpHost() + ":" + port + "/";
  }

  /**
   * Stops the node: undeploys its verticles, and closes the Vert.x (leaving the cluster) when
   * {@link #start} made it.
   */
  public Future<Void> close() {
    Future<Void> undeployed = counters.stop().eventually(lockService::stop)
        .eventually(() -> undeployAll(vertx, deployments)).eventually(routing::stop);
    return ownsVertx ? undeployed.eventually(vertx::close) : undeployed;
  }

  private static Future<Void> undeployAll(Vertx vertx, List<String> ids) {
    Future<Void> chain = Future.succeededFuture();
    for (int i = ids.size() - 1; i >= 0; i--) {
      String id = ids.get(i);
      chain = chain.eventually(() -> vertx.undeploy(id));
    }
    return chain;
  }

  private static void requireName(KeelOptions options) {
    if (options.getName() == null) {
      throw new IllegalArgumentException("the node needs a name: set one, or call"
          + " Keel.resolveName(options) to use the one in the data directory");
    }
  }

  private static void requirePortFree(String what, String host, int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new IllegalArgumentException(what + " " + host + ":" + port + " is in use or cannot"
          + " be bound (" + e.getMessage() + ")");
    }
  }
}
