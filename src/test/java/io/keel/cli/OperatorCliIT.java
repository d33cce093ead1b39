package io.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.harness.FreePorts;
import io.keel.harness.InJvmCluster;
import io.keel.locks.FencedLock;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The operator commands against three in-JVM nodes, run in-process as the jar runs them:
 * {@code status} (table and JSON), {@code locks} (a held lock and its token), {@code watch}
 * (the snapshot, then a lock granted during the watch), an unreachable node (exit 1, one line)
 * and bad arguments (exit 2, usage).
 */
class OperatorCliIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static InJvmCluster cluster;
  private static Keel a;
  private static Keel b;
  private static Keel c;

  /** One command's exit code and what it printed. */
  record Run(int exit, String out, String err) {
    List<String> outLines() {
      return out.lines().toList();
    }
  }

  /** A command line as the jar builds it, writing into {@code out} and {@code err}. */
  private static CommandLine commandLine(StringWriter out, StringWriter err) {
    CommandLine cli = KeelMain.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    return cli;
  }

  private static Run keel(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = commandLine(out, err).execute(args);
    return new Run(exit, out.toString(), err.toString());
  }

  private static String url(Keel k) {
    return "http://127.0.0.1:" + k.httpPort();
  }

  @BeforeAll
  static void start() {
    cluster = new InJvmCluster(3);
    a = cluster.start("a", OperatorCliIT::small);
    b = cluster.start("b", OperatorCliIT::small);
    c = cluster.start("c", OperatorCliIT::small);
    InJvmCluster.awaitActive(8, a, b, c);
  }

  @AfterAll
  static void stop() throws Exception {
    cluster.close();
  }

  private static KeelOptions small(KeelOptions o) {
    return o.setPartitions(8);
  }

  /** The node that leads the partition of lock {@code name}, as node a sees it. */
  private static Keel leaderOf(String name) {
    int p = a.routing().owner(name).partition();
    await().atMost(WAIT).until(() -> a.groups().leaderOf(p) != null);
    return cluster.node(a.groups().leaderOf(p));
  }

  @Test
  void status_prints_the_header_the_members_and_their_partition_counts() {
    JsonObject doc = new JsonObject(keel("status", "--json", "--url", url(a)).out());
    Run run = keel("status", "--url", url(a));

    assertThat(run.exit()).isZero();
    assertThat(run.err()).isEmpty();
    List<String> lines = run.outLines();
    assertThat(lines.get(0)).startsWith("node a  cluster " + cluster.clusterName() + "  epoch "
        + doc.getLong("epoch") + "  ready yes");
    JsonArray primaries = doc.getJsonObject("ring").getJsonArray("primaries");
    int led = 0;
    for (String name : List.of("a", "b", "c")) {
      long primary = primaries.stream().filter(name::equals).count();
      String[] row = lines.stream().map(l -> l.replaceFirst("^\\*", "").trim())
          .filter(l -> l.startsWith(name + " ")).findFirst().orElseThrow().split("\\s+");
      // MEMBER ROLE WEIGHT HOST PRIMARIES REPLICAS LED CATCHING-UP; three replicas of eight.
      assertThat(row).as(name).hasSize(8);
      assertThat(row[1]).isEqualTo("data");
      assertThat(Long.parseLong(row[4])).as("primaries of %s", name).isEqualTo(primary);
      assertThat(Long.parseLong(row[5])).as("replicas of %s", name).isEqualTo(8 - primary);
      led += Integer.parseInt(row[6]);
      assertThat(row[7]).isEqualTo(name.equals("a") ? "0" : "-");
    }
    assertThat(led).as("partitions led").isEqualTo(8);
    assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("partitions: 8 x 3 replicas;"
        + " a holds 8: "));
    assertThat(lines).contains("not active: none");
  }

  @Test
  void status_json_is_the_raw_document_of_the_node_asked() {
    Run run = keel("status", "--json", "--url", url(b));

    assertThat(run.exit()).isZero();
    assertThat(run.outLines().size()).as("pretty-printed").isGreaterThan(20);
    JsonObject doc = new JsonObject(run.out());
    assertThat(doc.getString("node")).isEqualTo("b");
    assertThat(doc.getString("cluster")).isEqualTo(cluster.clusterName());
    assertThat(doc.getJsonArray("members")).hasSize(3);
  }

  @Test
  void locks_lists_a_held_lock_with_its_token_and_name_asks_for_one() throws Exception {
    String name = "cli-orders";
    FencedLock lock = a.locks().acquire(name).await(30, TimeUnit.SECONDS);
    try {
      Keel leader = leaderOf(name);
      // The node lists the locks of the partitions it leads, refreshed every 2 s.
      await().atMost(WAIT).untilAsserted(() -> {
        Run run = keel("locks", "--url", url(leader));
        assertThat(run.exit()).isZero();
        assertThat(run.outLines()).anySatisfy(l -> assertThat(l.split("\\s+"))
            .startsWith(name, Long.toString(lock.token()), lock.holder()));
      });
      Run one = keel("locks", "--name", name, "--url", url(c));
      assertThat(one.exit()).isZero();
      assertThat(one.out()).startsWith("lock " + name + ": held by " + lock.holder()
          + ", token " + lock.token() + ", lease left ");
      Run json = keel("locks", "--name", name, "--json", "--url", url(b));
      assertThat(new JsonObject(json.out()).getLong("token")).isEqualTo(lock.token());
    } finally {
      lock.release().await(30, TimeUnit.SECONDS);
    }
    assertThat(keel("locks", "--name", name, "--url", url(a)).out()).contains(name + ": free");
  }

  @Test
  void watch_prints_the_snapshot_then_a_lock_granted_during_the_watch() throws Exception {
    List<String> lines = watchWhileGranting("cli-watched", "--count", "1");

    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).contains("snapshot", "epoch=", "members=3");
    assertThat(lines.get(1)).contains("lock-granted", "name=cli-watched", "token=");
  }

  @Test
  void watch_json_prints_each_message_as_one_json_line() throws Exception {
    List<String> lines = watchWhileGranting("cli-watched-json", "--count", "1", "--json");

    assertThat(lines).hasSize(2);
    JsonObject snapshot = new JsonObject(lines.get(0));
    assertThat(snapshot.getString("type")).isEqualTo("snapshot");
    assertThat(snapshot.getJsonObject("status").getJsonArray("members")).hasSize(3);
    JsonObject granted = new JsonObject(lines.get(1));
    assertThat(granted.getString("type")).isEqualTo("lock-granted");
    assertThat(granted.getString("name")).isEqualTo("cli-watched-json");
    assertThat(granted.getLong("seq")).isEqualTo(snapshot.getLong("seq") + 1);
  }

  /**
   * Watches the leader of {@code name}'s partition, takes and releases the lock once the
   * snapshot is printed, and answers the watch's stdout lines after it exited 0.
   */
  private static List<String> watchWhileGranting(String name, String... flags) throws Exception {
    Keel leader = leaderOf(name);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = commandLine(out, err);
    List<String> args = new java.util.ArrayList<>(List.of("watch", "--url", url(leader)));
    args.addAll(List.of(flags));
    ExecutorService thread = Executors.newSingleThreadExecutor();
    try {
      Future<Integer> exit = thread.submit(() -> cli.execute(args.toArray(String[]::new)));
      await().atMost(WAIT).until(() -> out.toString().contains("snapshot"));
      FencedLock lock = b.locks().acquire(name).await(30, TimeUnit.SECONDS);
      lock.release().await(30, TimeUnit.SECONDS);
      assertThat(exit.get(30, TimeUnit.SECONDS)).as("exit code; stderr: %s", err).isZero();
      assertThat(err.toString()).isEmpty();
      return out.toString().lines().toList();
    } finally {
      thread.shutdownNow();
    }
  }

  @Test
  void an_unreachable_node_exits_1_with_one_line_naming_the_url_and_cause() {
    String nowhere = "http://127.0.0.1:" + FreePorts.next();
    for (String command : List.of("status", "locks", "watch")) {
      Run run = keel(command, "--url", nowhere);

      assertThat(run.exit()).as(command).isEqualTo(1);
      assertThat(run.out()).as(command).isEmpty();
      assertThat(run.err().lines().toList()).as(command).singleElement().asString()
          .startsWith("keel " + command + ": cannot reach " + nowhere + "/")
          .containsIgnoringCase("refused");
    }
  }

  @Test
  void bad_arguments_exit_2_with_the_usage() {
    for (List<String> args : List.of(List.of("status", "--bogus"),
        List.of("locks", "--url", "ftp://x"), List.of("watch", "--count", "0"),
        List.of("watch", "--url"))) {
      Run run = keel(args.toArray(String[]::new));

      assertThat(run.exit()).as("%s", args).isEqualTo(2);
      assertThat(run.err()).as("%s", args).startsWith("keel " + args.get(0) + ": ")
          .contains("Usage: keel " + args.get(0));
    }
  }

  @Test
  void help_lists_the_commands_and_still_the_node_flags() {
    Run run = keel("--help");

    assertThat(run.exit()).isZero();
    assertThat(run.out()).contains("--cluster-port", "Commands:", "status", "locks", "watch");
  }
}
