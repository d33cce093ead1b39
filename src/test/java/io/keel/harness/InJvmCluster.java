package io.keel.harness;

import io.keel.Keel;
import io.keel.KeelOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Several Keel nodes, each a clustered Vert.x on its own embedded Hazelcast, inside the test
 * JVM: the fast way to test clustering. Each cluster has a random name, its nodes free ports on
 * 127.0.0.1 and temporary data directories; {@link #close()} stops every node and deletes the
 * directories.
 */
public final class InJvmCluster implements AutoCloseable {
  private static final long START_TIMEOUT_S = 60;

  private final String clusterName = "t-" + UUID.randomUUID().toString().substring(0, 8);
  private final List<Integer> clusterPorts = new ArrayList<>();
  private final List<Keel> nodes = new ArrayList<>();
  private final List<Path> dirs = new ArrayList<>();
  private final int capacity;

  /** A cluster that can hold up to {@code capacity} nodes (their ports are reserved now). */
  public InJvmCluster(int capacity) {
    this.capacity = capacity;
    for (int i = 0; i < capacity; i++) {
      clusterPorts.add(FreePorts.next());
    }
  }

  /** This cluster's Hazelcast cluster name. */
  public String clusterName() {
    return clusterName;
  }

  /** The join list: every reserved member port. */
  public List<String> joinList() {
    List<String> join = new ArrayList<>();
    clusterPorts.forEach(p -> join.add("127.0.0.1:" + p));
    return join;
  }

  /**
   * Options for the next node: its name, a reserved cluster port, a fresh data directory, HTTP
   * on a free port, and this cluster's name and join list.
   */
  public KeelOptions nextOptions(String name) {
    if (dirs.size() >= capacity) {
      throw new IllegalStateException("the cluster was made for " + capacity + " nodes");
    }
    Path dir;
    try {
      dir = Files.createTempDirectory("keel-" + name + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int index = dirs.size();
    dirs.add(dir);
    return new KeelOptions().setName(name).setDataDir(dir.toString())
        .setHttpPort(FreePorts.next()).setClusterPort(clusterPorts.get(index))
        .setClusterName(clusterName).setJoin(joinList()).setReconcileIntervalMs(500);
  }

  /** Starts a data node named {@code name}. */
  public Keel start(String name) {
    return start(name, UnaryOperator.identity());
  }

  /** Starts a node named {@code name} with options changed by {@code tweak}. */
  public Keel start(String name, UnaryOperator<KeelOptions> tweak) {
    return startWith(tweak.apply(nextOptions(name)));
  }

  /** Starts a node with exactly these options. */
  public Keel startWith(KeelOptions options) {
    return startWith(options, Clock.systemUTC());
  }

  /** Starts a node with exactly these options, measuring its lock leases by {@code clock}. */
  public Keel startWith(KeelOptions options, Clock leaseClock) {
    try {
      Keel keel = Keel.start(options, leaseClock).await(START_TIMEOUT_S, TimeUnit.SECONDS);
      nodes.add(keel);
      return keel;
    } catch (Exception e) {
      throw new IllegalStateException("node " + options.getName() + " did not start", e);
    }
  }

  /** The running nodes, in start order. */
  public List<Keel> nodes() {
    return List.copyOf(nodes);
  }

  /** The running node named {@code name}. */
  public Keel node(String name) {
    return nodes.stream().filter(k -> k.nodeName().equals(name)).findFirst().orElseThrow();
  }

  /**
   * Partition {@code p}'s primary under the first running node's table, when that node is
   * running and leads the partition now; otherwise null. Leaders hand a partition to its primary
   * only once their node's membership changes have quieted, so tests that depend on where
   * leadership sits wait for this.
   */
  public Keel primaryLeading(int p) {
    if (nodes.isEmpty()) {
      return null;
    }
    String primary = nodes.get(0).routing().table().primary(p);
    return nodes.stream().filter(k -> k.nodeName().equals(primary) && k.groups() != null
        && k.groups().leads(p)).findFirst().orElse(null);
  }

  /** Stops one node gracefully (it leaves the cluster). */
  public void stop(Keel node) throws Exception {
    nodes.remove(node);
    node.close().await(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    Exception first = null;
    for (Keel k : List.copyOf(nodes)) {
      try {
        stop(k);
      } catch (Exception e) {
        first = first == null ? e : first;
      }
    }
    for (Path d : dirs) {
      deleteTree(d);
    }
    if (first != null) {
      throw first;
    }
  }

  /**
   * Waits (90 s at most) until every node in {@code nodes} holds {@code partitions} replicas,
   * all active: with as many nodes as replicas, every node holds every partition.
   */
  public static void awaitActive(int partitions, Keel... nodes) {
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(90)).until(() ->
        java.util.Arrays.stream(nodes).allMatch(k -> k.groups() != null
            && k.groups().partitions().size() == partitions && k.groups().allActive()));
  }

  /** Deletes {@code root} and everything below it, if it exists. */
  public static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
