package io.keel.recovery;

import io.keel.KeelOptions;
import io.keel.bus.Addresses;
import io.keel.cluster.ClusterIdentity;
import io.keel.cluster.DataDir;
import io.keel.routing.Routing;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a data node's partitions back: opens the write-ahead log and replays it, or takes it
 * as {@link #replayLog} replayed it before the node joined (a torn tail is cut and logged, a
 * corrupt record stops the node with the file and offset), rebuilds every Raft group this node
 * held from its records, settles which cluster the data belongs to
 * ({@link ClusterIdentity}), restarts the groups, which catch up from their peers (entries, or a
 * snapshot when behind beyond the retained log), and from then on runs them
 * ({@link PartitionGroups}).
 *
 * <p>Phases: {@code replaying}, then {@code catching-up} until every local replica has a leader
 * and votes, then {@code active}; each partition's own phase changes too. Both go to the status
 * feed as {@code recovery-phase} events and to {@code /status}. The node is ready once its
 * groups run, catching up or active. All disk access runs off the event loop.
 */
public final class RecoveryVerticle extends VerticleBase {
  private WriteAheadLog.Observer walObserver = (nanos, records) -> { };
  private java.util.function.LongConsumer commitObserver = nanos -> { };
  private static final Logger log = LoggerFactory.getLogger(RecoveryVerticle.class);
  /** The log's directory under the node's data directory. */
  public static final String LOG_DIR = "wal";
  private static final long DRIVE_INTERVAL_MS = 250;

  private final String nodeName;
  private final DataDir dataDir;
  private final Path logDir;
  private final WalOptions walOptions;
  private final KeelOptions options;
  private final HazelcastClusterManager manager;
  private final Routing routing;
  private final Map<String, Supplier<? extends PartitionStateMachine>> machines;
  private final GroupHosts hosts;
  // The log read before the join, until start takes it (null: start reads it).
  private ReplayedLog preloaded;
  private final RaftModelFactory factory = new DefaultRaftModelFactory();
  private volatile String phase = "starting";
  private volatile JsonObject logStatus = new JsonObject();
  private volatile String clusterId;
  private volatile int restoredGroups;
  private WriteAheadLog wal;
  private volatile PartitionGroups groups;
  private long phaseTimer = -1;

  /**
   * Recovery of data node {@code options.getName()} whose data directory is {@code dataDir},
   * running the partition state machines {@code machines} (by name, the same on every node) on
   * {@code hosts}, which must be deployed before this verticle.
   */
  public RecoveryVerticle(KeelOptions options, DataDir dataDir, HazelcastClusterManager manager,
      Routing routing, GroupHosts hosts,
      Map<String, Supplier<? extends PartitionStateMachine>> machines) {
    this(options, dataDir, manager, routing, hosts, machines, null);
  }

  /**
   * The same, starting from {@code preloaded}, the node's log as {@link #replayLog} read it
   * before the node joined (null: read it on start).
   */
  public RecoveryVerticle(KeelOptions options, DataDir dataDir, HazelcastClusterManager manager,
      Routing routing, GroupHosts hosts,
      Map<String, Supplier<? extends PartitionStateMachine>> machines, ReplayedLog preloaded) {
    this.preloaded = preloaded;
    this.hosts = hosts;
    this.options = new KeelOptions(options);
    this.nodeName = options.getName();
    this.dataDir = dataDir;
    this.logDir = dataDir.path().resolve(LOG_DIR);
    this.walOptions = new WalOptions(options.getWal());
    this.manager = manager;
    this.routing = routing;
    this.machines = Map.copyOf(machines);
  }

  /**
   * Opens and replays the write-ahead log of the data node with these options, and fails naming
   * the segment's path and offset if the log is corrupt (a torn tail is cut). Blocks: call it
   * before the node joins the cluster, so that a node that cannot start never counts as a
   * member, and pass the result to the node's {@code RecoveryVerticle}.
   */
  public static ReplayedLog replayLog(KeelOptions options) throws IOException {
    Path logDir = DataDir.open(options.getDataDir()).path().resolve(LOG_DIR);
    ReplayedLog replayed = read(logDir, new WalOptions(options.getWal()),
        new DefaultRaftModelFactory());
    logReplayed(options.getName(), logDir, replayed);
    return replayed;
  }

  /** {@link ReplayedLog#read}, with a corrupt segment named by its full path. */
  private static ReplayedLog read(Path logDir, WalOptions walOptions, RaftModelFactory factory)
      throws IOException {
    try {
      return ReplayedLog.read(logDir, walOptions, factory);
    } catch (WalCorruptionException e) {
      throw e.in(logDir);
    }
  }

  private static void logReplayed(String nodeName, Path logDir, ReplayedLog replayed) {
    WriteAheadLog.Recovery r = replayed.recovery();
    log.info("node {}: write-ahead log {} replayed in {} ms: LSN {}..{}, {} group(s) (records"
        + " read in {} ms){}", nodeName, logDir, replayed.replayMs(), r.firstLsn(), r.lastLsn(),
        replayed.restored().size(), replayed.readMs(),
        r.cutFile() == null ? "" : ", torn tail of " + r.bytesCut() + " bytes cut");
  }

  private static JsonObject cutOf(WriteAheadLog.Recovery r) {
    return r.cutFile() == null ? null : new JsonObject().put("file", r.cutFile())
        .put("offset", r.cutOffset()).put("bytes", r.bytesCut());
  }

