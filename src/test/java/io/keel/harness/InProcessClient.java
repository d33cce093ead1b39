package io.keel.harness;

import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.routing.PartitionTable;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A client-role Keel node inside the test JVM that joins a {@link ProcessCluster}: it owns no
 * partitions, routes requests to the cluster's data nodes and shows its own partition table.
 * {@link #close()} leaves the cluster and deletes its temporary data directory.
 */
public final class InProcessClient implements AutoCloseable {
  private static final long START_TIMEOUT_S = 90;
  private static final long CLOSE_TIMEOUT_S = 30;

  private final Keel keel;
  private final Path dataDir;

  private InProcessClient(Keel keel, Path dataDir) {
    this.keel = keel;
    this.dataDir = dataDir;
  }

  /**
   * Starts a client named {@code name} on a free member port, joining {@code cluster} (its join
   * list plus its own port), without HTTP; returns once it has a partition table.
   */
  public static InProcessClient join(ProcessCluster cluster, String name) {
    Path dir;
    try {
      dir = Files.createTempDirectory("keel-" + name + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int port = FreePorts.next();
    List<String> join = new ArrayList<>(cluster.joinList());
    join.add("127.0.0.1:" + port);
    KeelOptions options = new KeelOptions().setRole(KeelOptions.Role.CLIENT).setName(name)
        .setDataDir(dir.toString()).setHttpPort(-1).setClusterHost("127.0.0.1")
        .setClusterPort(port).setClusterName(cluster.clusterName()).setJoin(join);
    if (cluster.partitions() != null) {
      options.setPartitions(cluster.partitions());
    }
    try {
      return new InProcessClient(Keel.start(options).await(START_TIMEOUT_S, TimeUnit.SECONDS),
          dir);
    } catch (Exception e) {
      deleteDir(dir);
      throw new IllegalStateException("client " + name + " did not join " + cluster.clusterName(),
          e);
    }
  }

  /** The running client node. */
  public Keel keel() {
    return keel;
  }

  /** The client's current partition table. */
  public PartitionTable table() {
    return keel.routing().table();
  }

  /** Asks {@link Keel#PING_SERVICE} for {@code key}: {@code {node, key, partition, epoch}}. */
  public Future<JsonObject> ping(String key) {
    return keel.routing().request(Keel.PING_SERVICE, key, new JsonObject());
  }

  /** Leaves the cluster and deletes the data directory. */
  @Override
  public void close() throws Exception {
    try {
      keel.close().await(CLOSE_TIMEOUT_S, TimeUnit.SECONDS);
    } finally {
      deleteDir(dataDir);
    }
  }

  private static void deleteDir(Path dir) {
    try {
      InJvmCluster.deleteTree(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
