package io.keel.nemesis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.harness.Iptables;
import io.keel.harness.NetNemesis;
import io.keel.harness.ProcessCluster;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Three data nodes on distinct loopback addresses (127.0.0.11–13) with their own iptables
 * chain, ready for a nemesis run: every partition active with three members. Closing it kills
 * the nodes and removes the chain.
 */
final class NemesisCluster implements AutoCloseable {
  static final List<String> NODES = List.of("n1", "n2", "n3");
  static final int PARTITIONS = 16;

  final ProcessCluster cluster;
  final Iptables iptables;
  final NemesisEnv env;

  NemesisCluster(Path logDir, long seed) {
    String missing = Iptables.unavailableReason();
    assertThat(missing).as("iptables, which the nemesis needs (apt-get install -y iptables)")
        .isNull();
    cluster = ProcessCluster.onDistinctAddresses(logDir, NODES.size(), "--partitions",
        Integer.toString(PARTITIONS));
    Iptables chain = null;
    try {
      chain = new Iptables();
      cluster.startAll(NODES.toArray(String[]::new));
      cluster.awaitAgreement(NODES, NemesisRun.SETTLE);
      awaitGroups();
    } catch (RuntimeException | Error e) {
      if (chain != null) {
        chain.close();
      }
      cluster.close();
      throw e;
    }
    iptables = chain;
    env = new NemesisEnv(cluster, new NetNemesis(cluster, iptables), NODES, seed);
  }

  /** Waits until every partition on every node is active with three members. */
  private void awaitGroups() {
    await("every replica active").atMost(NemesisRun.SETTLE).pollInterval(Duration.ofMillis(500))
        .ignoreExceptions().untilAsserted(() -> {
          int replicas = 0;
          for (String n : NODES) {
            for (Object o : cluster.node(n).status().getJsonArray("partitions")) {
              JsonObject p = (JsonObject) o;
              assertThat(p.getString("phase")).as("%s on %s", p, n).isEqualTo("active");
              assertThat(p.getJsonArray("members")).as("%s on %s", p, n).hasSize(3);
              replicas++;
            }
          }
          assertThat(replicas).isEqualTo(NODES.size() * PARTITIONS);
        });
  }

  @Override
  public void close() {
    try {
      iptables.close();
    } finally {
      cluster.close();
    }
  }
}
