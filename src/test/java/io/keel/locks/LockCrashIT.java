package io.keel.locks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.bus.Addresses;
import io.keel.bus.Failure;
import io.keel.harness.InProcessClient;
import io.keel.harness.NodeProcess;
import io.keel.harness.ProcessCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fenced locks with real node JVMs: a leader killed ({@code kill -9}) under a fenced counter,
 * and a holder's node paused ({@code SIGSTOP}) past its lease. (The same counter under Vert.x's
 * own clustered lock, the control, runs on in-JVM nodes in {@link LockIT}.)
 *
 * <p>Each test starts its own cluster of three data nodes (n1..n3, {@link #PARTITIONS}
 * partitions) and client-role nodes in the test JVM ({@link InProcessClient}); the workload is
 * {@link #CLIENTS} clients x {@link #LOOPS_PER_CLIENT} loops on one lock. The counter is the
 * test's own resource: a fenced read or write is accepted only if {@link Fence#accept} takes
 * its token.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class LockCrashIT {
  private static final Logger log = LoggerFactory.getLogger(LockCrashIT.class);
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  private static final Duration SETTLE = Duration.ofSeconds(90);
  private static final int PARTITIONS = 8;
  private static final List<String> THREE = List.of("n1", "n2", "n3");
  private static final int CLIENTS = 3;
  private static final int LOOPS_PER_CLIENT = 4;
  private static final String COUNTER = "counter";
  private static final long LEASE_MS = 3_000;
  private static final long WAIT_MS = 20_000;
  /**
   * The bound on electing a new leader of the lock's partition after its leader is killed and
   * serving again: MicroRaft's leader heartbeat timeout (3 s, PartitionGroups.DEFAULT_CONFIG)
   * plus its election timeout (0.75 s, randomized, a few rounds if votes split), Hazelcast's
   * detection of the dead member (about 1 s after kill -9), and the callers' redirects and
   * backoffs: 12 s, about twice what it should take on a loaded 2-core machine (the first
   * grant a new leader published came 5 to 10 s after the kill there). With the lease of the
   * holder the kill stranded, the lock must be granted again within LEASE_MS + this.
   */
  private static final long ELECTION_BOUND_MS = 12_000;

  @RegisterExtension
  final NodeProcess.Guard guard = new NodeProcess.Guard();

  private ProcessCluster cluster;
  private final List<InProcessClient> clients = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    try {
      for (InProcessClient c : clients) {
        c.close();
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  private void start(int clientCount) {
    cluster = new ProcessCluster(guard.logDir(), 3, "--partitions", Integer.toString(PARTITIONS));
    // One first, then the others join it: nodes that start together on a loaded machine can
    // each claim mastership and form clusters of their own.
    cluster.startAll("n1");
    cluster.startAll("n2", "n3");
    for (int i = 1; i <= clientCount; i++) {
      clients.add(InProcessClient.join(cluster, "c" + i));
    }
    awaitGroups();
  }

  /** Waits until every partition on every data node is active with three members. */
  private void awaitGroups() {
    cluster.awaitGroups(THREE, PARTITIONS, SETTLE);
  }

  /** The node that leads the partition of lock {@code name}, as it and the others say. */
  private String leaderOf(String name) throws Exception {
    int partition = new JsonObject(cluster.node("n1").get("/v1/ring/owner?key=" + name).body())
        .getInteger("partition");
    List<String> leaders = new CopyOnWriteArrayList<>();
    await("one leader of partition " + partition).atMost(SETTLE).ignoreExceptions()
        .untilAsserted(() -> {
          leaders.clear();
          for (String n : THREE) {
            if ("leader".equals(partitionOn(n, partition).getString("raftRole"))) {
              leaders.add(n);
            }
          }
          assertThat(leaders).hasSize(1);
          for (String n : THREE) {
            assertThat(partitionOn(n, partition).getString("leader")).as("leader seen by %s", n)
                .isEqualTo(leaders.get(0));
          }
        });
    log.info("lock '{}' is in partition {}, led by {}", name, partition, leaders.get(0));
    return leaders.get(0);
  }

  /**
   * Logs what the surviving nodes say of the lock's partition and the lock, and the loops' last
   * failures: the evidence a stalled failover leaves.
   */
  private void explainStall(String victim, FencedLoops loops) {
    String alive = THREE.stream().filter(n -> !n.equals(victim)).findFirst().orElseThrow();
    int partition = new JsonObject(cluster.node(alive).get("/v1/ring/owner?key=" + COUNTER)
        .body()).getInteger("partition");
    for (String n : THREE) {
      if (n.equals(victim)) {
        continue;
      }
      try {
        JsonObject status = cluster.node(n).status();
        log.error("stall: {} says of partition {}: {}; locks: {}; members: {}", n, partition,
            partitionOn(n, partition), status.getValue("locks"), status.getValue("members"));
      } catch (RuntimeException | AssertionError e) {
        log.error("stall: no status from {}: {}", n, e.toString());
      }
    }
    for (InProcessClient c : clients) {
      try {
        log.error("stall: lock info through {}: {}", c.keel().nodeName(),
            c.keel().locks().info(COUNTER).await(10, TimeUnit.SECONDS));
      } catch (Exception e) {
        log.error("stall: no lock info through {}: {}", c.keel().nodeName(), e.toString());
      }
    }
    log.error("stall: the loops' last failures: {}; last grants: {}", loops.lastFailures,
        loops.grantLog.subList(Math.max(0, loops.grantLog.size() - 5), loops.grantLog.size()));
  }

  private JsonObject partitionOn(String node, int partition) {
    for (Object o : cluster.node(node).status().getJsonArray("partitions")) {
      JsonObject p = (JsonObject) o;
      if (p.getInteger("partition") == partition) {
        return p;
      }
    }
    throw new AssertionError(node + " does not hold partition " + partition);
  }

  @Test
  void fenced_counter_loses_nothing_and_the_lock_returns_after_its_leader_is_killed()
      throws Exception {
    start(CLIENTS);
    FencedCounter counter = new FencedCounter();
    FencedLoops loops = new FencedLoops(counter).start();
    await().atMost(SETTLE).until(() -> counter.accepted() >= 200);

    NodeProcess victim = cluster.node(leaderOf(COUNTER));
    long killedAt = System.nanoTime();
    victim.kill9();
    log.info("killed {} (leader of '{}') after {} fenced writes", victim.label(), COUNTER,
        counter.accepted());
    try {
      await("a grant made after the kill").atMost(Duration.ofSeconds(90))
          .until(() -> loops.firstGrantAfter(killedAt, victim.label()).isPresent());
    } catch (ConditionTimeoutException e) {
      explainStall(victim.label(), loops);
      throw e;
    }
    Grant first = loops.firstGrantAfter(killedAt, victim.label()).get();
    long recoveryMs = (first.receivedAt() - killedAt) / 1_000_000;
    long committedMs = loops.firstCommittedAfter(killedAt, victim.label())
        .map(c -> (c.at() - killedAt) / 1_000_000).orElse(-1L);
    log.info("lock '{}' after kill -9 of its leader {}: a new leader's first published grant"
        + " after {} ms, a loop's first grant after {} ms ({}); lease {} ms", COUNTER,
        victim.label(), committedMs, recoveryMs, first, LEASE_MS);

    victim.restart();
    awaitGroups();
    long afterRestart = counter.accepted();
    await().atMost(SETTLE).until(() -> counter.accepted() >= afterRestart + 100);
    loops.stop();

    List<Long> unclaimed = loops.unclaimed();
    log.info("{} grants, {} fenced writes accepted, {} fenced reads or writes refused, {}"
        + " acquires retried, counter {}; grants to waiters nobody received: {}",
        loops.grantLog.size(), counter.accepted(), counter.refused(), loops.retries.get(),
        counter.value(), unclaimed);
    assertThat(loops.duplicates).as("tokens granted to two requests").isEmpty();
    assertThat(loops.httpAnswered.get()).as("lock requests answered over HTTP")
        .isGreaterThan(50);
    assertThat(counter.value()).as("counter vs accepted fenced writes")
        .isEqualTo(counter.accepted());
    assertThat(counter.acceptedTokens()).as("accepted tokens").isSortedAccordingTo(Long::compare)
        .doesNotHaveDuplicates();
    assertThat(recoveryMs).as("ms from kill -9 of leader %s to the next grant a loop received"
        + " (the new leader published its first grant after %d ms; grants to waiters nobody"
        + " received, each held for a lease: %s)", victim.label(), committedMs, unclaimed)
        .isLessThan(LEASE_MS + ELECTION_BOUND_MS);
  }

  @Test
  void a_paused_holder_loses_its_lock_at_lease_end_and_its_token_is_fenced_off()
      throws Exception {
    start(1);
    String name = "paused";
    String leader = leaderOf(name);
    // The holder's process must not lead the lock's partition (pausing it stops its holder,
    // not the lock table), nor be n1, started first and so Hazelcast's master: a paused master
    // makes the others elect a new one, an upheaval of membership beyond this test.
    NodeProcess holderNode = cluster.node(THREE.stream()
        .filter(n -> !n.equals(leader) && !n.equals("n1")).reduce((a, b) -> b).orElseThrow());
    Keel c1 = clients.get(0).keel();
    List<JsonObject> ended = new CopyOnWriteArrayList<>();
    c1.vertx().eventBus().<JsonObject>consumer(Addresses.EVENTS, m -> {
      if ("lock-expired".equals(m.body().getString("type"))
          && name.equals(m.body().getString("name"))) {
        ended.add(m.body());
      }
    }).completion().await(10, TimeUnit.SECONDS);
    Fence fence = new Fence();
    long leaseMs = 2_000;

    // The holder acquires through its node process (HTTP), naming that node as its own.
    long sentAtMs = System.currentTimeMillis();
    HttpResponse<String> acquired = post(holderNode, "/v1/locks/" + name + "/acquire",
        new JsonObject().put("leaseMs", leaseMs).put("holder", "worker@" + holderNode.label())
            .put("node", holderNode.label()));
    assertThat(acquired.statusCode()).as("acquire through %s: %s", holderNode.label(),
        acquired.body()).isEqualTo(200);
    long old = new JsonObject(acquired.body()).getLong("token");
    assertThat(fence.accept(name, old)).as("the holder's write before the pause").isTrue();
    holderNode.pause();
    long next;
    long grantedAfterMs;
    try {
      JsonObject lock = acquireRetrying(c1.vertx(), new JsonObject().put("name", name)
          .put("waitMs", 20_000).put("holder", "c1").put("node", c1.nodeName())
          .put("requestId", "c1-after-pause"));
      grantedAfterMs = System.currentTimeMillis() - sentAtMs;
      next = lock.getLong("token");
      assertThat(holderNode.isAlive()).as("the paused holder's process").isTrue();
      assertThat(fence.accept(name, next)).as("the new holder's write").isTrue();
    } finally {
      holderNode.resume();
    }
    log.info("lock '{}' held by paused {} with token {} went to c1 with token {} after {} ms"
        + " (lease {} ms)", name, holderNode.label(), old, next, grantedAfterMs, leaseMs);
    assertThat(next).isGreaterThan(old);
    // The grant cannot precede the lease's end: the lease ran from the leader's stamp, which
    // is after the request was sent.
    assertThat(grantedAfterMs).isGreaterThanOrEqualTo(leaseMs);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(ended)
        .anySatisfy(e -> {
          assertThat(e.getLong("token")).isEqualTo(old);
          assertThat(e.getString("reason")).as("why the old lease ended").isEqualTo("expired");
        }));
    // Resumed, the old holder writes with its old token: the fence refuses it; it renews and
    // releases with it: the lock table refuses both. (Asked through c1: a pause longer than
    // Hazelcast's failure detection, 5 s, leaves the resumed node outside the cluster.)
    assertThat(fence.accept(name, old)).as("the resumed holder's write, old token").isFalse();
    for (String address : List.of(Addresses.LOCK_RENEW, Addresses.LOCK_RELEASE)) {
      assertThat(answer(c1.vertx(), address, new JsonObject().put("name", name)
          .put("token", old))).as("%s with the old token", address).startsWith("CONFLICT");
    }
    // Acknowledged, or CONFLICT when an unanswered try had released it already.
    answer(c1.vertx(), Addresses.LOCK_RELEASE, new JsonObject().put("name", name)
        .put("token", next));
    await().atMost(SETTLE).ignoreExceptions().untilAsserted(() -> assertThat(c1.locks()
        .info(name).await(10, TimeUnit.SECONDS).getBoolean("held")).isFalse());
  }

  /**
   * Acquires through the event-bus contract with the request id in {@code body}, asking again
   * with the same id (answered, never granted twice) when an attempt gets no answer within 2 s:
   * the event bus may hand a request to the paused node, which holds it unanswered.
   */
  private static JsonObject acquireRetrying(Vertx vertx, JsonObject body) {
    List<JsonObject> reply = new CopyOnWriteArrayList<>();
    await("grant of " + body).atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(10)).ignoreExceptions().until(() -> {
          reply.add(vertx.eventBus().<JsonObject>request(Addresses.LOCK_ACQUIRE, body,
              new DeliveryOptions().setSendTimeout(2_000)).map(Message::body)
              .await(5, TimeUnit.SECONDS));
          return true;
        });
    return reply.get(0);
  }

  /**
   * "acknowledged", or the failure's symbol and message, of a request asked again while it gets
   * no answer in time, {@code UNAVAILABLE} or {@code NOT_OWNER} (no leader for a moment: the
   * contract says retry).
   */
  private static String answer(Vertx vertx, String address, JsonObject body) {
    List<String> last = new CopyOnWriteArrayList<>();
    await("an answer to " + address).atMost(SETTLE).pollInterval(Duration.ofMillis(200))
        .until(() -> {
          try {
            vertx.eventBus().request(address, body, new DeliveryOptions().setSendTimeout(5_000))
                .await(10, TimeUnit.SECONDS);
            last.add(0, "acknowledged");
            return true;
          } catch (Exception e) {
            Throwable t = e instanceof ReplyException || e.getCause() == null ? e : e.getCause();
            Failure f = Failure.of(t);
            last.add(0, f + ": " + t.getMessage());
            return f != null && f != Failure.UNAVAILABLE && f != Failure.NOT_OWNER
                && f != Failure.TIMEOUT;
          }
        });
    return last.get(0);
  }

  /** {@code POST path} with a JSON body on {@code node}'s HTTP port. */
  private static HttpResponse<String> post(NodeProcess node, String path, JsonObject body)
      throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort()
        + path)).timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build();
    return HTTP.send(req, HttpResponse.BodyHandlers.ofString());
  }

  /**
   * The test's shared counter, a resource that obeys fenced locks: every read and every write
   * carries its token, and is refused unless the {@link Fence} takes it. (With only the writes
   * fenced, a holder whose lease ran out between its read and its write could still write
   * after a newer holder's read, and an increment would be lost without any bug in the lock.)
   */
  private static final class FencedCounter {
    private final Fence fence = new Fence();
    private final List<Long> acceptedTokens = new ArrayList<>();
    private long value;
    private long refused;

    synchronized long value() {
      return value;
    }

    /** The value, or -1 when {@code token} is refused. */
    synchronized long read(long token) {
      if (!fence.accept(COUNTER, token)) {
        refused++;
        return -1;
      }
      return value;
    }

    synchronized boolean write(long token, long newValue) {
      if (!fence.accept(COUNTER, token)) {
        refused++;
        return false;
      }
      value = newValue;
      acceptedTokens.add(token);
      return true;
    }

    synchronized long accepted() {
      return acceptedTokens.size();
    }

    synchronized long refused() {
      return refused;
    }

    synchronized List<Long> acceptedTokens() {
      return List.copyOf(acceptedTokens);
    }
  }

  /**
   * {@link #LOOPS_PER_CLIENT} loops on each client, until stopped: acquire {@link #COUNTER},
   * read the counter, write it + 1 with the token after an async hop, release. An acquire that
   * failed without a definite answer (no answer, no leader) is retried with the same request
   * id, so that a grant made meanwhile is claimed rather than left to run out its lease.
   */
  private final class FencedLoops {
    private final FencedCounter counter;
    private final Map<Long, String> grantedTo = new ConcurrentHashMap<>();
    private final List<String> duplicates = new CopyOnWriteArrayList<>();
    private final Map<String, Long> firstSent = new ConcurrentHashMap<>();
    // Every grant, in the order the loops received them.
    private final List<Grant> grantLog = new CopyOnWriteArrayList<>();
    // The node that published each lock-granted event (the leader that committed the grant).
    private final Map<Long, Committed> committed = new ConcurrentHashMap<>();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong httpAnswered = new AtomicLong();
    private io.vertx.core.http.HttpClient http;
    // Each loop's last failed acquire, for the report of a stall.
    private final Map<String, String> lastFailures = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Future<Void>> loops = new ArrayList<>();

    FencedLoops(FencedCounter counter) {
      this.counter = counter;
    }

    FencedLoops start() throws Exception {
      http = clients.get(clients.size() - 1).keel().vertx().createHttpClient();
      clients.get(0).keel().vertx().eventBus().<JsonObject>consumer(Addresses.EVENTS, m -> {
        if ("lock-granted".equals(m.body().getString("type"))
            && COUNTER.equals(m.body().getString("name"))) {
          long token = m.body().getLong("token");
          committed.put(token, new Committed(token, m.body().getString("node"),
              System.nanoTime()));
        }
      }).completion().await(10, TimeUnit.SECONDS);
      for (InProcessClient c : clients) {
        for (int i = 0; i < LOOPS_PER_CLIENT; i++) {
          Promise<Void> done = Promise.promise();
          loops.add(done.future());
          String loop = c.keel().nodeName() + "-loop" + i;
          AtomicLong seq = new AtomicLong();
          c.keel().vertx().runOnContext(v -> next(c, loop, seq, null, done));
        }
      }
      return this;
    }

    private void next(InProcessClient c, String loop, AtomicLong seq, String retryId,
        Promise<Void> done) {
      if (!running.get()) {
        done.complete();
        return;
      }
      String requestId = retryId != null ? retryId : loop + "-" + seq.incrementAndGet();
      firstSent.putIfAbsent(requestId, System.nanoTime());
      Vertx vertx = c.keel().vertx();
      Future<Long> acquired;
      Function<Long, Future<?>> releaser;
      if (c == clients.get(clients.size() - 1)) {
        // The last client's loops speak HTTP to a data node they pick (one that is down
        // refuses the connection: no definite answer, asked again elsewhere).
        acquired = httpLock("acquire", new JsonObject().put("leaseMs", LEASE_MS)
            .put("waitMs", WAIT_MS).put("holder", loop).put("requestId", requestId))
            .map(j -> j.getLong("token"));
        releaser = token -> httpLock("release", new JsonObject().put("token", token));
      } else {
        Future<FencedLock> lock = c.keel().locks().acquire(COUNTER, new LockOptions()
            .setLeaseMs(LEASE_MS).setWaitMs(WAIT_MS).setHolder(loop).setRequestId(requestId));
        acquired = lock.map(FencedLock::token);
        releaser = token -> lock.result().release();
      }
      acquired.onComplete(ar -> {
            if (ar.failed()) {
              log.info("{}: acquire {} failed {} ms after it was first sent: {}", loop,
                  requestId, (System.nanoTime() - firstSent.get(requestId)) / 1_000_000,
                  ar.cause().getMessage());
              lastFailures.put(loop, requestId + ": " + ar.cause().getMessage());
              boolean settled = settled(ar.cause());
              if (!settled) {
                retries.incrementAndGet();
              }
              vertx.setTimer(50, id -> next(c, loop, seq, settled ? null : requestId, done));
              return;
            }
            long token = ar.result();
            granted(requestId, token);
            long read = counter.read(token);
            // Read, yield to the event loop, then write: a second holder would lose increments.
            vertx.setTimer(1, id -> {
              if (read >= 0) {
                counter.write(token, read + 1);
              }
              release(vertx, () -> releaser.apply(token), 5,
                  () -> next(c, loop, seq, null, done));
            });
          });
    }

    /**
     * {@code POST /v1/locks/counter/<op>} on a data node picked at random; a failure status
     * becomes the failure of that code with the reply's sentence, as the event bus gives it.
     */
    private Future<JsonObject> httpLock(String op, JsonObject body) {
      String node = THREE.get(ThreadLocalRandom.current().nextInt(THREE.size()));
      RequestOptions req = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1")
          .setPort(cluster.node(node).httpPort()).setURI("/v1/locks/" + COUNTER + "/" + op)
          .setTimeout(WAIT_MS + 10_000);
      return http.request(req).compose(r -> r.send(body.encode())).compose(resp -> resp.body()
          .compose(b -> {
            JsonObject reply = new JsonObject(b);
            if (resp.statusCode() == 200) {
              httpAnswered.incrementAndGet();
              return Future.succeededFuture(reply);
            }
            Failure f = Failure.fromCode(resp.statusCode());
            return Future.failedFuture(f == null ? new IllegalStateException("HTTP "
                + resp.statusCode() + ": " + b) : f.exception(reply.getString("message")));
          }));
    }

    private void granted(String requestId, long token) {
      grantLog.add(new Grant(requestId, token, firstSent.get(requestId), System.nanoTime()));
      String before = grantedTo.putIfAbsent(token, requestId);
      if (before != null && !before.equals(requestId)) {
        duplicates.add("token " + token + " to " + before + " and " + requestId);
      }
    }

    /** Releases; retries what got no definite answer, at most {@code attempts} times. */
    private void release(Vertx vertx, Supplier<Future<?>> release, int attempts,
        Runnable then) {
      release.get().onComplete(ar -> {
        if (ar.succeeded() || settled(ar.cause()) || attempts <= 1 || !running.get()) {
          then.run();
          return;
        }
        vertx.setTimer(50, id -> release(vertx, release, attempts - 1, then));
      });
    }

    void stop() throws Exception {
      running.set(false);
      Future.all(loops).await(90, TimeUnit.SECONDS);
    }

    /**
     * The first grant a loop received that was certainly made after {@code nanos}, when
     * {@code victim} was killed: asked for after it, or published as committed by another
     * leader. (A grant received just after the kill may have been committed just before it.)
     */
    Optional<Grant> firstGrantAfter(long nanos, String victim) {
      return grantLog.stream().filter(g -> g.receivedAt() >= nanos && (g.firstSentAt() >= nanos
          || (committed.containsKey(g.token())
          && !victim.equals(committed.get(g.token()).node())))).findFirst();
    }

    /** The first grant published, at or after {@code nanos}, by a leader other than victim. */
    Optional<Committed> firstCommittedAfter(long nanos, String victim) {
      return committed.values().stream().filter(c -> c.at() >= nanos
          && !victim.equals(c.node())).min(Comparator.comparingLong(Committed::at));
    }

    /** Grants to waiters that a leader published but no loop ever received. */
    List<Long> unclaimed() {
      return committed.keySet().stream().filter(t -> !grantedTo.containsKey(t)).sorted()
          .toList();
    }

  }

  /** A lock-granted event: the grant's token, the leader that committed it, when it came. */
  private record Committed(long token, String node, long at) {}

  /** A grant a loop received: for which request, when that was first sent, when received. */
  private record Grant(String requestId, long token, long firstSentAt, long receivedAt) {}

  /**
   * Whether a failed lock request got a definite answer from the lock table: a conflict, a bad
   * request, or a wait that ran out with nothing granted (the contract's sentence). Anything
   * else (no answer in time, no leader, a refused connection) may have been carried out.
   */
  private static boolean settled(Throwable t) {
    Failure f = Failure.of(t);
    return f == Failure.CONFLICT || f == Failure.BAD_REQUEST
        || (f != null && String.valueOf(t.getMessage()).contains("nothing was granted"));
  }
}
