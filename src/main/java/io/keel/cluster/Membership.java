package io.keel.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import io.keel.bus.Addresses;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * <p>Implementation notes: Hazelcast membership says nothing about the event bus, which is a
 * separate TCP (or TLS) connection between every two nodes. A node whose event bus cannot talk
 * to this one (a certificate this node does not trust, the bus port blocked) still joins
 * Hazelcast and publishes its metadata; if it were listed, every node would place partitions on
 * it and route requests there that time out. So a Keel member is listed only once it has
 * answered a probe ({@link Addresses#memberProbe}) over the event bus: a round trip that
 * crosses both directions. Probes of a member that does not answer are retried with backoff
 * and logged once at WARN; a member that answered once stays listed until it leaves Hazelcast.
 * Members without Keel metadata are listed without a probe: they own nothing.
 *
 * <p>The same rule keeps a node that cannot talk to the cluster out of it: {@link #start()}
 * completes only once this node has reached a majority of the other Keel members (or there are
 * none), and fails after {@link #ADMISSION_TIMEOUT_MS} otherwise, naming the members it could
 * not reach. Until then it delivers no list, so it computes no table and agrees no epoch.
 * Example: a and b run with one certificate, c starts with another. a and b never list c; c
 * reaches 0 of 2 members, fails its start after 15 s and leaves Hazelcast.
 *
 * <p>Owned by one Vert.x context: the listener is called on it.
 */
public final class Membership {
  private static final Logger log = LoggerFactory.getLogger(Membership.class);
  private static final long METADATA_RETRY_MS = 100;
  /**
   * How long a starting node tries to reach a majority of the other members over the event bus
   * before its start fails: more than Hazelcast's failure detection in Keel's cluster.xml (5 s),
   * so that a member that died just before is dropped, not counted as unreachable.
   */
  public static final long ADMISSION_TIMEOUT_MS = 15_000;
  /** Long enough for a first TLS handshake on a busy machine (measured above 2 s here). */
  private static final long PROBE_TIMEOUT_MS = 5_000;
  private static final long PROBE_RETRY_MS_MIN = 100;
  private static final long PROBE_RETRY_MS_MAX = 2_000;

  /** A Keel member that has not answered a probe yet. Touched only on the context. */
  private static final class Probe {
    int attempts;
    int failures;
    long nextMs;
    boolean inFlight;
    boolean warned;
    String lastFailure = "no answer yet";
  }

  private final Context context;
  private final HazelcastClusterManager manager;
  private final long reconcileIntervalMs;
  private final Consumer<List<ClusterMember>> listener;
  private List<ClusterMember> last = List.of();
  // A node id's metadata never changes: once read, it is not looked up again. This keeps a
  // member's departure from waiting on lookups in a map whose owner may have just died.
  private final java.util.Map<String, ClusterMember> resolved =
      new java.util.concurrent.ConcurrentHashMap<>();
  // Invariant: after each recompute, holds exactly the current Keel members (not this node)
  // that have answered a probe.
  private final Set<String> confirmed = new HashSet<>();
  private final Map<String, Probe> probes = new HashMap<>();
  private final Promise<Void> admission = Promise.promise();
  private String selfId;
  private String selfName;
  private long admissionDeadlineMs;
  private boolean admitted;
  private MessageConsumer<JsonObject> probeConsumer;
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

  /**
   * Starts watching: answers probes, then waits until this node reaches a majority of the other
   * Keel members over the event bus. Completes once the first list has been delivered; fails
   * after {@link #ADMISSION_TIMEOUT_MS} without such a majority, and then stops watching.
   */
  public Future<Void> start() {
    selfId = manager.getNodeId();
    probeConsumer = context.owner().eventBus().consumer(Addresses.memberProbe(selfId),
        msg -> msg.reply(new JsonObject().put("nodeId", selfId)));
    return probeConsumer.completion().compose(v -> {
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
      admissionDeadlineMs = System.currentTimeMillis() + ADMISSION_TIMEOUT_MS;
      context.owner().setTimer(ADMISSION_TIMEOUT_MS, id -> recompute());
      recompute();
      return admission.future();
    }).onFailure(t -> stop());
  }

  /** Stops watching. */
  public void stop() {
    stopped = true;
    admission.tryFail("membership stopped before this node was admitted");
    context.owner().cancelTimer(timerId);
    if (probeConsumer != null) {
      probeConsumer.unregister();
    }
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
    boolean incomplete = false;
    int others = 0;
    int reached = 0;
    List<ClusterMember> known = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (ClusterMember m : members) {
      ids.add(m.nodeId());
      if (m.host() == null) {
        incomplete = true;
      } else if (m.nodeId().equals(selfId) || ClusterMember.EXTERNAL.equals(m.role())) {
        selfName = m.nodeId().equals(selfId) ? m.name() : selfName;
        known.add(m);
      } else {
        others++;
        if (confirmed.contains(m.nodeId())) {
          reached++;
          known.add(m);
        } else {
          probe(m);
        }
      }
    }
    confirmed.retainAll(ids);
    probes.keySet().retainAll(ids);
    if (incomplete) {
      context.owner().setTimer(METADATA_RETRY_MS, id -> recompute());
    }
    if (!admitted && !admit(members, incomplete, others, reached)) {
      return;
    }
    if (!known.equals(last)) {
      last = List.copyOf(known);
      try {
        listener.accept(last);
      } catch (Throwable t) {
        log.error("membership listener failed", t);
      }
    }
    admission.tryComplete();
  }

  /**
   * Whether this node may take part: it reached a majority of the other Keel members (members
   * still without metadata are waited for until the deadline). Fails the admission at the
   * deadline.
   */
  private boolean admit(List<ClusterMember> members, boolean incomplete, int others,
      int reached) {
    long now = System.currentTimeMillis();
    if (reached * 2 > others || others == 0) {
      if (!incomplete || now >= admissionDeadlineMs) {
        admitted = true;
      }
      return admitted;
    }
    if (now < admissionDeadlineMs || admission.future().isComplete()) {
      return false;
    }
    List<String> unreachable = new ArrayList<>();
    for (ClusterMember m : members) {
      if (!m.nodeId().equals(selfId) && m.host() != null && !ClusterMember.EXTERNAL.equals(m.role())
          && !confirmed.contains(m.nodeId())) {
        Probe p = probes.get(m.nodeId());
        unreachable.add(m.name() + " at " + m.host() + " ("
            + (p == null ? "no answer yet" : p.lastFailure) + ")");
      }
    }
    String sentence = "node " + selfName + ": reached " + reached + " of the " + others
        + " other members over the event bus within " + ADMISSION_TIMEOUT_MS + " ms, not a"
        + " majority; not joining. Unreachable: " + String.join(", ", unreachable)
        + ". Check that every node trusts every other node's certificate (eventBusTls) and"
        + " that the event-bus port is open between nodes";
    log.error(sentence);
    admission.tryFail(new IllegalStateException(sentence));
    return false;
  }

  /** Sends a probe to {@code m} unless one is in flight or its retry is not due. */
  private void probe(ClusterMember m) {
    Probe p = probes.computeIfAbsent(m.nodeId(), id -> new Probe());
    if (p.inFlight || System.currentTimeMillis() < p.nextMs) {
      return;
    }
    p.inFlight = true;
    context.owner().eventBus().<JsonObject>request(Addresses.memberProbe(m.nodeId()),
        new JsonObject(), new DeliveryOptions().setSendTimeout(PROBE_TIMEOUT_MS))
        .onComplete(ar -> {
          p.inFlight = false;
          if (stopped) {
            return;
          }
          if (ar.succeeded()) {
            confirmed.add(m.nodeId());
            probes.remove(m.nodeId());
            if (p.warned) {
              log.info("node {}: member {} ({}, {}) now answers over the event bus", selfName,
                  m.name(), m.nodeId(), m.host());
            }
          } else {
            retryLater(m, p, ar.cause());
          }
          recompute();
        });
  }

  private void retryLater(ClusterMember m, Probe p, Throwable cause) {
    p.attempts++;
    // NO_HANDLERS: the member has not registered its probe yet (it is still starting).
    boolean starting = cause instanceof ReplyException re
        && re.failureType() == ReplyFailure.NO_HANDLERS;
    p.lastFailure = starting ? "it answers no probes yet"
        : cause instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT
        ? "no answer within " + PROBE_TIMEOUT_MS + " ms" : String.valueOf(cause.getMessage());
    p.failures += starting ? 0 : 1;
    long delay = Math.min(PROBE_RETRY_MS_MAX, PROBE_RETRY_MS_MIN << Math.min(p.attempts, 5));
    p.nextMs = System.currentTimeMillis() + delay;
    // A first timeout can be a slow first handshake; a certificate that is not trusted fails
    // every time.
    if ((p.failures >= 2 || p.attempts >= 20) && !p.warned) {
      p.warned = true;
      log.warn("node {}: member {} ({}, {}) is in the Hazelcast cluster but does not answer over"
          + " the event bus ({}); it is not listed and owns nothing here until it does. Check"
          + " eventBusTls and the event-bus port", selfName, m.name(), m.nodeId(), m.host(),
          p.lastFailure);
    }
    context.owner().setTimer(delay, id -> recompute());
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
