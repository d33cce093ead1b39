package io.keel.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * A cluster of Keel nodes, each a real JVM ({@link NodeProcess}) started from the built jar, on
 * 127.0.0.1: a random cluster name, free ports, and a temporary directory holding each node's
 * data directory (deleted by {@link #close()}; the logs are kept under the log directory).
 * {@link #onDistinctAddresses} puts each node on a loopback address of its own instead, so that
 * the links between nodes can be cut one by one ({@link NetNemesis}).
 *
 * <p>The cluster reserves the member ports of {@code capacity} nodes up front, and every node's
 * {@code --join} lists all of them (its own included), so nodes can start in any order, be
 * restarted with the same name, ports and data directory, and join later.
 *
 * <pre>{@code
 * try (ProcessCluster c = new ProcessCluster(guard.logDir(), 3)) {
 *   c.startAll("n1", "n2", "n3");
 *   c.awaitAgreement(List.of("n1", "n2", "n3"), Duration.ofSeconds(30));
 * }
 * }</pre>
 */
public final class ProcessCluster implements AutoCloseable {
  private static final int FIRST_DISTINCT_HOST = 11;
  private static final int MAX_DISTINCT = 254 - FIRST_DISTINCT_HOST + 1;
  private final String clusterName = "t-" + UUID.randomUUID().toString().substring(0, 8);
  private final Path logDir;
  private final Path root;
  private final List<String> hosts = new ArrayList<>();
  private final List<Integer> clusterPorts = new ArrayList<>();
  private final List<String> extraArgs;
  private final Map<String, NodeProcess> nodes = new LinkedHashMap<>();

  /**
   * A cluster of at most {@code capacity} nodes; none is started yet.
   *
   * @param logDir where each node's log goes ({@code <name>.log})
   * @param extraArgs more flags for every node (for example {@code --partitions 64})
   */
  public ProcessCluster(Path logDir, int capacity, String... extraArgs) {
    this(logDir, capacity, false, extraArgs);
  }

  /**
   * A cluster of at most {@code capacity} nodes in which node slot {@code i} (0-based, in the
   * order nodes are first named) has the address {@code 127.0.0.(11 + i)}: its cluster host,
   * HTTP host and member port are there, and the join list names those addresses. A node's
   * connections to the others leave from its own address (Hazelcast binds them, and so does
   * Keel's event bus), so a firewall rule on a pair of addresses cuts exactly that link.
   *
   * @param logDir where each node's log goes ({@code <name>.log})
   * @param extraArgs more flags for every node (for example {@code --partitions 64})
   */
  public static ProcessCluster onDistinctAddresses(Path logDir, int capacity,
      String... extraArgs) {
    return new ProcessCluster(logDir, capacity, true, extraArgs);
  }

  private ProcessCluster(Path logDir, int capacity, boolean distinct, String... extraArgs) {
    if (distinct && capacity > MAX_DISTINCT) {
      throw new IllegalArgumentException("at most " + MAX_DISTINCT
          + " nodes on distinct addresses, was " + capacity);
    }
    this.logDir = logDir;
    this.extraArgs = List.of(extraArgs);
    for (int i = 0; i < capacity; i++) {
      String host = distinct ? "127.0.0." + (FIRST_DISTINCT_HOST + i) : "127.0.0.1";
      hosts.add(host);
      clusterPorts.add(FreePorts.next(host));
    }
    try {
      this.root = Files.createTempDirectory("keel-" + clusterName + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
  /**
   * The partition count the nodes run with ({@code --partitions} among the extra flags), or
   * null for the default: a client must use the same, or its table differs from theirs.
   */
  public Integer partitions() {
    int i = extraArgs.indexOf("--partitions");
    return i < 0 || i + 1 >= extraArgs.size() ? null : Integer.valueOf(extraArgs.get(i + 1));
  }


  /** The Hazelcast cluster name, random per cluster. */
  public String clusterName() {
    return clusterName;
  }

  /** The data directory ({@code --data-dir}) of node {@code name}, under the temporary root. */
  public Path dataDir(String name) {
    return root.resolve(name);
  }

  /** Every reserved member address, {@code host:port} ({@code 127.0.0.1:port} by default). */
  public List<String> joinList() {
    List<String> out = new ArrayList<>(clusterPorts.size());
    for (int i = 0; i < clusterPorts.size(); i++) {
      out.add(hosts.get(i) + ":" + clusterPorts.get(i));
    }
    return out;
  }

  /**
   * The address of node {@code name} (its cluster and HTTP host), defining the node on first
   * use as {@link #node} does.
   */
  public String host(String name) {
    return node(name).httpHost();
  }

  /** The names of the nodes defined so far, in slot order (started or not). */
  public synchronized List<String> names() {
    return List.copyOf(nodes.keySet());
  }

  /** The node named {@code name}, defined (not started) on first use with the next free slot. */
  public synchronized NodeProcess node(String name) {
    NodeProcess n = nodes.get(name);
    if (n != null) {
      return n;
    }
    if (nodes.size() >= clusterPorts.size()) {
      throw new IllegalStateException("the cluster was made for " + clusterPorts.size()
          + " nodes: " + nodes.keySet());
    }
    int slot = nodes.size();
    String host = hosts.get(slot);
    int httpPort = FreePorts.next(host);
    List<String> args = new ArrayList<>(List.of("--name", name,
        "--data-dir", root.resolve(name).toString(),
        "--http-host", host, "--http-port", Integer.toString(httpPort),
        "--cluster-host", host,
        "--cluster-port", Integer.toString(clusterPorts.get(slot)),
        "--join", String.join(",", joinList()), "--bus-port", "0",
        "--cluster-name", clusterName));
    args.addAll(extraArgs);
    n = new NodeProcess(name, logDir.resolve(name + ".log"), root, host, httpPort, args);
    nodes.put(name, n);
    return n;
  }

  /** Starts the named nodes at once and waits until each is ready. */
  public List<NodeProcess> startAll(String... names) {
    List<NodeProcess> started = new ArrayList<>();
    for (String name : names) {
      started.add(node(name).start());
    }
    for (NodeProcess n : started) {
      n.awaitReady();
    }
    return started;
  }

  /**
   * Waits until each of {@code dataMembers} is ready and its {@code /status} shows exactly these
   * data members, a table whose primaries are these members (so with P well above their
   * number, the table of these members), all on one epoch; returns their statuses by name.
   * Client-role members (an in-process client, say) may be there too and do not count.
   */
  public Map<String, JsonObject> awaitAgreement(Collection<String> dataMembers, Duration atMost) {
    Set<String> expected = new TreeSet<>(dataMembers);
    Map<String, JsonObject> last = new LinkedHashMap<>();
    await("agreement of " + expected).atMost(atMost).pollInterval(Duration.ofMillis(100))
        .ignoreExceptions().untilAsserted(() -> {
          last.clear();
          for (String name : expected) {
            last.put(name, node(name).status());
          }
          Set<Long> epochs = new TreeSet<>();
          for (JsonObject s : last.values()) {
            assertThat(s.getBoolean("ready")).as("%s ready", s.getString("node")).isTrue();
            assertThat(dataMembers(s)).as("data members seen by %s", s.getString("node"))
                .isEqualTo(expected);
            // The member list changes before the table of the new members is agreed on.
            assertThat(new TreeSet<>(primaries(s))).as("primaries of %s's table",
                s.getString("node")).isEqualTo(expected);
            epochs.add(s.getLong("epoch"));
          }
          assertThat(epochs).as("epochs").hasSize(1);
        });
    return Map.copyOf(last);
  }

  /**
   * Waits until each of {@code names} holds {@code partitions} replicas, every one active with
   * three members (with three replicas on three data nodes, every node holds every partition).
   */
  public void awaitGroups(Collection<String> names, int partitions, Duration atMost) {
    await("every partition active on three members").atMost(atMost)
        .pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() -> {
          for (String n : names) {
            JsonObject status = node(n).status();
            assertThat(status.getJsonArray("partitions")).as("partitions of %s", n)
                .hasSize(partitions);
            for (Object o : status.getJsonArray("partitions")) {
              JsonObject p = (JsonObject) o;
              assertThat(p.getString("phase")).as("%s on %s", p, n).isEqualTo("active");
              assertThat(p.getJsonArray("members")).as("%s on %s", p, n).hasSize(3);
            }
          }
        });
  }

  /** The names of the data members in a {@code /status} document. */
  public static Set<String> dataMembers(JsonObject status) {
    Set<String> names = new TreeSet<>();
    for (Object o : status.getJsonArray("members")) {
      JsonObject m = (JsonObject) o;
      if ("data".equals(m.getString("role"))) {
        names.add(m.getString("name"));
      }
    }
    return names;
  }

  /** The primary of each partition, by index, from a {@code /status} document. */
  public static List<String> primaries(JsonObject status) {
    JsonArray a = status.getJsonObject("ring").getJsonArray("primaries");
    List<String> out = new ArrayList<>(a.size());
    for (int i = 0; i < a.size(); i++) {
      out.add(a.getString(i));
    }
    return out;
  }

  /** Kills every node still running, and deletes the data directories (logs stay). */
  @Override
  public void close() {
    for (NodeProcess n : nodes.values()) {
      n.destroy();
    }
    try {
      InJvmCluster.deleteTree(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
