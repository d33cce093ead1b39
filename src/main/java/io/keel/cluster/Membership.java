package io.keel.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches cluster membership and reports the full member list, level-triggered: every hint (a
 * Hazelcast membership event, a timer) recomputes the list from Hazelcast's current members and
 * their Vert.x node metadata, and the listener hears only of lists that differ from the last.
 *
 * <p>It does not take {@code ClusterManager.nodeListener}: that slot has one listener, and Vert.x's
 * HA manager uses it. A member's node metadata can appear slightly after the member itself;
 * a member seen without it is looked up again shortly.
 *
 * <p>Owned by one Vert.x context: the listener is called on it.
 */
public final class Membership {
  private static final Logger log = LoggerFactory.getLogger(Membership.class);
  private static final long METADATA_RETRY_MS = 100;

  private final Context context;
  private final HazelcastClusterManager manager;
  private final long reconcileIntervalMs;
  private final Consumer<List<ClusterMember>> listener;
  private List<ClusterMember> last = List.of();
  // A node id's metadata never changes: once read, it is not looked up again. This keeps a
  // member's departure from waiting on lookups in a map whose owner may have just died.
  private final java.util.Map<String, ClusterMember> resolved =
      new java.util.concurrent.ConcurrentHashMap<>();
  private UUID registration;
  private long timerId = -1;
  private boolean recomputing;
  private boolean again;
  private boolean stopped;

  /** A watcher calling {@code listener} on {@code context} with every new member list. */
  public Membership(Context context, HazelcastClusterManager manager, long reconcileIntervalMs,
      Consumer<List<ClusterMember>> listener) {
    this.context = context;
    this.manager = manager;
    this.reconcileIntervalMs = reconcileIntervalMs;
    this.listener = listener;
  }

  /** Starts watching; completes once the first list has been delivered. */
  public Future<Void> start() {
    HazelcastInstance hz = manager.getHazelcastInstance();
    registration = hz.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        hint();
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        hint();
      }
    });
    timerId = context.owner().setPeriodic(reconcileIntervalMs, id -> recompute());
    return recomputeNow().mapEmpty();
  }

  /** Stops watching. */
  public void stop() {
    stopped = true;
    context.owner().cancelTimer(timerId);
    try {
      if (registration != null && manager.getHazelcastInstance().getLifecycleService().isRunning()) {
        manager.getHazelcastInstance().getCluster().removeMembershipListener(registration);
      }
    } catch (RuntimeException e) {
      log.debug("removing the membership listener failed", e);
    }
  }

  /** The last member list delivered, sorted by name. */
  public List<ClusterMember> current() {
    return last;
  }

  private void hint() {
    try {
      context.runOnContext(v -> recompute());
    } catch (Throwable t) {
      log.warn("cannot schedule a membership recompute", t);
    }
  }

  private void recompute() {
    if (stopped) {
      return;
    }
    if (recomputing) {
      again = true;
      return;
    }
    recomputeNow();
  }

  private Future<List<ClusterMember>> recomputeNow() {
    recomputing = true;
    Promise<List<ClusterMember>> done = Promise.promise();
    // Node-info lookups complete on Hazelcast or worker threads: hop back to the owning context.
    fetch().onComplete(ar -> context.runOnContext(v -> {
      recomputing = false;
      if (!stopped) {
        if (ar.failed()) {
          log.warn("membership recompute failed: {}", ar.cause().toString());
        } else {
          deliver(ar.result());
        }
        if (again) {
          again = false;
          recompute();
        }
      }
      done.handle(ar);
    }));
    return done.future();
  }

  private void deliver(List<ClusterMember> members) {
    boolean incomplete = members.stream().anyMatch(m -> m.host() == null);
    List<ClusterMember> known = new ArrayList<>();
    for (ClusterMember m : members) {
      if (m.host() != null) {
        known.add(m);
      }
    }
    if (incomplete) {
      context.owner().setTimer(METADATA_RETRY_MS, id -> recompute());
    }
    if (!known.equals(last)) {
      last = List.copyOf(known);
      try {
        listener.accept(last);
      } catch (Throwable t) {
        log.error("membership listener failed", t);
      }
    }
  }

  private Future<List<ClusterMember>> fetch() {
    List<String> ids = manager.getNodes();
    resolved.keySet().retainAll(ids);
    List<Future<ClusterMember>> lookups = new ArrayList<>(ids.size());
    for (String id : ids) {
      ClusterMember known = resolved.get(id);
      if (known != null) {
        lookups.add(Future.succeededFuture(known));
        continue;
      }
      Promise<NodeInfo> p = Promise.promise();
      manager.getNodeInfo(id, p);
      lookups.add(p.future().map(info -> {
        ClusterMember m = toMember(id, info);
        if (m.host() != null) {
          resolved.put(id, m);
        }
        return m;
      }).otherwise(t -> pending(id)));
    }
    return Future.all(lookups).map(all -> {
      List<ClusterMember> out = new ArrayList<>(lookups.size());
      for (Future<ClusterMember> f : lookups) {
        out.add(f.result());
      }
      out.sort(Comparator.comparing(ClusterMember::name).thenComparing(ClusterMember::nodeId));
      return out;
    });
  }

  private static ClusterMember pending(String id) {
    return new ClusterMember(id, id, ClusterMember.EXTERNAL, 1, null);
  }

  private static ClusterMember toMember(String id, NodeInfo info) {
    if (info == null) {
      return pending(id);
    }
    JsonObject meta = info.metadata() == null ? null
        : info.metadata().getJsonObject(ClusterSetup.METADATA_KEY);
    if (meta == null || !(meta.getValue("name") instanceof String)) {
      return new ClusterMember(id, id, ClusterMember.EXTERNAL, 1, info.host());
    }
    String role = "client".equals(meta.getString("role")) ? "client" : "data";
    Object w = meta.getValue("weight");
    int weight = w instanceof Number ? Math.max(1, Math.min(100, ((Number) w).intValue())) : 1;
    return new ClusterMember(id, meta.getString("name"), role, weight, info.host());
  }
}
