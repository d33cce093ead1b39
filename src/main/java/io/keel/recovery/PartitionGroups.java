package io.keel.recovery;

import io.keel.bus.Failure;
import io.keel.routing.PartitionTable;
import io.microraft.MembershipChangeMode;
import io.microraft.Ordered;
import io.microraft.QueryPolicy;
import io.microraft.RaftConfig;
import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.RaftNodeStatus;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.message.AppendEntriesRequest;
import io.microraft.model.message.InstallSnapshotRequest;
import io.microraft.model.message.RaftMessage;
import io.microraft.persistence.RestoredRaftState;
import io.microraft.report.RaftGroupMembers;
import io.microraft.report.RaftNodeReport;
import io.microraft.transport.Transport;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's replicas of the partitions' Raft groups: one MicroRaft node per partition it
 * holds, all persisted in the node's one write-ahead log, all talking through one
 * {@link BusTransport} per host context, all running on a few event-loop contexts. No group
 * waits for fsync: its messages wait instead ({@link DurableSends}), and so do its answers
 * ({@link #propose}, {@link #query}: {@link WriteAheadLog#barrier()}), so one fsync serves
 * every group of the node.
 *
 * <p>How groups come to exist. The node that bootstraps a cluster creates every partition's
 * group with itself as the only member. From then on, placement drives membership: the leader of
 * each group compares the group with the replica set of the current partition table and takes
 * the next {@link MembershipPlan} step, one at a time. To add a replica it first <em>invites</em>
 * the node ({@code keel.raft.join.<node>}), which creates an empty replica under a fresh
 * incarnation id ({@link NodeEndpoint#of}) with the group's initial member list; then the
 * leader adds it as a learner, and promotes it once its log has reached the commit index. A
 * replica whose group removed it terminates, and this node forgets it (a {@code FORGET} record,
 * so that replay does not bring it back). A replica that was removed while its node was down
 * comes back as a zombie nobody listens to; the next invitation for its partition replaces it.
 *
 * <p>When the group is what the table wants, its leader hands leadership to the table's primary
 * of the partition once that replica is caught up, so that requests routed by the table reach
 * the leader first.
 *
 * <p>Leaders take these steps only while their node's table is the cluster's newest
 * ({@link #stepOnlyWhile}): two nodes whose member lists differ compute two tables, and their
 * leaders would otherwise undo each other's steps for as long as the lists differ.
 *
 * <p>Thread-safety: the replica map is concurrent; each Raft node runs on its own host context;
 * the driver runs on the context that called {@link #start}.
 */
public final class PartitionGroups {
  private static final Logger log = LoggerFactory.getLogger(PartitionGroups.class);
  private static final String JOIN_PREFIX = "keel.raft.join.";
  private static final String MEMBERS_PREFIX = "keel.raft.members.";
  /**
   * How long a replica goes without a leader before it asks its table's replicas whether its
   * group removed it: a member removed by a commit it never received hears nothing more.
   */
  static final long ORPHAN_CHECK_MS = 10_000;
  /** Membership steps in flight at once on this node, over all the groups it leads. */
  private static final int CHANGES_IN_FLIGHT_MAX = 64;
  private static final long INVITE_TIMEOUT_MS = 10_000;
  /** How often the log is compacted. */
  private static final long COMPACT_INTERVAL_MS = 2_000;
  /** Log segments kept before compaction checkpoints the groups that pin the oldest one. */
  static final int SEGMENTS_RETAINED = 4;
  /** Groups one compaction round checkpoints at most. */
  static final int CHECKPOINTS_PER_ROUND = 64;
  /** How long a reachable replica may stay silent, or behind without progress: then stuck. */
  static final long STUCK_AFTER_MS = 30_000;
  /** How often a leader checks its settled group for stuck replicas. */
  private static final long HEALTH_CHECK_MS = 5_000;
  // How long a leader waits for a hand-over without a pause (HandOver) before it starts one.
  private static final long HAND_OVER_WAIT_MS = 10_000;
  // The longest a hand-over holds requests, from its start, before they are tried anyway.
  private static final long HAND_OVER_HOLD_MS = 2_000;
  /**
   * How long after this node last started a membership change its leaders wait before they hand
   * a partition to its primary: in a join, leadership moves after the replicas, to a node done
   * creating them. Hand-overs in the middle of that took up to 860 ms; after it, about 100 ms.
   */
  private static final long HAND_OVER_QUIET_MS = 1_000;
  // A membership change or hand-over slower than this is logged.
  private static final long SLOW_CHANGE_MS = 250;
  /**
   * How long after an append a leader's empty appends to the same follower are dropped
   * ({@link QuietAppends}): well above a commit's round trip, well below the lease and the
   * heartbeat timeout less the heartbeat period. A follower then goes up to about 1.4 s without
   * an append (the period on the 125 ms timer grid, plus this), which leaves a 2 s lease about
   * 600 ms for the answer to come back.
   */
  static final long QUIET_APPENDS_NANOS = 250_000_000L;
  // -Dkeel.raft.quietAppends=false sends every empty append, to compare.
  private static final boolean QUIET_APPENDS =
      !"false".equals(System.getProperty("keel.raft.quietAppends"));

  /**
   * A replica restored from the log: its state for MicroRaft, its replayed image and the LSN
   * its records start at (see {@link RaftLogReplay}).
   */
  public record Restored(RestoredRaftState state, GroupImage image, long neededFrom) {}

  /** The Raft settings of partition groups. */
  public static final RaftConfig DEFAULT_CONFIG = RaftConfig.newBuilder()
      .setLeaderElectionTimeoutMillis(750)
      .setLeaderHeartbeatPeriodSecs(1)
      .setLeaderHeartbeatTimeoutSecs(3)
      // Bounds what a restart re-applies after replay (a partition's state is small).
      .setCommitCountToTakeSnapshot(1_000)
      // MicroRaft 0.7 never re-requests a snapshot chunk lost in transfer from a follower.
      .setTransferSnapshotsFromFollowersEnabled(false)
      .build();

  /** One local replica. */
  private static final class Replica {
    final int partition;
    final NodeEndpoint self;
    final RaftNode raft;
    final RaftLogStore store;
    final MachineSet machine;
    final Context host;
    // On the replica's executor only: its part in leader leases for linearizable reads.
    final LeaderLease lease;
    volatile String phase = "catching-up";
    volatile boolean retiring;
    // Touched by the driver only: the leader's view of its members' progress.
    final CatchUpWatch watch = new CatchUpWatch(STUCK_AFTER_MS);
    int ledTerm = -1;
    long leaderSinceMs;
    long checkedMs;
    // When each learner this leader added was added, until it is promoted.
    final Map<String, Long> learnerSinceMs = new HashMap<>();
    // Driver only: since when this replica knows no leader (-1: it knows one); asking peers.
    long leaderlessSinceMs = -1;
    // Driver only: when this replica was last checked for following a silent leader.
    long deadLeaderCheckedMs;
    boolean askingMembers;
    // Driver only: since when this leader waits for a moment to hand over (-1: it does not),
    // and when it last looked.
    long handOverSinceMs = -1;
    long handOverTriedMs;
    // The hand-over of this leader's leadership under way, if any: set by the driver or
    // handOver, cleared on the replica's executor. Requests wait for it (afterHandOver).
    final AtomicReference<HandingOver> handingOver = new AtomicReference<>();

    Replica(int partition, NodeEndpoint self, RaftNode raft, RaftLogStore store,
        MachineSet machine, Context host, long leaseNanos) {
      this.lease = new LeaderLease(leaseNanos);
      this.partition = partition;
      this.self = self;
      this.raft = raft;
      this.store = store;
      this.machine = machine;
      this.host = host;
    }

    boolean leads() {
      RaftEndpoint leader = raft.getTerm().getLeaderEndpoint();
      return self.equals(leader) && serving(raft.getStatus());
    }
  }

  /**
   * Whether a leader in {@code status} takes requests: when active, and also while a change
   * of its members is being committed, as MicroRaft does. Refusing then paused a partition's
   * writes for every replica added, promoted or removed (three times per replica a join
   * moves), each time for the change's commit plus the caller's backoff.
   */
  static boolean serving(RaftNodeStatus status) {
    return status == RaftNodeStatus.ACTIVE
        || status == RaftNodeStatus.UPDATING_RAFT_GROUP_MEMBER_LIST;
  }

  /**
   * A hand-over under way: {@code done} completes with the target once it ended well, with
   * null when it failed or did not start; {@code held} is what the requests it holds wait for,
   * on the driver's context (whose listeners run in the order they were added): the same
   * outcome, or null once {@link #HAND_OVER_HOLD_MS} has passed.
   */
  private record HandingOver(CompletableFuture<RaftEndpoint> done, Future<RaftEndpoint> held) {}

  private final Context context;
  private final String node;
  private final WriteAheadLog wal;
  private final RaftCodec codec;
  private final RaftModelFactory factory;
  private final Map<String, Supplier<? extends PartitionStateMachine>> machines;
  private final Supplier<PartitionTable> table;
  private final Predicate<String> reachable;
  private final RaftConfig config;
  private final List<Context> hosts;
  private final List<ContextExecutor> executors = new ArrayList<>();
  private final List<BusTransport> transports = new ArrayList<>();
  private final List<DurableOrder> answers = new ArrayList<>();
  private final List<CampaignGuard> guards = new ArrayList<>();
  private final Consumer<JsonObject> events;
  private final Map<Integer, Replica> replicas = new ConcurrentHashMap<>();
  // Bumped after every replica added or removed: a list of machines holds until it changes.
  private final AtomicLong replicaChanges = new AtomicLong();
  // By machine name; read the count before listing, so a list is never newer than its count.
  private final Map<String, Listed> listed = new ConcurrentHashMap<>();
  private final Set<Integer> changing = ConcurrentHashMap.newKeySet();
  private final AtomicLong incarnations = new AtomicLong();
  // MicroRaft's clock for every group here, and the time its heartbeat timestamps are read in.
  private final MonotonicClock raftClock = new MonotonicClock();
  private final long leaseNanos;
  private volatile boolean useLeases = true;
  private final AtomicLong leaseReads = new AtomicLong();
  // Of those, the ones answered on the caller's thread at once (leasedNow).
  private final AtomicLong leaseReadsAtOnce = new AtomicLong();
  private final AtomicLong roundReads = new AtomicLong();
  private final String incarnationBase = Long.toString(System.currentTimeMillis(), 36);
  private MessageConsumer<JsonObject> joinConsumer;
  private MessageConsumer<JsonObject> membersConsumer;
  private long driveTimer = -1;
  private long compactTimer = -1;
  private boolean compacting;
  private volatile boolean closed;
  private volatile java.util.function.LongConsumer commitObserver = nanos -> { };
  private volatile java.util.function.BooleanSupplier tableCurrent = () -> true;
  private final AtomicLong handoffs = new AtomicLong();
  private final AtomicLong handoffPauseMsMax = new AtomicLong();
  private final AtomicLong heldForHandOver = new AtomicLong();
  // When this node last started a membership change (HAND_OVER_QUIET_MS); on the context.
  private long changeStartedMs;
  private final AtomicLong entryBytesToLearners = new AtomicLong();
  private final AtomicLong snapshotBytesToLearners = new AtomicLong();

  /**
   * Groups of node {@code node}.
   *
   * @param context the context the driver and the event-bus handlers run on
   * @param hosts contexts the Raft nodes run on (partition {@code p} on host
   *     {@code p % hosts.size()})
   * @param reachable whether a node is a current member of the cluster
   * @param machines the state machines of every partition, by name (the same on every node)
   * @param events receives events of single partitions: their phase, {@code replica-added}
   *     (a new replica got the state and votes) and {@code leader-moved} (with the write pause)
   */
  public PartitionGroups(Context context, String node, WriteAheadLog wal, RaftCodec codec,
      RaftModelFactory factory, List<Context> hosts, Supplier<PartitionTable> table,
      Predicate<String> reachable, Map<String, Supplier<? extends PartitionStateMachine>> machines,
      RaftConfig config, Consumer<JsonObject> events) {
    if (hosts.isEmpty()) {
      throw new IllegalArgumentException("partition groups need at least one host context");
    }
    this.context = context;
    this.node = node;
    this.wal = wal;
    this.codec = codec;
    this.factory = factory;
    this.hosts = List.copyOf(hosts);
    this.table = table;
    this.reachable = reachable;
    this.machines = Map.copyOf(machines);
    this.config = config;
    this.events = events;
    this.leaseNanos = LeaseReads.leaseNanos(config);
    for (Context host : this.hosts) {
      executors.add(new ContextExecutor(host));
      BusTransport transport = new BusTransport(host, node, codec, reachable);
      transport.observeSends(this::countCatchUp);
      transport.stampWith(this::stamp);
      transports.add(transport);
      Executor onHost = task -> host.runOnContext(v -> task.run());
      answers.add(new DurableOrder(onHost));
      // Early appends: a leader's entries leave while its own copy is being synced.
      DurableSends sends = new DurableSends(transport, wal::barrier, onHost, factory);
      Transport out = QUIET_APPENDS
          ? new QuietAppends(sends, System::nanoTime, QUIET_APPENDS_NANOS) : sends;
      guards.add(new CampaignGuard(out, g -> {
        Replica r = replicas.get((Integer) g);
        return r == null ? null : r.raft;
      }));
    }
  }

  /**
   * Starts the replicas restored from the log ({@code restored}, by partition), and, when this
   * node bootstraps
   * the cluster, creates the group of every partition below {@code partitions} that it does not
   * hold yet; then listens for invitations and starts driving membership.
   *
   * @param driveIntervalMs how often the groups this node leads are compared with the table
   */
  public Future<Void> start(Map<Integer, Restored> restored, boolean bootstrap,
      int partitions, long driveIntervalMs) {
    List<Future<?>> started = new ArrayList<>();
    restored.forEach((p, r) -> started.add(startReplica(p,
        (NodeEndpoint) r.state().getLocalEndpointPersistentState().getLocalEndpoint(), null, r)));
    return Future.all(started).compose(v -> {
      List<Future<?>> created = new ArrayList<>();
      if (bootstrap) {
        for (int p = 0; p < partitions; p++) {
          if (!replicas.containsKey(p)) {
            NodeEndpoint self = NodeEndpoint.of(node, nextIncarnation());
            created.add(startReplica(p, self, List.of(self), null));
          }
        }
      }
      // A bootstrap is recorded as finished only once the groups it created are on disk.
      return Future.all(created).compose(x -> durable());
    }).compose(v -> transports.get(0).listen((message, stamp) -> {
      Replica r = replicas.get((Integer) message.getGroupId());
      if (r != null) {
        RaftDelivery.deliver(r.raft, message, stamp, r.lease);
      }
    })).compose(v -> {
      joinConsumer = context.owner().eventBus().consumer(JOIN_PREFIX + node, this::onInvite);
      membersConsumer = context.owner().eventBus().consumer(MEMBERS_PREFIX + node,
          this::onMembersAsked);
      return Future.all(joinConsumer.completion(), membersConsumer.completion()).mapEmpty();
    }).onSuccess(v -> {
      driveTimer = context.owner().setPeriodic(driveIntervalMs,
          id -> context.runOnContext(x -> drive()));
      compactTimer = context.owner().setPeriodic(COMPACT_INTERVAL_MS,
          id -> context.runOnContext(x -> compact()));
    }).mapEmpty();
  }

  /** Terminates every local replica (their state stays in the log) and stops listening. */
  public Future<Void> close() {
    closed = true;
    if (driveTimer >= 0) {
      context.owner().cancelTimer(driveTimer);
    }
    if (compactTimer >= 0) {
      context.owner().cancelTimer(compactTimer);
    }
    List<Future<?>> done = new ArrayList<>();
    for (Replica r : replicas.values()) {
      done.add(Future.fromCompletionStage(r.raft.terminate(), context));
    }
    if (joinConsumer != null) {
      done.add(joinConsumer.unregister());
      done.add(membersConsumer.unregister());
    }
    done.add(transports.get(0).close());
    return Future.join(done).mapEmpty();
  }

  /**
   * The state machine {@code name} of this node's replica of partition {@code p}, or null. It
   * belongs to the replica's Raft thread: read only what it publishes for other threads.
   */
  public PartitionStateMachine machine(int p, String name) {
    Replica r = replicas.get(p);
    return r == null ? null : r.machine.machine(name);
  }

  /**
   * The machines called {@code name} of the local replicas, by partition. Listing them visits
   * every partition, so the list is kept until a replica is added or removed: callers may ask
   * on every request or tick.
   */
  public Map<Integer, PartitionStateMachine> machines(String name) {
    long changes = replicaChanges.get();
    Listed l = listed.get(name);
    if (l == null || l.replicaChanges() != changes) {
      Map<Integer, PartitionStateMachine> found = new TreeMap<>();
      for (Replica r : replicas.values()) {
        PartitionStateMachine m = r.machine.machine(name);
        if (m != null) {
          found.put(r.partition, m);
        }
      }
      l = new Listed(changes, Collections.unmodifiableMap(found));
      listed.put(name, l);
    }
    return l.machines();
  }

  /** Machines as listed when the replicas had changed {@code replicaChanges} times. */
  private record Listed(long replicaChanges, Map<Integer, PartitionStateMachine> machines) {}

  /** The partitions this node holds a replica of. */
  public Set<Integer> partitions() {
    return Set.copyOf(replicas.keySet());
  }

  /** The leader of partition {@code p}'s group as this node knows it, or null. */
  public String leaderOf(int p) {
    Replica r = replicas.get(p);
    RaftEndpoint leader = r == null ? null : r.raft.getTerm().getLeaderEndpoint();
    return leader == null ? null : NodeEndpoint.nodeOf(leader);
  }

  /** Whether this node's replica of partition {@code p} leads its group, as far as it knows. */
  public boolean leads(int p) {
    Replica r = replicas.get(p);
    return r != null && r.raft.getLocalEndpoint().equals(r.raft.getTerm().getLeaderEndpoint());
  }

  /** Whether every local replica is active (trivially so when this node holds none). */
  public boolean allActive() {
    return replicas.values().stream().allMatch(r -> "active".equals(r.phase));
  }

  /** How many local replicas are in each phase. */
  public JsonObject phaseCounts() {
    JsonObject counts = new JsonObject();
    for (Replica r : replicas.values()) {
      counts.put(r.phase, counts.getInteger(r.phase, 0) + 1);
    }
    return counts;
  }

  /**
   * Commits {@code command} through partition {@code p}'s group and answers the state machine's
   * result. Fails with {@code NOT_OWNER} (naming the leader this node knows) when this replica
   * is not the leader, and with {@code UNAVAILABLE} when the group cannot commit: nothing is
   * acknowledged without a majority.
   */
  public Future<byte[]> propose(int p, byte[] command) {
    return propose(p, command, true);
  }

  private Future<byte[]> propose(int p, byte[] command, boolean mayWait) {
    Replica r = replicas.get(p);
    HandingOver handing = r == null || !mayWait ? null : r.handingOver.get();
    if (handing != null) {
      return afterHandOver(p, handing, () -> propose(p, command, false));
    }
    if (!serves(r)) {
      return Future.failedFuture(refuse(p, r));
    }
    long start = System.nanoTime();
    return answer(r, r.raft.<byte[]>replicate(command), () ->
        commitObserver.accept(System.nanoTime() - start));
  }

  /**
   * Answers {@code query} from partition {@code p}'s state: linearizable on the leader (from its
   * own state while it holds a lease, else after confirming its leadership with a majority:
   * {@link LeaseReads}), or, when {@code stale} is true, from this replica whatever its role.
   */
  public Future<byte[]> query(int p, byte[] query, boolean stale) {
    return ask(p, new PartitionStateMachineAdapter.Query(query), stale);
  }

  /**
   * As {@link #query}, reading partition {@code p}'s machine {@code name} in memory instead:
   * {@code read} runs on the replica's thread, and neither the query nor its answer is written
   * out as bytes and read back. {@code read} must change nothing, and its answer must not be
   * changed later by the machine (a copy, or a value the machine replaces rather than edits).
   */
  public <T> Future<T> read(int p, String name, Function<PartitionStateMachine, T> read,
      boolean stale) {
    return ask(p, new PartitionStateMachineAdapter.Read(name, read), stale);
  }

  private <T> Future<T> ask(int p, Object operation, boolean stale) {
    return ask(p, operation, stale, true);
  }

  private <T> Future<T> ask(int p, Object operation, boolean stale, boolean mayWait) {
    Replica r = replicas.get(p);
    HandingOver handing = r == null || stale || !mayWait ? null : r.handingOver.get();
    if (handing != null) {
      return afterHandOver(p, handing, () -> ask(p, operation, false, false));
    }
    if (r == null || (!stale && !serves(r))) {
      return Future.failedFuture(refuse(p, r));
    }
    if (!stale && useLeases && ((ContextInternal) r.host).inThread()) {
      Future<T> now = leasedNow(r, operation);
      if (now != null) {
        return now;
      }
    }
    if (stale) {
      return answer(r, r.raft.<T>query(operation, QueryPolicy.EVENTUAL_CONSISTENCY,
          Optional.empty(), Optional.empty()), () -> { });
    }
    return answer(r, LeaseReads.<T>query((RaftNodeImpl) r.raft, useLeases ? r.lease : null,
        operation, System::nanoTime,
        leased -> (leased ? leaseReads : roundReads).incrementAndGet()), () -> { });
  }

  /**
   * A lease read answered at once, for a caller on the thread of {@code r}'s host: no task of
   * the group can be running, so the replica's state may be read here, as
   * {@link LeaseReads#query} would on the host, without the hop there and back and without
   * MicroRaft's query. Null when the lease does not hold, or when results before it still
   * wait for the log ({@link #answer}): then the read goes the usual way. The future is
   * complete when returned; callers that hand it to user code make that asynchronous.
   */
  @SuppressWarnings("unchecked")
  private <T> Future<T> leasedNow(Replica r, Object operation) {
    // A failed barrier is done too: the log failed, and what was applied since may be durable
    // nowhere but on one follower. The usual way answers UNAVAILABLE then.
    CompletableFuture<?> barrier = wal.barrier();
    if (answers.get(hostOf(r.partition)).waitingCount() > 0 || !barrier.isDone()
        || barrier.isCompletedExceptionally()
        || !LeaseReads.holds((RaftNodeImpl) r.raft, r.lease, System.nanoTime())) {
      return null;
    }
    leaseReads.incrementAndGet();
    leaseReadsAtOnce.incrementAndGet();
    try {
      return Future.succeededFuture((T) PartitionStateMachineAdapter.answer(r.machine,
          operation));
    } catch (Throwable e) { // as MicroRaft's query would report it
      return Future.failedFuture(explain(r.partition, e));
    }
  }

  /** The context the driver and the event-bus handlers run on: for tests. */
  Context context() {
    return context;
  }

  /**
   * Whether leaders here answer linearizable reads under their lease (the default) or always
   * after a heartbeat round. Replicas keep the promise leases rely on either way.
   */
  public void useLeaseReads(boolean use) {
    this.useLeases = use;
  }

  /**
   * Takes membership steps only while {@code current} holds: while this node's table is the
   * cluster's newest, so that leaders on two nodes with different tables do not undo each
   * other's steps (see {@code TableAuthority}).
   */
  public void stepOnlyWhile(java.util.function.BooleanSupplier current) {
    this.tableCurrent = current;
  }

  /** The stamp of a message a local replica sends ({@link LeaseReads#stamp}); on its host. */
  private long stamp(RaftMessage message) {
    return LeaseReads.stamp(message, this::leaseOfSender, System.nanoTime());
  }

  /**
   * The lease of the local replica that sent {@code message}, or null: a replica replaced
   * meanwhile has none here, and must not echo its successor's.
   */
  private LeaderLease leaseOfSender(RaftMessage message) {
    Replica r = replicas.get((Integer) message.getGroupId());
    return r != null && r.self.equals(message.getSender()) ? r.lease : null;
  }

  /**
   * A request that came while this leader hands partition {@code p} over: the group takes
   * none until the transfer ends, and a refusal now would have the client back off for longer
   * than the pause. So it waits, until {@link #HAND_OVER_HOLD_MS} after the hand-over began at
   * most, and then names the new leader ({@code NOT_OWNER}, which the client follows at once),
   * or is tried here again, once and without waiting, when the transfer failed or takes
   * longer. Requests held by one hand-over go on in the order they came.
   */
  private <T> Future<T> afterHandOver(int p, HandingOver handing, Supplier<Future<T>> again) {
    heldForHandOver.incrementAndGet();
    return handing.held().compose(to -> {
      if (to == null) {
        return again.get();
      }
      String leader = NodeEndpoint.nodeOf(to);
      return Future.failedFuture(Failure.notLeader("node " + node + " handed partition " + p
          + " over to " + leader + " while the request waited", leader));
    });
  }

  /**
   * The result of {@code raft}'s operation, once everything the node appended before MicroRaft
   * completed it is durable: the leader may apply an entry before its own copy is on disk
   * ({@link DurableSends}). Results leave in the order MicroRaft completed them (callers such
   * as the lock service rely on apply order), on the driver's context.
   */
  private <T> Future<T> answer(Replica r, CompletableFuture<Ordered<T>> raft,
      Runnable onDurable) {
    Promise<T> result = Promise.promise();
    raft.whenComplete((ordered, e) -> {
      if (e != null) {
        context.runOnContext(v -> result.fail(explain(r.partition, e)));
        return;
      }
      Runnable after = () -> answers.get(hostOf(r.partition)).submit(wal.barrier(), () -> {
        onDurable.run();
        context.runOnContext(v -> result.complete(ordered.getResult()));
      }, failed -> context.runOnContext(v -> result.fail(Failure.UNAVAILABLE.exception(
          "partition " + r.partition + ": node " + node + " cannot write its log (" + failed
          + "); the result is not durable here"))));
      // MicroRaft completes futures on its executor, the replica's host; the order lives there.
      if (Vertx.currentContext() == r.host) {
        after.run();
      } else {
        r.host.runOnContext(v -> after.run());
      }
    });
    return result.future();
  }

  private int hostOf(int partition) {
    return Math.floorMod(partition, hosts.size());
  }

  /** The {@code partitions} array of {@code /status}: one object per local replica. */
  public JsonArray status() {
    JsonArray out = new JsonArray();
    for (Replica r : new TreeMap<>(replicas).values()) {
      RaftEndpoint leader = r.raft.getTerm().getLeaderEndpoint();
      RaftGroupMembers members = r.raft.getCommittedMembers();
      String role = r.leads() ? "leader"
          : members.getVotingMembers().contains(r.self) ? "follower" : "learner";
      out.add(new JsonObject().put("partition", r.partition).put("replica", r.self.name())
          .put("role", role).put("phase", r.phase).put("term", r.raft.getTerm().getTerm())
          .put("applied", r.machine.appliedIndex())
          .put("leader", leader == null ? null : NodeEndpoint.nodeOf(leader))
          .put("members", names(members.getMembers())));
    }
    return out;
  }

  /** Whether this replica takes writes and linearizable reads: it leads and is not leaving. */
  private static boolean serves(Replica r) {
    return r != null && !r.retiring && r.leads();
  }

  /**
   * Why this node does not take a request for partition {@code p}: {@code NOT_OWNER} naming the
   * leader when it knows one, {@code UNAVAILABLE} when its replica knows none (an election is
   * under way, or no majority of the replicas can be reached).
   */
  private Throwable refuse(int p, Replica r) {
    String leader = leaderOf(p);
    if (r != null && leader == null) {
      return Failure.UNAVAILABLE.exception("partition " + p + " has no leader: an election is"
          + " under way, or no majority of its replicas can be reached; nothing was written");
    }
    return Failure.notLeader(r == null
        ? "node " + node + " holds no replica of partition " + p
        : "node " + node + " is not the leader of partition " + p,
        node.equals(leader) ? null : leader);
  }

  private Throwable explain(int p, Throwable e) {
    Failure f = RaftFailures.classify(e);
    Throwable cause = RaftFailures.unwrap(e);
    if (f == Failure.NOT_OWNER) {
      RaftEndpoint leader = RaftFailures.leader(e);
      return Failure.notLeader("node " + node + " is no longer the leader of partition " + p,
          leader == null ? null : NodeEndpoint.nodeOf(leader));
    }
    return f.exception("partition " + p + " cannot commit: " + cause.getClass().getSimpleName()
        + (RaftFailures.indeterminate(e) ? " (the write may or may not have taken effect)"
            : " (nothing was written)"));
  }

  private Future<Replica> startReplica(int p, NodeEndpoint self, List<RaftEndpoint> initial,
      Restored restored) {
    int h = hostOf(p);
    RaftLogStore store = restored == null ? RaftLogStore.fresh(wal, codec, p)
        : RaftLogStore.restored(wal, codec, restored.image(), restored.neededFrom());
    MachineSet machine = new MachineSet(machines);
    PartitionStateMachineAdapter adapter = new PartitionStateMachineAdapter(machine);
    RaftNode.RaftNodeBuilder builder = RaftNode.newBuilder().setGroupId(p).setConfig(config)
        .setExecutor(executors.get(h)).setTransport(guards.get(h)).setStore(store)
        .setModelFactory(factory).setStateMachine(adapter).setClock(raftClock);
    if (restored != null) {
      builder.setRestoredState(restored.state());
    } else {
      builder.setLocalEndpoint(self).setInitialGroupMembers(initial);
    }
    Replica r = new Replica(p, self, adapter.attach(builder.build()), store, machine,
        hosts.get(h), leaseNanos);
    replicas.put(p, r);
    replicaChanges.incrementAndGet();
    if (restored != null) {
      LeaseReads.restored((RaftNodeImpl) r.raft);
    }
    return Future.fromCompletionStage(r.raft.start(), context).map(x -> r);
  }

  /** Completes once everything appended to the log so far is durable (on this context). */
  private Future<Void> durable() {
    return Future.fromCompletionStage(wal.barrier(), context).mapEmpty();
  }

  private String nextIncarnation() {
    return incarnationBase + "." + incarnations.incrementAndGet();
  }

  /**
   * An invitation from partition {@code p}'s leader: {@code {partition, initial, members}}.
   * Answers {@code {replica}}, the id of the replica the leader should add.
   */
  private void onInvite(Message<JsonObject> msg) {
    JsonObject body = msg.body();
    Integer p = body == null ? null : body.getInteger("partition");
    JsonArray initial = body == null ? null : body.getJsonArray("initial");
    JsonArray members = body == null ? null : body.getJsonArray("members");
    if (p == null || initial == null || members == null || closed) {
      Failure.BAD_REQUEST.fail(msg, "an invitation needs partition, initial and members");
      return;
    }
    Replica r = replicas.get(p);
    // Only a replica the group has now is offered again. One it does not have may have been
    // added and removed already (a replica judged stuck before it heard anything): added again
    // under the same id, it would replay its own removal and stop, and a group that counted
    // it as a voter would be left without a majority for good.
    if (r != null && !r.retiring && members.contains(r.self.name())) {
      msg.reply(new JsonObject().put("replica", r.self.name()));
      return;
    }
    Future<Void> cleared = r == null ? Future.succeededFuture() : retire(r);
    List<RaftEndpoint> endpoints = new ArrayList<>();
    for (Object id : initial) {
      endpoints.add(new NodeEndpoint((String) id));
    }
    // The new replica's first state must be on disk before its id leaves this node.
    cleared.compose(v -> startReplica(p, NodeEndpoint.of(node, nextIncarnation()), endpoints,
        null)).compose(created -> durable().map(created)).onComplete(ar -> {
          if (ar.succeeded()) {
            log.info("node {}: joining partition {} as {}", node, p, ar.result().self);
            msg.reply(new JsonObject().put("replica", ar.result().self.name()));
          } else {
            Failure.reply(msg, ar.cause());
          }
        });
  }

  /**
   * Once a second, on its host, frees {@code r} from following a leader it no longer hears
   * from where MicroRaft 0.7 would not ({@link DeadLeader}).
   */
  private void checkDeadLeader(Replica r) {
    RaftEndpoint leader = r.raft.getTerm().getLeaderEndpoint();
    long now = System.currentTimeMillis();
    if (leader == null || leader.equals(r.self) || now - r.deadLeaderCheckedMs < 1_000) {
      return;
    }
    r.deadLeaderCheckedMs = now;
    r.host.runOnContext(v -> {
      if (DeadLeader.unstick(r.raft)) {
        log.info("node {}: partition {}: no word from leader {} for the heartbeat timeout;"
            + " this replica drops it and campaigns", node, r.partition,
            NodeEndpoint.nodeOf(leader));
      }
    });
  }

  /**
   * A replica without a leader for {@link #ORPHAN_CHECK_MS} asks the nodes its partition's table
   * names whether its group still has it. When the group's leader answers with members
   * (committed and effective) that lack it, the group removed it by a commit it never
   * received: it retires (its node would otherwise count it as catching up for ever).
   */
  private void checkOrphan(Replica r) {
    long now = System.currentTimeMillis();
    if (r.raft.getTerm().getLeaderEndpoint() != null) {
      r.leaderlessSinceMs = -1;
      return;
    }
    if (r.leaderlessSinceMs < 0) {
      r.leaderlessSinceMs = now;
    }
    PartitionTable t = table.get();
    if (now - r.leaderlessSinceMs < ORPHAN_CHECK_MS || r.askingMembers
        || r.partition >= t.partitionCount()) {
      return;
    }
    r.askingMembers = true;
    List<Future<JsonObject>> answers = new ArrayList<>();
    for (String peer : t.replicas(r.partition)) {
      if (!peer.equals(node)) {
        answers.add(context.owner().eventBus().<JsonObject>request(MEMBERS_PREFIX + peer,
            new JsonObject().put("partition", r.partition),
            new DeliveryOptions().setSendTimeout(INVITE_TIMEOUT_MS)).map(m -> m.body()));
      }
    }
    Future.join(answers).onComplete(ar -> context.runOnContext(v -> {
      r.askingMembers = false;
      r.leaderlessSinceMs = System.currentTimeMillis();
      for (Future<JsonObject> a : answers) {
        JsonObject answer = a.succeeded() ? a.result() : null;
        // Only a leader's word counts: a lagging follower may not know of this replica yet.
        if (answer != null && answer.getBoolean("leads", false) && !r.retiring
            && !answer.getJsonArray("members").contains(r.self.name())
            && !answer.getJsonArray("effective").contains(r.self.name())) {
          log.info("node {}: partition {}: the group removed replica {} while it was away"
              + " (its members are {}); retiring it", node, r.partition, r.self,
              answer.getJsonArray("members"));
          retire(r);
          return;
        }
      }
    }));
  }

  /**
   * Answers {@code {partition}} with whether this node's replica leads it, and its committed
   * and effective members.
   */
  private void onMembersAsked(Message<JsonObject> msg) {
    Integer p = msg.body() == null ? null : msg.body().getInteger("partition");
    Replica r = p == null ? null : replicas.get(p);
    if (r == null || r.retiring) {
      Failure.UNAVAILABLE.fail(msg, "node " + node + " holds no replica of partition " + p);
      return;
    }
    JsonObject answer = new JsonObject().put("partition", p).put("leads", r.leads())
        .put("members", ids(r.raft.getCommittedMembers().getMembers()))
        .put("effective", ids(r.raft.getEffectiveMembers().getMembers()));
    // A leader may know a commit before its own copy is on disk (DurableSends).
    durable().onComplete(ar -> {
      if (ar.succeeded()) {
        msg.reply(answer);
      } else {
        Failure.UNAVAILABLE.fail(msg, "node " + node + " cannot write its log");
      }
    });
  }

  /** Stops a replica that left its group and forgets it durably. */
  private Future<Void> retire(Replica r) {
    r.retiring = true;
    return Future.fromCompletionStage(r.raft.terminate(), context).recover(e -> Future
        .succeededFuture()).compose(x -> r.host.executeBlocking(() -> {
          r.store.forget();
          return null;
        })).onSuccess(x -> {
          replicas.remove(r.partition, r);
          replicaChanges.incrementAndGet();
          log.info("node {}: left partition {} (replica {})", node, r.partition, r.self);
          events.accept(new JsonObject().put("partition", r.partition).put("phase", "left"));
        }).mapEmpty();
  }

  /**
   * One round of log compaction: deletes the segments no local replica needs any more, then,
   * while more than {@link #SEGMENTS_RETAINED} remain, checkpoints the replicas whose records
   * start in the oldest one, so that a later round can delete it. A replica that changes often
   * moves on by itself only if it is forgotten; every other one needs a checkpoint now and then,
   * which rewrites its image (its snapshot and the entries after it) at the log's end.
   */
  private void compact() {
    if (closed || compacting) {
      return;
    }
    long low = wal.lastLsn() + 1;
    for (Replica r : replicas.values()) {
      low = Math.min(low, r.store.neededFrom());
    }
    long release = low;
    boolean deletable = wal.segmentCount() > 1 && wal.oldestSegmentLastLsn() < release;
    if (!deletable && wal.segmentCount() <= SEGMENTS_RETAINED) {
      return;
    }
    compacting = true;
    Future<Integer> released = !deletable ? Future.succeededFuture(0)
        : context.executeBlocking(() -> wal.releaseBefore(release), false);
    released.compose(n -> checkpointOldest()).onComplete(ar -> {
      compacting = false;
      if (ar.failed() && !closed) {
        log.warn("node {}: log compaction failed: {}", node, ar.cause().toString());
      }
    });
  }

  private Future<Void> checkpointOldest() {
    if (closed || wal.segmentCount() <= SEGMENTS_RETAINED) {
      return Future.succeededFuture();
    }
    long oldest = wal.oldestSegmentLastLsn();
    List<Future<?>> done = new ArrayList<>();
    replicas.values().stream().filter(r -> !r.retiring && r.store.neededFrom() <= oldest)
        .sorted(java.util.Comparator.comparingLong(r -> r.store.neededFrom()))
        .limit(CHECKPOINTS_PER_ROUND).forEach(r -> {
          Promise<Long> written = Promise.promise();
          executors.get(Math.floorMod(r.partition, hosts.size())).execute(() ->
              r.store.checkpoint().whenComplete((lsn, e) -> {
                if (e == null) {
                  written.tryComplete(lsn);
                } else {
                  written.tryFail(e);
                }
              }));
          done.add(written.future());
        });
    return Future.join(done).mapEmpty();
  }

  /** One round: phases, retirements, and the next membership step of every group led here. */
  private void drive() {
    if (closed) {
      return;
    }
    boolean stepping = tableCurrent.getAsBoolean();
    for (Replica r : replicas.values()) {
      if (r.retiring) {
        continue;
      }
      if (RaftNodeStatus.isTerminal(r.raft.getStatus())) {
        retire(r);
        continue;
      }
      updatePhase(r);
      checkOrphan(r);
      checkDeadLeader(r);
      if (stepping && r.leads() && changing.size() < CHANGES_IN_FLIGHT_MAX
          && changing.add(r.partition)) {
        walk(r);
      }
    }
  }

  /**
   * Takes membership steps for {@code r}'s group while this replica leads it and each step
   * succeeds, then lets the next round look again. The caller marked it as changing.
   */
  private void walk(Replica r) {
    PartitionTable t = table.get();
    if (closed || r.retiring || !r.leads() || r.partition >= t.partitionCount()
        || !tableCurrent.getAsBoolean() || r.handingOver.get() != null) {
      changing.remove(r.partition);
      return;
    }
    step(r, t).onComplete(ar -> {
      if (ar.succeeded() && ar.result()) {
        walk(r);
        return;
      }
      changing.remove(r.partition);
      if (ar.failed()) {
        log.debug("node {}: membership step of partition {} failed: {}", node, r.partition,
            ar.cause().toString());
      }
    });
  }

  private void updatePhase(Replica r) {
    RaftEndpoint leader = r.raft.getTerm().getLeaderEndpoint();
    boolean voting = r.raft.getCommittedMembers().getVotingMembers().contains(r.self);
    // A change of the group's members under way is no reason to call a replica behind.
    String next = leader != null && voting && serving(r.raft.getStatus())
        ? "active" : "catching-up";
    if (!next.equals(r.phase)) {
      r.phase = next;
      events.accept(new JsonObject().put("partition", r.partition).put("phase", next));
    }
  }

  /** The members of {@code r}'s group that its leader (this node) finds stuck. */
  private Set<String> stuck(Replica r, Map<String, RaftEndpoint> byNode,
      Map<RaftEndpoint, Long> match, Map<RaftEndpoint, Long> answered, long commit) {
    Map<String, Long> progress = new TreeMap<>();
    Map<String, Long> answers = new TreeMap<>();
    Set<String> reachableMembers = new TreeSet<>();
    byNode.forEach((name, endpoint) -> {
      if (name.equals(node)) {
        return;
      }
      progress.put(name, match.getOrDefault(endpoint, 0L));
      Long at = answered.get(endpoint);
      if (at != null) {
        answers.put(name, at);
      }
      if (reachable.test(name)) {
        reachableMembers.add(name);
      }
    });
    return r.watch.stuckMembers(raftClock.millis(), progress, commit, answers,
        reachableMembers, r.leaderSinceMs);
  }

  /** The next step toward the table for a group this node leads; true if it took one. */
  private Future<Boolean> step(Replica r, PartitionTable t) {
    List<String> wanted = t.replicas(r.partition);
    RaftGroupMembers committed = r.raft.getCommittedMembers();
    if (wanted.isEmpty()
        || committed.getLogIndex() != r.raft.getEffectiveMembers().getLogIndex()) {
      return Future.succeededFuture(false); // no table yet, or a change is being committed
    }
    Map<String, RaftEndpoint> byNode = new TreeMap<>();
    for (RaftEndpoint e : committed.getMembers()) {
      byNode.put(NodeEndpoint.nodeOf(e), e);
    }
    List<String> voting = names(committed.getVotingMembers());
    String primary = t.primary(r.partition);
    long now = raftClock.millis(); // compared with MicroRaft's heartbeat timestamps
    int term = r.raft.getTerm().getTerm();
    if (term != r.ledTerm) {
      r.ledTerm = term;
      r.leaderSinceMs = now;
    }
    if (byNode.keySet().equals(new TreeSet<>(wanted)) && voting.size() == byNode.size()
        && (node.equals(primary) || !byNode.containsKey(primary))
        && now - r.checkedMs < HEALTH_CHECK_MS) {
      // The steady state: what the table wants, led by its primary; no report needed, but
      // now and then a look for stuck replicas.
      return Future.succeededFuture(false);
    }
    r.checkedMs = now;
    return Future.fromCompletionStage(r.raft.getReport(), context).compose(ordered -> {
      RaftNodeReport report = ordered.getResult();
      long commit = report.getLog().getCommitIndex();
      Map<RaftEndpoint, Long> match = report.getLog().getFollowerMatchIndices();
      Set<String> stuck = stuck(r, byNode, match, report.getHeartbeatTimestamps(), commit);
      List<String> caughtUp = new ArrayList<>();
      for (Map.Entry<String, RaftEndpoint> e : byNode.entrySet()) {
        if (e.getKey().equals(node) || (match.getOrDefault(e.getValue(), 0L) >= commit
            && !stuck.contains(e.getKey()))) {
          caughtUp.add(e.getKey());
        }
      }
      MembershipPlan.Step s = MembershipPlan.next(node, byNode.keySet(), voting, wanted,
          caughtUp, stuck);
      if (s.action() == MembershipPlan.Action.REMOVE && stuck.contains(s.node())) {
        RaftEndpoint m = byNode.get(s.node());
        Long answered = report.getHeartbeatTimestamps().get(m);
        log.warn("node {}: partition {}: the replica {} is stuck (silent, or behind without"
            + " progress, for {} s while its node is reachable: its log at {} of {} committed,"
            + " last answer {} ms ago, led here for {} ms); removing it so that a fresh one"
            + " takes its place", node, r.partition, m.getId(), STUCK_AFTER_MS / 1000,
            match.get(m), commit, answered == null ? "never" : now - answered,
            now - r.leaderSinceMs);
      }
      long index = committed.getLogIndex();
      switch (s.action()) {
        case ADD_LEARNER:
          return invite(s.node(), r, committed).compose(replica -> change(r, replica,
              MembershipChangeMode.ADD_LEARNER, index));
        case PROMOTE:
          return change(r, byNode.get(s.node()), MembershipChangeMode.ADD_OR_PROMOTE_TO_FOLLOWER,
              index);
        case REMOVE:
          return change(r, byNode.get(s.node()), MembershipChangeMode.REMOVE_MEMBER, index);
        case TRANSFER_LEADERSHIP:
          return transfer(r, byNode.get(s.node()));
        case NONE: {
          RaftEndpoint target = primary == null ? null : byNode.get(primary);
          if (target != null && !primary.equals(node) && voting.contains(primary)
              && caughtUp.contains(primary)
              && System.currentTimeMillis() - changeStartedMs >= HAND_OVER_QUIET_MS) {
            return transfer(r, target);
          }
          return Future.succeededFuture(false);
        }
        default:
          return Future.succeededFuture(false);
      }
    });
  }

  private Future<RaftEndpoint> invite(String invitee, Replica r, RaftGroupMembers members) {
    JsonObject invitation = new JsonObject().put("partition", r.partition)
        .put("initial", ids(r.raft.getInitialMembers().getMembers()))
        .put("members", ids(members.getMembers()));
    return context.owner().eventBus().<JsonObject>request(JOIN_PREFIX + invitee, invitation,
        new DeliveryOptions().setSendTimeout(INVITE_TIMEOUT_MS))
        .map(reply -> new NodeEndpoint(reply.body().getString("replica")));
  }

  private Future<Boolean> change(Replica r, RaftEndpoint member, MembershipChangeMode mode,
      long index) {
    log.info("node {}: partition {}: {} {}", node, r.partition, mode, member);
    String memberNode = NodeEndpoint.nodeOf(member);
    long startMs = System.currentTimeMillis();
    changeStartedMs = startMs;
    return Future.fromCompletionStage(r.raft.changeMembership(member, mode, index), context)
        .map(done -> {
          long now = System.currentTimeMillis();
          if (now - startMs >= SLOW_CHANGE_MS) {
            log.info("node {}: partition {}: {} {} took {} ms to commit", node, r.partition, mode,
                member, now - startMs);
          }
          if (mode == MembershipChangeMode.ADD_LEARNER) {
            r.learnerSinceMs.put(memberNode, now);
          } else if (mode == MembershipChangeMode.ADD_OR_PROMOTE_TO_FOLLOWER) {
            Long since = r.learnerSinceMs.remove(memberNode);
            // The partition's state has been copied to the new replica, which now votes.
            events.accept(new JsonObject().put("type", "replica-added")
                .put("partition", r.partition).put("member", memberNode)
                .put("copyMs", since == null ? null : now - since));
          }
          return true;
        });
  }

  /**
   * Hands partition {@code p}'s leadership from this node to node {@code to} at once, without
   * waiting for a quiet moment: for tests and operators. Requests for {@code p} that come after
   * this call wait for the end ({@link #afterHandOver}). Completes with the node handed over
   * to, or null when the transfer failed; fails when this node does not lead {@code p} or
   * {@code to} holds no voting replica of it.
   */
  public Future<String> handOver(int p, String to) {
    Replica r = replicas.get(p);
    if (!serves(r)) {
      return Future.failedFuture(refuse(p, r));
    }
    if (r.raft.getStatus() != RaftNodeStatus.ACTIVE) { // MicroRaft transfers only then
      return Future.failedFuture(Failure.UNAVAILABLE.exception("partition " + p + " is changing"
          + " its members; hand it over once that is done"));
    }
    RaftEndpoint target = r.raft.getCommittedMembers().getVotingMembers().stream()
        .filter(e -> NodeEndpoint.nodeOf(e).equals(to) && !e.equals(r.self)).findFirst()
        .orElse(null);
    if (target == null) {
      return Future.failedFuture(Failure.BAD_REQUEST.exception("node " + to
          + " holds no other voting replica of partition " + p + " to hand it over to"));
    }
    HandingOver handing = startHandOver(r);
    if (handing == null) {
      return Future.failedFuture(Failure.UNAVAILABLE.exception("a hand-over of partition " + p
          + " is already under way"));
    }
    context.runOnContext(v -> transfer(r, target, handing, true));
    return Future.fromCompletionStage(handing.done(), context)
        .map(e -> e == null ? null : NodeEndpoint.nodeOf(e));
  }

  /** The hand-over of {@code r} that starts now, or null when one is already under way. */
  private HandingOver startHandOver(Replica r) {
    CompletableFuture<RaftEndpoint> done = new CompletableFuture<>();
    Promise<RaftEndpoint> held = Promise.promise();
    HandingOver handing = new HandingOver(done, held.future());
    if (!r.handingOver.compareAndSet(null, handing)) {
      return null;
    }
    long timer = context.owner().setTimer(HAND_OVER_HOLD_MS,
        id -> held.tryComplete(done.getNow(null)));
    done.whenComplete((to, e) -> context.runOnContext(v -> {
      context.owner().cancelTimer(timer);
      held.tryComplete(to);
    }));
    return handing;
  }

  /** Hands leadership over; the walk ends there, since this replica no longer leads. */
  private Future<Boolean> transfer(Replica r, RaftEndpoint to) {
    // Set before the task is queued, so that no request proposed after this point meets the
    // transfer in MicroRaft (which refuses it) instead of waiting for its end.
    HandingOver handing = startHandOver(r);
    return handing == null ? Future.succeededFuture(false) : transfer(r, to, handing, false);
  }

  private Future<Boolean> transfer(Replica r, RaftEndpoint to, HandingOver handing,
      boolean now) {
    long nowMs = System.currentTimeMillis();
    if (r.handOverSinceMs < 0 || nowMs - r.handOverTriedMs > HAND_OVER_WAIT_MS) {
      r.handOverSinceMs = nowMs; // a new wait, not one left over from an earlier hand-over
    }
    r.handOverTriedMs = nowMs;
    // Wait for a moment when the hand-over needs no retry (HandOver), but not for ever: under
    // a write stream that never lets up, MicroRaft's own wait is better than none.
    boolean anyway = now || nowMs - r.handOverSinceMs >= HAND_OVER_WAIT_MS;
    Promise<Boolean> done = Promise.promise();
    RaftNodeImpl impl = (RaftNodeImpl) r.raft;
    impl.getExecutor().execute(() -> {
      boolean start;
      try {
        start = anyway || HandOver.ready(impl, to);
        if (start) {
          long startMs = System.currentTimeMillis();
          LeaseReads.transfer(impl, r.lease, to).whenComplete((x, e) -> {
            handOverEnded(r, handing, e == null ? to : null);
            context.runOnContext(v -> {
              // While leadership moves, the group takes no writes: the partition's pause.
              long pause = System.currentTimeMillis() - startMs;
              if (pause >= SLOW_CHANGE_MS) {
                log.info("node {}: partition {}: the hand-over to {} took {} ms{}", node,
                    r.partition, to, pause, e == null ? "" : " and failed: " + e);
              }
              handoffs.incrementAndGet();
              handoffPauseMsMax.accumulateAndGet(pause, Math::max);
              events.accept(new JsonObject().put("type", "leader-moved")
                  .put("partition", r.partition).put("from", node)
                  .put("to", NodeEndpoint.nodeOf(to)).put("pauseMs", pause)
                  .put("ok", e == null));
              done.tryComplete(false);
            });
          });
        }
      } catch (RuntimeException e) { // held requests must not wait for a hand-over never begun
        log.warn("node {}: partition {}: the hand-over to {} did not start: {}", node,
            r.partition, to, e.toString());
        handOverEnded(r, handing, null);
        context.runOnContext(v -> done.tryComplete(false));
        return;
      }
      if (!start) {
        handOverEnded(r, handing, null);
      }
      context.runOnContext(v -> {
        if (start) {
          log.info("node {}: partition {}: handing leadership to {}", node, r.partition, to);
          r.handOverSinceMs = -1;
        } else {
          done.tryComplete(false);
        }
      });
    });
    return done.future();
  }

  private static void handOverEnded(Replica r, HandingOver handing, RaftEndpoint to) {
    r.handingOver.compareAndSet(handing, null);
    handing.done().complete(to);
  }

  /** Hears the latency of every committed proposal, in nanoseconds: for metrics. */
  public void observeCommits(java.util.function.LongConsumer observer) {
    this.commitObserver = observer;
  }

  /**
   * Bytes of append-entries requests (heartbeats included) that this node's replicas sent, as
   * leaders, to learners of their group: new replicas catching up after a membership change,
   * before they vote. What a rebalance moves as log entries.
   */
  public long entryBytesToLearners() {
    return entryBytesToLearners.get();
  }

  /** As {@link #entryBytesToLearners}, for install-snapshot requests (snapshot chunks). */
  public long snapshotBytesToLearners() {
    return snapshotBytesToLearners.get();
  }

  /**
   * Counts a request that carries state (entries, a snapshot chunk) when its target is a learner
   * of the group: a member of its newest (effective) member list without a vote. Keel adds every
   * new replica as a learner and promotes it once caught up, so this is what catching up costs.
   * Called on the group's host context, which owns the Raft node; its member lists are volatile.
   */
  private void countCatchUp(RaftEndpoint target, RaftMessage message, int bytes) {
    boolean snapshot = message instanceof InstallSnapshotRequest;
    if (!snapshot && !(message instanceof AppendEntriesRequest)) {
      return;
    }
    Replica r = replicas.get(message.getGroupId());
    if (r == null) {
      return;
    }
    RaftGroupMembers effective = r.raft.getEffectiveMembers();
    // Without learners (nearly always) there is nothing to count: no lookup per message.
    if (effective.getMembers().size() == effective.getVotingMembers().size()) {
      return;
    }
    if (effective.getMembers().contains(target)
        && !effective.getVotingMembers().contains(target)) {
      (snapshot ? snapshotBytesToLearners : entryBytesToLearners).addAndGet(bytes);
    }
  }

  /** How many local replicas lead their group. */
  public int ledCount() {
    int n = 0;
    for (Replica r : replicas.values()) {
      if (!r.retiring && r.leads()) {
        n++;
      }
    }
    return n;
  }

  /**
   * Linearizable reads this node answered under a lease (of which at once, on the caller's
   * thread), and after a heartbeat round.
   */
  public JsonObject readStats() {
    return new JsonObject().put("lease", leaseReads.get())
        .put("leaseAtOnce", leaseReadsAtOnce.get()).put("heartbeatRound", roundReads.get());
  }

  /** Leadership hand-overs this node made, and the longest write pause one caused. */
  public JsonObject handoffStats() {
    return new JsonObject().put("handoffs", handoffs.get())
        .put("pauseMsMax", handoffPauseMsMax.get()).put("held", heldForHandOver.get());
  }

  private static List<String> names(Collection<RaftEndpoint> endpoints) {
    List<String> out = new ArrayList<>();
    for (RaftEndpoint e : endpoints) {
      out.add(NodeEndpoint.nodeOf(e));
    }
    return out;
  }

  private static JsonArray ids(Collection<RaftEndpoint> endpoints) {
    JsonArray out = new JsonArray();
    for (RaftEndpoint e : endpoints) {
      out.add((String) e.getId());
    }
    return out;
  }
}
