package io.keel.routing;

import io.keel.KeelOptions;
import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.bus.Json;
import io.keel.cluster.ClusterMember;
import io.keel.cluster.DataDir;
import io.keel.cluster.EpochRegistry;
import io.keel.cluster.Membership;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this node's partition table: recomputes it from the member list on every membership
 * change, agrees on its epoch with the cluster ({@link EpochRegistry}), publishes the changes
 * as events, tells ownership listeners what this node gained and lost, and answers
 * {@code keel.ring.owner}.
 *
 * <p>The table and member list are immutable values in volatile fields: any thread may read
 * them; only this verticle's context replaces them.
 */
public final class RoutingVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(RoutingVerticle.class);
  private static final long AGREE_RETRY_MS = 200;

  private final KeelOptions options;
  private final HazelcastClusterManager manager;
  private final DataDir dataDir;
  private final String nodeName;
  private final List<Function<OwnershipChange, Future<Void>>> ownershipListeners =
      new CopyOnWriteArrayList<>();
  private final Promise<Void> firstTable = Promise.promise();
  private volatile PartitionTable table;
  private volatile List<ClusterMember> members = List.of();
  private PartitionTable view;
  private Membership membership;
  private EpochRegistry registry;
  private long epochFloor;
  private boolean agreeing;
  private boolean dirty;
  private final TableAuthority authority = new TableAuthority();
  private volatile boolean tableCurrent = true;
  private boolean reading;
  private long recheckTimer = -1;
  private Future<Void> listenerChain = Future.succeededFuture();

  /** A routing verticle for the node {@code nodeName}. */
  public RoutingVerticle(KeelOptions options, HazelcastClusterManager manager, DataDir dataDir,
      String nodeName) {
    this.options = new KeelOptions(options);
    this.manager = manager;
    this.dataDir = dataDir;
    this.nodeName = nodeName;
    this.table = PartitionTable.empty(options.placement());
    this.view = table;
  }

  @Override
  public Future<?> start() {
    MessageConsumer<JsonObject> owner = vertx.eventBus().consumer(Addresses.RING_OWNER,
        this::answerOwner);
    return context.executeBlocking(() -> {
      registry = EpochRegistry.open(context, manager);
      return dataDir.readEpoch();
    }, false).compose(floor -> {
      epochFloor = floor;
      registry.watch(this::onRegistryEntry);
      recheckTimer = vertx.setPeriodic(options.getReconcileIntervalMs(), id -> recheck());
      membership = new Membership(context, manager, options.getReconcileIntervalMs(),
          this::onMembers);
      return Future.all(owner.completion(), membership.start());
    }).compose(v -> firstTable.future()).onFailure(t -> {
      // A failed start is not followed by stop(): let go of Hazelcast listeners here.
      stop();
    });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(recheckTimer);
    if (membership != null) {
      membership.stop();
    }
    if (registry != null) {
      registry.stop();
    }
    return Future.succeededFuture();
  }

  /** The current partition table (epoch 0 and no members before the first agreement). */
  public PartitionTable table() {
    return table;
  }

  /**
   * Whether this node's table is at the newest epoch of the cluster's registry, so that its
   * leaders may move groups toward it ({@link TableAuthority}).
   */
  public boolean tableCurrent() {
    return tableCurrent;
  }

  /** The current members of the cluster, sorted by name. */
  public List<ClusterMember> members() {
    return members;
  }

  /** This node's name. */
  public String nodeName() {
    return nodeName;
  }

  /** Adds a listener called, in order, with this node's change at every new table. */
  public void addOwnershipListener(Function<OwnershipChange, Future<Void>> listener) {
    ownershipListeners.add(listener);
  }

  private void answerOwner(Message<JsonObject> msg) {
    try {
      String key = Json.requireString(msg.body(), "key", 4096);
      msg.reply(Owner.of(table, key).toJson());
    } catch (RuntimeException e) {
      Failure.reply(msg, e);
    }
  }

  private void onMembers(List<ClusterMember> now) {
    List<ClusterMember> before = members;
    members = now;
    publishMemberEvents(before, now);
    List<Member> data = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (ClusterMember m : now) {
      if (m.isData() && names.add(m.name())) {
        data.add(new Member(m.name(), m.weight()));
      } else if (m.isData()) {
        log.warn("node {}: two members are named '{}'; only one owns partitions", nodeName,
            m.name());
      }
    }
    view = PartitionTable.compute(0, data, options.placement());
    reconcile();
  }

  private void reconcile() {
    if (view.fingerprint().equals(table.fingerprint()) && table.epoch() > 0) {
      return;
    }
    agree();
  }

  private void agree() {
    if (agreeing) {
      dirty = true;
      return;
    }
    agreeing = true;
    PartitionTable candidate = view;
    // epochFloor is at least the table's epoch: adopt() raises both.
    long floor = Math.max(epochFloor, authority.newestEpoch());
    registry.agree(candidate.fingerprint(), floor)
        .onComplete(ar -> {
          agreeing = false;
          if (ar.failed()) {
            log.warn("node {}: epoch agreement failed, retrying: {}", nodeName,
                ar.cause().toString());
            vertx.setTimer(AGREE_RETRY_MS, id -> reconcile());
          } else {
            authority.saw(ar.result(), candidate.fingerprint(), System.currentTimeMillis());
            if (candidate == view && ar.result() > table.epoch()) {
              adopt(candidate.withEpoch(ar.result()));
            }
            publishCurrent();
            if (authority.claimedForListGone(ar.result(), candidate.fingerprint(),
                view.fingerprint())) {
              log.info("node {}: epoch {} was agreed for a member list this node no longer has;"
                  + " claiming a newer one for its present list ({} data members)", nodeName,
                  ar.result(), view.members().size());
              dirty = false;
              agree();
              return;
            }
          }
          if (dirty || candidate != view) {
            dirty = false;
            reconcile();
          }
        });
  }

  private void onRegistryEntry(EpochRegistry.Entry entry) {
    authority.saw(entry.epoch(), entry.fingerprint(), System.currentTimeMillis());
    if (entry.fingerprint().equals(view.fingerprint()) && entry.epoch() > table.epoch()) {
      adopt(view.withEpoch(entry.epoch()));
    }
    publishCurrent();
  }

  /**
   * Reads the registry again, in case an update's event was lost, and claims a new epoch for
   * this node's list when another list has been the newest for too long.
   */
  private void recheck() {
    if (reading || registry == null) {
      return;
    }
    reading = true;
    registry.read().onComplete(ar -> {
      reading = false;
      if (ar.succeeded() && ar.result() != null) {
        onRegistryEntry(ar.result());
      }
      boolean data = options.getRole() == KeelOptions.Role.DATA;
      if (table.epoch() > 0 && !agreeing && authority.shouldReassert(table.epoch(),
          view.fingerprint(), data, System.currentTimeMillis())) {
        log.warn("node {}: for {} s the cluster's newest partition table (epoch {}) has come"
            + " from a member list other than this node's ({} data members, epoch {}); claiming"
            + " a newer epoch for this node's list. Hazelcast's members may disagree on who is"
            + " in the cluster", nodeName, TableAuthority.REASSERT_MS / 1000,
            authority.newestEpoch(), view.members().size(), table.epoch());
        agree();
      }
    });
  }

  private void publishCurrent() {
    boolean now = authority.current(table.epoch());
    if (now != tableCurrent) {
      tableCurrent = now;
      if (now) {
        log.debug("node {}: partition table epoch {} is the cluster's newest again; this node's"
            + " leaders move groups toward it", nodeName, table.epoch());
      } else {
        log.debug("node {}: the cluster's newest partition table (epoch {}) comes from a member"
            + " list other than this node's (epoch {}); this node's leaders take no membership"
            + " steps until the lists agree", nodeName, authority.newestEpoch(), table.epoch());
      }
    }
  }

  private void adopt(PartitionTable next) {
    PartitionTable before = table;
    table = next;
    epochFloor = next.epoch();
    context.executeBlocking(() -> {
      dataDir.writeEpoch(next.epoch());
      return null;
    }, false).onFailure(t -> log.error("node {}: cannot persist epoch {}", nodeName,
        next.epoch(), t));
    int moved = publishTableEvents(before, next);
    log.info("node {}: partition table epoch {} ({} data members, {} primaries moved)", nodeName,
        next.epoch(), next.members().size(), moved);
    OwnershipChange change = OwnershipChange.between(nodeName, before, next);
    for (Function<OwnershipChange, Future<Void>> l : ownershipListeners) {
      listenerChain = listenerChain.transform(ar -> safely(l, change));
    }
    boolean selfIncluded = next.members().stream().anyMatch(m -> m.name().equals(nodeName));
    if (selfIncluded || options.getRole() != KeelOptions.Role.DATA) {
      firstTable.tryComplete();
    }
  }

  private Future<Void> safely(Function<OwnershipChange, Future<Void>> l, OwnershipChange c) {
    try {
      return l.apply(c).recover(t -> {
        log.error("node {}: ownership listener failed at epoch {}", nodeName, c.epoch(), t);
        return Future.succeededFuture();
      });
    } catch (Throwable t) {
      log.error("node {}: ownership listener failed at epoch {}", nodeName, c.epoch(), t);
      return Future.succeededFuture();
    }
  }

  private void publishMemberEvents(List<ClusterMember> before, List<ClusterMember> now) {
    Set<String> oldIds = new HashSet<>();
    before.forEach(m -> oldIds.add(m.nodeId()));
    Set<String> newIds = new HashSet<>();
    now.forEach(m -> newIds.add(m.nodeId()));
    for (ClusterMember m : now) {
      if (!oldIds.contains(m.nodeId())) {
        publish("member-joined", new JsonObject().put("member", m.toJson()));
      }
    }
    for (ClusterMember m : before) {
      if (!newIds.contains(m.nodeId())) {
        publish("member-left", new JsonObject().put("member", m.toJson()));
      }
    }
  }

  private int publishTableEvents(PartitionTable before, PartitionTable next) {
    int moved = 0;
    boolean hadOwners = !before.members().isEmpty();
    for (int p = 0; p < next.partitionCount(); p++) {
      String from = before.primary(p);
      String to = next.primary(p);
      if (from == null ? to != null : !from.equals(to)) {
        moved++;
        if (hadOwners) {
          publish("partition-moved", new JsonObject().put("partition", p).put("from", from)
              .put("to", to).put("replicas", new JsonArray(next.replicas(p)))
              .put("epoch", next.epoch()));
        }
      }
    }
    JsonArray names = new JsonArray();
    next.members().forEach(m -> names.add(m.name()));
    publish("epoch-changed", new JsonObject().put("epoch", next.epoch())
        .put("previousEpoch", before.epoch()).put("members", names).put("moved", moved));
    return moved;
  }

  private void publish(String type, JsonObject fields) {
    vertx.eventBus().publish(Addresses.EVENTS, fields.put("type", type).put("node", nodeName));
  }
}
