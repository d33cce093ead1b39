package io.keel.bench;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.Partition;
import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.cluster.ClusterSetup;
import io.keel.harness.FreePorts;
import io.keel.harness.InJvmCluster;
import io.vertx.core.Vertx;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A client-role Keel node on a clustered Vert.x built here (as {@code InProcessClient}, but
 * keeping the {@link HazelcastClusterManager}), so that a benchmark can see which Hazelcast
 * member owns a key of Vert.x's own lock map ({@code __vertx.map.lock}).
 *
 * <p>Each client is a full Hazelcast member: it owns a share of Hazelcast's partitions, so some
 * Vert.x locks would be served inside the benchmark JVM without a network hop. Benchmarks use
 * {@link #remote} to keep only names whose partition another JVM owns.
 */
final class BenchClient implements AutoCloseable {
  private static final long START_TIMEOUT_S = 120;
  private static final long CLOSE_TIMEOUT_S = 30;

  private final String name;
  private final Keel keel;
  private final Vertx vertx;
  private final HazelcastClusterManager manager;
  private final Path dataDir;

  private BenchClient(String name, Keel keel, Vertx vertx, HazelcastClusterManager manager,
      Path dataDir) {
    this.name = name;
    this.keel = keel;
    this.vertx = vertx;
    this.manager = manager;
    this.dataDir = dataDir;
  }

  /** Starts client {@code name} on a free port; {@code join} lists the data nodes' ports. */
  static BenchClient join(String clusterName, List<String> join, String name) throws Exception {
    return join(clusterName, join, name, Files.createTempDirectory("keel-" + name + "-"));
  }

  /**
   * As {@link #join(String, List, String)}, as a Hazelcast <em>lite</em> member: it owns no
   * partition and no backup of any Hazelcast map, so every map operation it makes (Vert.x's
   * {@code AsyncMap} included) is served by the data nodes, as Keel's are.
   */
  static BenchClient joinLite(String clusterName, List<String> join, String name)
      throws Exception {
    return join(clusterName, join, name, Files.createTempDirectory("keel-" + name + "-"), true);
  }

  /** As {@link #join(String, List, String)}, in data directory {@code dir} (deleted by close). */
  static BenchClient join(String clusterName, List<String> join, String name, Path dir)
      throws Exception {
    return join(clusterName, join, name, dir, false);
  }

  private static BenchClient join(String clusterName, List<String> join, String name, Path dir,
      boolean lite) throws Exception {
    int port = FreePorts.next();
    List<String> all = new ArrayList<>(join);
    all.add("127.0.0.1:" + port);
    KeelOptions options = Keel.resolveName(new KeelOptions().setRole(KeelOptions.Role.CLIENT)
        .setName(name).setDataDir(dir.toString()).setHttpPort(-1)
        .setClusterHost("127.0.0.1").setClusterPort(port).setClusterName(clusterName)
        .setJoin(all));
    HazelcastClusterManager manager = new HazelcastClusterManager(
        ClusterSetup.hazelcastConfig(options).setLiteMember(lite));
    Vertx vertx = Vertx.builder().with(Keel.vertxOptions(options)).withClusterManager(manager)
        .buildClustered().await(START_TIMEOUT_S, TimeUnit.SECONDS);
    try {
      Keel keel = Keel.deploy(vertx, manager, options).await(START_TIMEOUT_S, TimeUnit.SECONDS);
      return new BenchClient(name, keel, vertx, manager, dir);
    } catch (Exception e) {
      vertx.close().await(CLOSE_TIMEOUT_S, TimeUnit.SECONDS);
      InJvmCluster.deleteTree(dir);
      throw e;
    }
  }

  String name() {
    return name;
  }

  Keel keel() {
    return keel;
  }

  Vertx vertx() {
    return vertx;
  }

  /** This client's Hazelcast member id. */
  UUID memberId() {
    return hazelcast().getCluster().getLocalMember().getUuid();
  }

  /**
   * Whether Vert.x's lock {@code name} lives in a Hazelcast partition owned by a member other
   * than {@code local} (the members of the benchmark JVM): its lock operations then cross the
   * network, as Keel's always do.
   */
  boolean remote(String lockName, Set<UUID> local) {
    Partition p = hazelcast().getPartitionService().getPartition(lockName);
    Member owner = p.getOwner();
    return owner != null && !local.contains(owner.getUuid());
  }

  /** This client's Hazelcast member. */
  HazelcastInstance hazelcast() {
    return manager.getHazelcastInstance();
  }

  /** Leaves the cluster and deletes the data directory. */
  @Override
  public void close() throws Exception {
    try {
      keel.close().await(CLOSE_TIMEOUT_S, TimeUnit.SECONDS);
      vertx.close().await(CLOSE_TIMEOUT_S, TimeUnit.SECONDS);
    } finally {
      try {
        InJvmCluster.deleteTree(dataDir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
