package io.keel.nemesis;

import static org.assertj.core.api.Assertions.assertThat;

import io.keel.harness.Iptables;
import io.keel.harness.NetNemesis;
import io.keel.harness.ProcessCluster;
import io.keel.harness.SkewedClockMain;
import java.nio.file.Path;
import java.util.ArrayList;
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
    this(logDir, seed, List.of());
  }

  /** The cluster, each node started with {@code nodeArgs} added to its command line. */
  NemesisCluster(Path logDir, long seed, List<String> nodeArgs) {
    String missing = Iptables.unavailableReason();
    assertThat(missing).as("iptables, which the nemesis needs (apt-get install -y iptables)")
        .isNull();
    List<String> args = new ArrayList<>(List.of("--partitions", Integer.toString(PARTITIONS)));
    args.addAll(nodeArgs);
    cluster = ProcessCluster.onDistinctAddresses(logDir, NODES.size(),
        args.toArray(String[]::new));
    Iptables chain = null;
    try {
      chain = new Iptables();
      for (String n : NODES) {
        // Each lease clock follows a file of its own: the clock nemesis skews it.
        cluster.node(n).mainClass(SkewedClockMain.class, List.of("-D"
            + SkewedClockMain.OFFSET_FILE + "=" + NemesisEnv.clockFile(cluster, n)));
      }
      cluster.startAll(NODES.toArray(String[]::new));
      cluster.awaitAgreement(NODES, NemesisRun.SETTLE);
      cluster.awaitGroups(NODES, PARTITIONS, NemesisRun.SETTLE);
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

  @Override
  public void close() {
    try {
      iptables.close();
    } finally {
      cluster.close();
    }
  }
}
