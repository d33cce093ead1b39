package io.keel.harness;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Network faults between the nodes of a {@link ProcessCluster#onDistinctAddresses} cluster,
 * made with {@link Iptables}: each node has an address of its own, so cutting a pair of
 * addresses cuts exactly the link between those two nodes (Hazelcast and the event bus alike).
 *
 * <p>Faults add up until {@link #heal()}. "Every other node" means every node the cluster has
 * defined so far ({@link ProcessCluster#names()}); a node defined later, or a process on
 * 127.0.0.1 such as an {@link InProcessClient}, is not cut from anything.
 *
 * <pre>{@code
 * try (ProcessCluster c = ProcessCluster.onDistinctAddresses(dir, 3);
 *     Iptables net = new Iptables()) {
 *   c.startAll("n1", "n2", "n3");
 *   NetNemesis nemesis = new NetNemesis(c, net);
 *   nemesis.isolate("n3");
 *   ...
 *   nemesis.heal();
 * }
 * }</pre>
 */
public final class NetNemesis {
  private static final Logger log = LoggerFactory.getLogger(NetNemesis.class);
  private final ProcessCluster cluster;
  private final Iptables net;

  /** Faults between the nodes of {@code cluster}, as rules in {@code net}'s chain. */
  public NetNemesis(ProcessCluster cluster, Iptables net) {
    this.cluster = cluster;
    this.net = net;
  }

  /** Cuts {@code node} off from every other node, both ways. */
  public void isolate(String node) {
    List<String> others = new ArrayList<>(cluster.names());
    others.remove(node);
    log.info("nemesis: isolating {} from {}", node, others);
    split(List.of(node), others);
  }

  /** Cuts every node of {@code sideA} off from every node of {@code sideB}, both ways. */
  public void split(Collection<String> sideA, Collection<String> sideB) {
    Set<String> both = new HashSet<>(sideA);
    both.retainAll(sideB);
    if (!both.isEmpty()) {
      throw new IllegalArgumentException("a node cannot be on both sides: " + both);
    }
    log.info("nemesis: splitting {} from {}", sideA, sideB);
    for (String a : sideA) {
      for (String b : sideB) {
        net.cut(address(a), address(b));
      }
    }
  }

  /**
   * {@code bridge} sees {@code a} and {@code b}, but they do not see each other: the link
   * between {@code a} and {@code b} is cut, both ways, and nothing else.
   */
  public void bridge(String bridge, String a, String b) {
    if (Set.of(bridge, a, b).size() != 3) {
      throw new IllegalArgumentException("bridge, a and b must be three nodes, were " + bridge
          + ", " + a + ", " + b);
    }
    log.info("nemesis: {} bridges {} and {}, which are cut from each other", bridge, a, b);
    net.cut(address(a), address(b));
  }

  /** Removes every fault: all links flow again. */
  public void heal() {
    log.info("nemesis: healing every link");
    net.heal();
  }

  /** The node's own address, which must not be shared with another node. */
  private String address(String node) {
    String host = cluster.host(node);
    for (String other : cluster.names()) {
      if (!other.equals(node) && cluster.host(other).equals(host)) {
        throw new IllegalStateException(node + " and " + other + " share the address " + host
            + ": make the cluster with ProcessCluster.onDistinctAddresses");
      }
    }
    return host;
  }
}
