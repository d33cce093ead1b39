package io.keel.bench;

import static org.awaitility.Awaitility.await;

import io.keel.bus.Addresses;
import io.keel.harness.InJvmCluster;
import io.keel.harness.ProcessCluster;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Lock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * How soon a lock is available again after the JVM holding it is killed ({@code kill -9}), with
 * a waiter already queued (Keel: a {@link LockWaiter}; Vert.x: a pending
 * {@code getLockWithTimeout}). Times run from the moment just before SIGKILL to the waiter's
 * grant.
 *
 * <ul>
 *   <li>{@link #holderJvm}: a client JVM of its own ({@link LockHolderProcess}) holds a Keel
 *       lock through {@code KeelLocks.withLock} (its lease renewed every third of it) and a
 *       Vert.x lock;
 *   <li>{@link #dataNode}: a lock acquired over the event bus with {@code node} naming a data
 *       node, its lease renewed by this JVM until that node is killed; the node is either a
 *       follower or the Raft leader of the lock's partition. The node is restarted afterwards
 *       and the cluster settles again.
 * </ul>
 */
final class LockFailover {
  private static final List<String> NODES = List.of("n1", "n2", "n3");
  private static final long WAIT_MS = 60_000;
  private static final long GRANT_WAIT_S = 90;
  private static final long CALL_RETRY_S = 90;

  /** One kill: Keel's and (if measured) Vert.x's time to the waiter's grant, in ms. */
  record Result(String scenario, long leaseMs, double keelMs, double vertxMs, String note) {}

  private final ProcessCluster cluster;
  private final BenchClient client;
  private final Set<UUID> local;
  private final Path logDir;
  private final long leaseMs;
  private final long settleS;
  /** Requests that were retried (unanswered, or no leader), for the report. */
  private final List<String> retried = new CopyOnWriteArrayList<>();

  LockFailover(ProcessCluster cluster, BenchClient client, Set<UUID> local, Path logDir,
      long leaseMs, long settleS) {
    this.cluster = cluster;
    this.client = client;
    this.local = local;
    this.logDir = logDir;
    this.leaseMs = leaseMs;
    this.settleS = settleS;
  }

  /** Kills a client JVM that holds a Keel lock and a Vert.x lock, each with a waiter here. */
  Result holderJvm(int run) throws Exception {
    retried.clear();
    String name = "holder-r" + run;
    Path dir = Files.createTempDirectory("keel-" + name + "-");
    try (LockHolderProcess.Handle h = LockHolderProcess.Handle.start(
        logDir.resolve(name + ".log"), List.of(cluster.clusterName(),
            String.join(",", cluster.joinList()), name, dir.toString()))) {
      String joined = h.awaitLine("JOINED ", Duration.ofSeconds(180));
      UUID holderMember = UUID.fromString(joined.substring("JOINED ".length()).trim());
      String keelLock = "fail-jvm-r" + run;
      Set<UUID> excluded = new java.util.HashSet<>(local);
      excluded.add(holderMember);
      String vertxLock = null;
      for (int i = 0; vertxLock == null; i++) {
        String candidate = "fail-jvm-vx-r" + run + "-" + i;
        vertxLock = client.remote(candidate, excluded) ? candidate : null;
      }
      h.send("HOLD " + keelLock + " " + vertxLock + " " + leaseMs);
      h.awaitLine("HOLDING keel", Duration.ofSeconds(60));
      h.awaitLine("HOLDING vertx", Duration.ofSeconds(60));
      LockWaiter keel = new LockWaiter(client.vertx(), client.name(), keelLock, WAIT_MS,
          "waiter-" + keelLock).start();
      awaitQueued(keelLock);
      AtomicLong vertxAt = new AtomicLong();
      AtomicReference<Lock> vertxLockHeld = new AtomicReference<>();
      Future<Lock> vx = client.vertx().sharedData().getLockWithTimeout(vertxLock, WAIT_MS)
          .onSuccess(l -> {
            vertxAt.set(System.nanoTime());
            vertxLockHeld.set(l);
          });
      Thread.sleep(500); // a benchmark's own wait: the Vert.x waiter's tryLock is under way
      if (vx.isComplete()) {
        throw new IllegalStateException("the Vert.x lock " + vertxLock + " was granted while"
            + " its holder lives: " + vx.cause());
      }
      long leftMs = info(keelLock).getLong("leaseLeftMs", -1L);
      long kill = System.nanoTime();
      InfoTrace trace = new InfoTrace(keelLock, kill);
      h.kill9();
      keel.retry();
      JsonObject grant;
      try {
        grant = keel.await(GRANT_WAIT_S);
      } finally {
        trace.stop();
      }
      vx.await(GRANT_WAIT_S, TimeUnit.SECONDS);
      double keelMs = (keel.grantedAtNanos() - kill) / 1e6;
      double vertxMs = (vertxAt.get() - kill) / 1e6;
      release(keelLock, grant.getLong("token"));
      vertxLockHeld.get().release();
      return new Result("holder client JVM killed", leaseMs, keelMs, vertxMs,
          String.format(Locale.ROOT, "Keel lease left at the kill %d ms, %d acquire attempts;"
              + " keel.lock.info after the kill: %s; %s", leftMs, keel.attempts(), trace,
              retried()));
    } finally {
      InJvmCluster.deleteTree(dir);
    }
  }

  /**
   * Kills data node n1, n2 or n3 while a lock made for it ({@code node}) is held and renewed:
   * with {@code leader}, the node that leads the lock's partition; otherwise a follower of it.
   * Restarts the node and waits until the cluster settles.
   */
  Result dataNode(int run, boolean leader, long leaseMs) throws Exception {
    retried.clear();
    JsonObject status = cluster.node(NODES.get(run % 3)).status();
    String victim = leader ? NODES.get(run % 3) : NODES.get((run + 1) % 3);
    String lock = null;
    for (int i = 0; lock == null; i++) {
      String candidate = "fail-node-" + (leader ? "leader" : "follower") + "-r" + run + "-" + i;
      String led = leaderOf(status, client.keel().routing().table().partitionOf(candidate));
      if (led != null && leader == led.equals(victim)) {
        lock = candidate;
      }
    }
    JsonObject held = call(Addresses.LOCK_ACQUIRE, new JsonObject().put("name", lock)
        .put("leaseMs", leaseMs).put("node", victim).put("holder", "holder@" + victim)
        .put("requestId", "holder-" + lock));
    long token = held.getLong("token");
    LockWaiter waiter = new LockWaiter(client.vertx(), client.name(), lock, WAIT_MS,
        "waiter-" + lock).start();
    awaitQueued(lock);
    // Renew just before the kill, as a live holder would: a full lease is left.
    call(Addresses.LOCK_RENEW, new JsonObject().put("name", lock).put("token", token)
        .put("leaseMs", leaseMs));
    int partition = client.keel().routing().table().partitionOf(lock);
    String ledBefore = leaderOf(cluster.node(victim).status(), partition);
    long left = info(lock).getLong("leaseLeftMs", -1L);
    long kill = System.nanoTime();
    InfoTrace trace = new InfoTrace(lock, kill);
    cluster.node(victim).kill9();
    waiter.retry();
    JsonObject grant;
    try {
      grant = waiter.await(GRANT_WAIT_S);
    } catch (Exception e) {
      throw new IllegalStateException("the waiter for " + lock + " got nothing in "
          + GRANT_WAIT_S + " s; last failure: " + waiter.lastFailure() + "; info: " + trace, e);
    } finally {
      trace.stop();
    }
    double ms = (waiter.grantedAtNanos() - kill) / 1e6;
    release(lock, grant.getLong("token"));
    String survivor = NODES.get((NODES.indexOf(victim) + 1) % 3);
    String ledAfter = leaderOf(cluster.node(survivor).status(), partition);
    long restart = System.nanoTime();
    cluster.node(victim).restart();
    Settled.await(cluster, NODES, settleS, false);
    String why = ms < left - 250 ? "well before the lease's end: the node's departure ended it"
        : ms > left + 250 ? "after the lease's end: either may have ended it (a longer lease,"
            + " diagnose-lease-ms, tells)" : "about when the lease ended: cannot tell which";
    return new Result("data node killed (" + (leader ? "leader" : "follower")
        + " of the lock's partition)", leaseMs, ms, Double.NaN, String.format(Locale.ROOT,
        "lease left at the kill <= %d ms, grant %s; killed %s, partition %d led by %s before"
        + " and %s after; %d acquire attempts; restart + settle %.1f s; keel.lock.info after"
        + " the kill: %s; %s", left, why, victim, partition, ledBefore, ledAfter,
        waiter.attempts(), (System.nanoTime() - restart) / 1e9, trace, retried()));
  }

  /**
   * {@code keel.lock.info} every {@link LockWaiter#RETRY_MS} from the kill on: the changes of
   * what it answers (holder and lease left, or the failure), with their time since the kill.
   */
  private final class InfoTrace {
    private final StringBuffer changes = new StringBuffer();
    private final long timer;
    private volatile String last = "";

    InfoTrace(String lock, long killNanos) {
      DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(1_000);
      timer = client.vertx().setPeriodic(LockWaiter.RETRY_MS, id -> client.vertx().eventBus()
          .<JsonObject>request(Addresses.LOCK_INFO, new JsonObject().put("name", lock), delivery)
          .onComplete(ar -> {
            String now;
            if (ar.failed()) {
              now = "no answer (" + ClosedLoops.code(ar.cause()) + ")";
            } else {
              JsonObject i = ar.result().body();
              now = i.getBoolean("held") ? "held by " + i.getString("holder") + ", token "
                  + i.getLong("token") + ", lease left " + i.getLong("leaseLeftMs") + " ms"
                  : "free";
            }
            String was = last;
            if (!now.replaceAll("lease left \\d+", "").equals(was.replaceAll(
                "lease left \\d+", ""))) {
              changes.append(changes.length() == 0 ? "" : "; ").append(String.format(
                  Locale.ROOT, "+%d ms %s", (System.nanoTime() - killNanos) / 1_000_000, now));
            }
            last = now;
          }));
    }

    void stop() {
      client.vertx().cancelTimer(timer);
    }

    @Override
    public String toString() {
      return changes.toString();
    }
  }

  private String retried() {
    return retried.isEmpty() ? "no request retried" : "requests retried: " + retried;
  }

  /** Restarts any data node that is not running (after a scenario failed midway). */
  void restartDead() {
    for (String n : NODES) {
      if (!cluster.node(n).isAlive()) {
        cluster.node(n).restart();
      }
    }
    Settled.await(cluster, NODES, settleS, false);
  }

  private void awaitQueued(String lock) {
    await("a waiter queued on " + lock).atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50)).ignoreExceptions()
        .until(() -> info(lock).getInteger("waiters") >= 1);
  }

  private JsonObject info(String lock) throws Exception {
    return call(Addresses.LOCK_INFO, new JsonObject().put("name", lock));
  }

  /** Releases; a CONFLICT after an unanswered attempt means that attempt released it. */
  private void release(String lock, long token) throws Exception {
    try {
      call(Addresses.LOCK_RELEASE, new JsonObject().put("name", lock).put("token", token));
    } catch (ReplyException e) {
      if (!"CONFLICT".equals(ClosedLoops.code(e))) {
        throw e;
      }
    }
  }

  /**
   * One request, retried (5 s per attempt, for up to {@link #CALL_RETRY_S}) while it is not
   * answered or the partition has no leader: after a kill, the event bus still routes a share
   * of {@code keel.lock.*} requests to the dead JVM's consumers for a while, and they are lost.
   * Every request here is safe to repeat (acquire names its request id).
   */
  private JsonObject call(String address, JsonObject body) throws Exception {
    DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(5_000);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CALL_RETRY_S);
    boolean unanswered = false;
    while (true) {
      try {
        return client.vertx().eventBus().<JsonObject>request(address, body, delivery)
            .map(Message::body).await(30, TimeUnit.SECONDS);
      } catch (ReplyException e) {
        String code = ClosedLoops.code(e);
        boolean retry = code.equals("bus TIMEOUT") || code.equals("NO_HANDLERS")
            || code.equals("UNAVAILABLE") || code.equals("NOT_OWNER");
        if (code.equals("CONFLICT") && unanswered && address.equals(Addresses.LOCK_RELEASE)) {
          return new JsonObject().put("released", true);
        }
        if (!retry || System.nanoTime() > deadline) {
          throw e;
        }
        unanswered |= code.equals("bus TIMEOUT");
        retried.add(address.substring("keel.lock.".length()) + " " + code);
      }
    }
  }

  private static String leaderOf(JsonObject status, int partition) {
    for (Object o : status.getJsonArray("partitions")) {
      JsonObject p = (JsonObject) o;
      if (p.getInteger("partition") == partition) {
        return p.getString("leader");
      }
    }
    return null;
  }
}