  @Override
  public Future<?> start() {
    enter("replaying", new JsonObject());
    long t0 = System.nanoTime();
    boolean readBefore = preloaded != null;
    Future<ReplayedLog> replay = readBefore ? Future.succeededFuture(preloaded)
        : context.executeBlocking(() -> read(logDir, walOptions, factory), false);
    // Not kept: what it restored (entry lists included) is the groups' once they start.
    preloaded = null;
    return replay.compose(replayed -> {
      wal = replayed.take();
      wal.observe(walObserver);
      Map<Integer, PartitionGroups.Restored> restored = replayed.restored();
      restoredGroups = restored.size();
      WriteAheadLog.Recovery r = wal.recovery();
      JsonObject cut = cutOf(r);
      logStatus = new JsonObject().put("dir", logDir.toString()).put("firstLsn", r.firstLsn())
          .put("lastLsn", r.lastLsn()).put("segments", r.segments()).put("cut", cut);
      if (!readBefore) {
        logReplayed(nodeName, logDir, replayed);
      }
      JsonObject fields = new JsonObject().put("replayMs", replayed.replayMs())
          .put("groups", restoredGroups).put("lastLsn", r.lastLsn()).put("cut", cut);
      // Ready (catching up) only once the groups run and can answer.
      return startGroups(restored).onSuccess(v -> enter("catching-up", fields.put("startMs",
          (System.nanoTime() - t0) / 1_000_000)));
    });
  }

  private Future<Void> startGroups(Map<Integer, PartitionGroups.Restored> restored) {
    return context.executeBlocking(() -> ClusterIdentity.of(manager).settle(dataDir,
        dataDir.readClusterId()), false).compose(outcome -> {
          clusterId = outcome.clusterId();
          if (outcome.bootstrap()) {
            log.info("node {}: bootstrapping cluster {} with {} partition groups", nodeName,
                clusterId, options.getPartitions());
          }
          PartitionGroups g = new PartitionGroups(context, nodeName, wal,
              RaftCodec.forKeel(factory), factory, hosts.contexts(), routing::table,
              name -> routing.members().stream().anyMatch(m -> m.name().equals(name)),
              machines, PartitionGroups.DEFAULT_CONFIG, this::partitionEvent);
          g.observeCommits(commitObserver);
          g.useLeaseReads(options.isLeaseReads());
          g.stepOnlyWhile(routing::tableCurrent);
          groups = g;
          Future<Void> started = g.start(restored, outcome.bootstrap(), options.getPartitions(),
              DRIVE_INTERVAL_MS);
          return !outcome.bootstrap() ? started : started.compose(v -> context.executeBlocking(
              () -> {
                ClusterIdentity.finishBootstrap(dataDir, outcome.clusterId());
                return null;
              }, false));
        }).onSuccess(v -> phaseTimer = vertx.setPeriodic(DRIVE_INTERVAL_MS, id -> followGroups()))
        .mapEmpty();
  }

  /** Active once every local replica is; catching up again if one falls behind. */
  private void followGroups() {
    String next = groups.allActive() ? "active" : "catching-up";
    if (!next.equals(phase)) {
      enter(next, new JsonObject().put("partitions", groups.partitions().size()));
    }
  }

  /** A partition's event: its phase ({@code recovery-phase}), or one with a type of its own. */
  private void partitionEvent(JsonObject event) {
    if (event.getString("type") == null) {
      event.put("type", "recovery-phase");
    }
    vertx.eventBus().publish(Addresses.EVENTS, event.put("node", nodeName));
  }

  @Override
  public Future<?> stop() {
    if (phaseTimer >= 0) {
      vertx.cancelTimer(phaseTimer);
    }
    PartitionGroups g = groups;
    WriteAheadLog w = wal;
    Future<Void> stopped = g == null ? Future.succeededFuture() : g.close();
    return stopped.eventually(() -> w == null ? Future.succeededFuture()
        : context.executeBlocking(() -> {
          w.close();
          return null;
        }, false));
  }

  /**
   * Reports every force of the log and the latency of every commit through a partition group,
   * for metrics; call before deploying.
   */
  public void observe(WriteAheadLog.Observer wal, java.util.function.LongConsumer commits) {
    this.walObserver = wal;
    this.commitObserver = commits;
  }

  /** This node's partition groups, or null before they start. */
  public PartitionGroups groups() {
    return groups;
  }

  /** The {@code recovery} part of {@code /status}. */
  public JsonObject status() {
    PartitionGroups g = groups;
    WriteAheadLog w = wal;
    JsonObject log = logStatus == null ? null : logStatus.copy();
    if (log != null && w != null) {
      // Compaction moves the first LSN up while the node runs.
      log.put("now", new JsonObject().put("firstLsn", w.firstLsn()).put("lastLsn", w.lastLsn())
          .put("segments", w.segmentCount()));
    }
    return new JsonObject().put("phase", phase).put("cluster", clusterId)
        .put("restoredGroups", restoredGroups).put("log", log)
        .put("phases", g == null ? new JsonObject() : g.phaseCounts())
        .put("moves", g == null ? new JsonObject() : g.handoffStats())
        .put("reads", g == null ? new JsonObject() : g.readStats())
        .put("partitions", g == null ? new JsonArray() : g.status());
  }

  private void enter(String next, JsonObject fields) {
    phase = next;
    vertx.eventBus().publish(Addresses.EVENTS, fields.put("type", "recovery-phase")
        .put("node", nodeName).put("phase", next));
  }
}
