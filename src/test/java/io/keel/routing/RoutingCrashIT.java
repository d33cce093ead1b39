package io.keel.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.KeelOptions;
import io.keel.harness.InProcessClient;
import io.keel.harness.NodeProcess;
import io.keel.harness.ProcessCluster;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routing with real node JVMs that crash ({@code kill -9}), restart, join and leave
 * ({@code SIGTERM}). Each test starts its own cluster of n1..n3 from the built jar.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RoutingCrashIT {
  private static final Logger log = LoggerFactory.getLogger(RoutingCrashIT.class);
  private static final Duration SETTLE = Duration.ofSeconds(60);
  /** config/cluster.xml: hazelcast.max.no.heartbeat.seconds. */
  private static final Duration FAILURE_DETECTION = Duration.ofSeconds(5);
  private static final Duration MARGIN = Duration.ofSeconds(10);
  private static final int KEYS = 200;
  private static final long ROUND_WAIT_MS = 3_000;
  private static final List<String> THREE = List.of("n1", "n2", "n3");

  @RegisterExtension
  final NodeProcess.Guard guard = new NodeProcess.Guard();

  private ProcessCluster cluster;
  private InProcessClient client;
  private SplittableRandom random;

  @BeforeEach
  void seed() {
    long seed = Long.getLong("keel.seed", System.nanoTime());
    log.info("seed {} (rerun with -Dkeel.seed={})", seed, seed);
    random = new SplittableRandom(seed);
  }

  @AfterEach
  void stop() throws Exception {
    try {
      if (client != null) {
        client.close();
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  @Test
  void killed_node_is_routed_around_and_restarted_gets_its_partitions_back() {
    cluster = new ProcessCluster(guard.logDir(), 3);
    cluster.startAll("n1", "n2", "n3");
    client = InProcessClient.join(cluster, "client");
    Map<String, JsonObject> before = cluster.awaitAgreement(THREE, SETTLE);
    long epoch = before.get("n1").getLong("epoch");
    await().atMost(SETTLE).until(() -> client.table().epoch() == epoch);
    List<String> keys = randomKeys(KEYS);
    String victim = client.table().primaryOf(keys.get(0));
    List<String> survivors = new ArrayList<>(THREE);
    survivors.remove(victim);

    long killedAt = System.nanoTime();
    assertThat(cluster.node(victim).kill9()).as("exit code after SIGKILL").isEqualTo(137);
    Duration bound = FAILURE_DETECTION.plus(MARGIN);
    Map<String, JsonObject> after = cluster.awaitAgreement(survivors, bound);
    long agreedMs = elapsedMs(killedAt);
    long newEpoch = after.get(survivors.get(0)).getLong("epoch");
    assertThat(newEpoch).isGreaterThan(epoch);
    Duration left = bound.minusMillis(elapsedMs(killedAt));
    await("all keys routed to survivors").atMost(left).pollInterval(Duration.ofMillis(100))
        .untilAsserted(() -> assertRoutedToPrimaries(keys, survivors));
    long routedMs = elapsedMs(killedAt);
    log.info("kill -9 of {} (epoch {}): survivors {} agreed on epoch {} after {} ms; {} keys"
        + " routed to their primaries after {} ms (bound {} ms)", victim, epoch, survivors,
        newEpoch, agreedMs, KEYS, routedMs, bound.toMillis());
    assertThat(routedMs).isLessThanOrEqualTo(bound.toMillis());

    // Restarted, the node gets its partitions back, and every primary is where it was.
    cluster.node(victim).restart();
    Map<String, JsonObject> back = cluster.awaitAgreement(THREE, SETTLE);
    for (JsonObject s : back.values()) {
      assertThat(ProcessCluster.primaries(s)).as("primaries seen by %s", s.getString("node"))
          .isEqualTo(ProcessCluster.primaries(before.get("n1")));
    }
    assertThat(placement(back.get(victim))).isEqualTo(placement(before.get(victim)));
    assertThat(back.get(victim).getLong("epoch")).isGreaterThan(newEpoch);
  }

  /** The table's part of a status's partitions: "partition:role" (the Raft state changes). */
  private static List<String> placement(JsonObject status) {
    List<String> out = new ArrayList<>();
    for (Object o : status.getJsonArray("partitions")) {
      JsonObject p = (JsonObject) o;
      if (!"leaving".equals(p.getString("role"))) {
        out.add(p.getInteger("partition") + ":" + p.getString("role"));
      }
    }
    return out;
  }

  @Test
  void fourth_node_takes_about_a_quarter_and_others_keep_theirs() {
    cluster = new ProcessCluster(guard.logDir(), 4);
    cluster.startAll("n1", "n2", "n3");
    JsonObject before = cluster.awaitAgreement(THREE, SETTLE).get("n1");
    List<String> old = ProcessCluster.primaries(before);
    int p = old.size();
    assertThat(p).isEqualTo(before.getJsonObject("ring").getInteger("partitions"));

    cluster.startAll("n4");
    List<String> four = List.of("n1", "n2", "n3", "n4");
    Map<String, JsonObject> after = cluster.awaitAgreement(four, SETTLE);
    List<String> now = ProcessCluster.primaries(after.get("n4"));
    for (JsonObject s : after.values()) {
      assertThat(ProcessCluster.primaries(s)).as("primaries seen by %s", s.getString("node"))
          .isEqualTo(now);
    }
    // Every process computes exactly the pure core's table: the counts below are its numbers.
    assertThat(old).isEqualTo(pureTable(THREE));
    assertThat(now).isEqualTo(pureTable(four));
    int toN4 = 0;
    int betweenStayers = 0;
    for (int i = 0; i < p; i++) {
      if (!old.get(i).equals(now.get(i))) {
        if (now.get(i).equals("n4")) {
          toN4++;
        } else {
          betweenStayers++;
        }
      }
    }
    log.info("n4 joined: {} of {} primaries moved to n4 (ideal {}), {} moved between n1..n3",
        toN4, p, p / 4.0, betweenStayers);
    assertThat(toN4).isBetween((int) Math.ceil(0.15 * p), (int) Math.floor(0.35 * p));
    // Bounded loads (HashRing) can move a primary between members that stayed: when n4 takes
    // partitions from a member that was full, the member has room again for a partition it had
    // turned away (and a member now over its new bound, floor(1.05 * P / 4), turns one away).
    // Only partitions that were or become spilled can move so; the bound we hold it to is 1%
    // of P (5 for P = 512, 2 for P = 271). More is a placement finding, not test noise.
    assertThat(betweenStayers).as("primaries moved between n1..n3")
        .isLessThanOrEqualTo(p / 100);
  }

  @Test
  void sigterm_leaves_the_cluster_and_exits_0() {
    cluster = new ProcessCluster(guard.logDir(), 3);
    cluster.startAll("n1", "n2", "n3");
    long epoch = cluster.awaitAgreement(THREE, SETTLE).get("n1").getLong("epoch");

    long signalledAt = System.nanoTime();
    cluster.node("n3").terminate();
    Map<String, JsonObject> after = cluster.awaitAgreement(List.of("n1", "n2"),
        FAILURE_DETECTION);
    long leftMs = elapsedMs(signalledAt);
    assertThat(cluster.node("n3").awaitExit(Duration.ofSeconds(30))).as("exit code")
        .isZero();
    log.info("SIGTERM to n3: n1 and n2 showed 2 members on epoch {} after {} ms, n3 exited 0"
        + " after {} ms", after.get("n1").getLong("epoch"), leftMs, elapsedMs(signalledAt));
    assertThat(after.get("n1").getLong("epoch")).isGreaterThan(epoch);
  }

  /** Pings every key at once; each must be answered by a survivor, its primary per the client. */
  private void assertRoutedToPrimaries(List<String> keys, List<String> survivors) {
    List<Future<JsonObject>> replies = new ArrayList<>(keys.size());
    for (String key : keys) {
      replies.add(client.ping(key));
    }
    try {
      // Short, so that a round stuck on the dead node does not hide a later one that works.
      Future.join(replies).otherwiseEmpty().await(ROUND_WAIT_MS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      // Checked below: an unanswered ping fails the assertion for its key.
    }
    PartitionTable table = client.table();
    for (int i = 0; i < keys.size(); i++) {
      Future<JsonObject> r = replies.get(i);
      assertThat(r.succeeded()).as("ping %s answered (%s)", keys.get(i),
          r.isComplete() ? r.cause() : "no answer yet").isTrue();
      String node = r.result().getString("node");
      assertThat(node).as("node serving %s", keys.get(i)).isIn(survivors)
          .isEqualTo(table.primaryOf(keys.get(i)));
    }
  }

  private List<String> randomKeys(int n) {
    List<String> keys = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      keys.add("key-" + Long.toHexString(random.nextLong()));
    }
    return keys;
  }

  /** The primaries the pure core computes for these members with the default options. */
  private static List<String> pureTable(List<String> names) {
    List<Member> members = names.stream().map(Member::of).toList();
    PartitionTable t = PartitionTable.compute(1, members, new KeelOptions().placement());
    List<String> out = new ArrayList<>();
    for (int i = 0; i < t.partitionCount(); i++) {
      out.add(t.primary(i));
    }
    return out;
  }

  private static long elapsedMs(long sinceNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos);
  }
}
