package io.keel.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a network partition between real node JVMs must do, each node on a loopback address of
 * its own ({@link ProcessCluster#onDistinctAddresses}), cut with iptables ({@link NetNemesis}):
 * run by {@code NemesisIT} on its cluster before the nemesis run. Needs root and the
 * {@code iptables} and {@code ss} commands.
 */
public final class PartitionCheck {
  private static final Logger log = LoggerFactory.getLogger(PartitionCheck.class);
  private static final Duration SETTLE = Duration.ofSeconds(90);
  /**
   * config/cluster.xml's hazelcast.max.no.heartbeat.seconds (5 s) for the cut to be noticed,
   * then a new table agreed on by the survivors; generous for a loaded 2-core machine.
   */
  private static final Duration SPLIT_BOUND = Duration.ofSeconds(60);
  private static final List<String> THREE = List.of("n1", "n2", "n3");
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
  /** {@code ss -Htn} columns: state, recv-q, send-q, local address:port, peer address:port. */
  private static final Pattern SS_LINE =
      Pattern.compile("^(\\S+)\\s+\\d+\\s+\\d+\\s+(\\S+):(\\d+)\\s+(\\S+):(\\d+).*$");
  /** {@code ss -Htlnp}: a listening socket's local address and port, then its process id. */
  private static final Pattern SS_LISTEN =
      Pattern.compile("^\\S+\\s+\\d+\\s+\\d+\\s+(\\S+):(\\d+)\\s+\\S+.*pid=(\\d+),.*$");

  private PartitionCheck() {}

  /**
   * On {@code cluster} (nodes n1, n2, n3 on distinct addresses, agreed, every one of the
   * {@code partitions} active): the event-bus connections leave from the nodes' own addresses;
   * n3 cut off is dropped by n1 and n2, sees only itself and leads nothing; after the heal all
   * three agree on a newer epoch and every partition is active on three members again.
   */
  public static void isolateAndHeal(ProcessCluster cluster, NetNemesis nemesis,
      int partitions) {
    {
      assertThat(cluster.host("n1")).isEqualTo("127.0.0.11");
      assertEventBusConnectionsLeaveFromNodeAddresses(cluster);

      nemesis.isolate("n3");
      long cutAt = System.nanoTime();
      Map<String, JsonObject> majority = cluster.awaitAgreement(List.of("n1", "n2"),
          SPLIT_BOUND);
      log.info("n1 and n2 agreed without n3 on epoch {} after {} ms",
          majority.get("n1").getLong("epoch"), elapsedMs(cutAt));
      // Cut off, n3 sees only itself and makes its table of itself; Raft keeps it from
      // leading any partition, as it has no majority anywhere.
      await("n3 alone, leading nothing").atMost(SPLIT_BOUND).pollInterval(Duration.ofMillis(200))
          .ignoreExceptions().untilAsserted(() -> {
            JsonObject s = cluster.node("n3").status();
            assertThat(ProcessCluster.dataMembers(s)).containsExactly("n3");
            assertThat(new TreeSet<>(ProcessCluster.primaries(s))).containsExactly("n3");
            assertThat(raftRoles(s)).doesNotContainKey("leader");
          });
      JsonObject alone = cluster.node("n3").status();
      log.info("n3 cut off: ready {}, epoch {}, members {}, Raft roles {}",
          alone.getBoolean("ready"), alone.getLong("epoch"), ProcessCluster.dataMembers(alone),
          raftRoles(alone));

      nemesis.heal();
      long healedAt = System.nanoTime();
      Map<String, JsonObject> all = cluster.awaitAgreement(THREE, SETTLE);
      log.info("all three agreed again on epoch {} after {} ms", all.get("n1").getLong("epoch"),
          elapsedMs(healedAt));
      assertThat(all.get("n1").getLong("epoch"))
          .isGreaterThan(majority.get("n1").getLong("epoch"));
      cluster.awaitGroups(THREE, partitions, SETTLE);
      log.info("every partition active with three members again after {} ms",
          elapsedMs(healedAt));
      assertEventBusConnectionsLeaveFromNodeAddresses(cluster);
    }
  }

  /** How many of the node's partitions it holds in each Raft role. */
  private static Map<String, Integer> raftRoles(JsonObject status) {
    Map<String, Integer> roles = new TreeMap<>();
    for (Object o : status.getJsonArray("partitions")) {
      roles.merge(String.valueOf(((JsonObject) o).getString("raftRole")), 1, Integer::sum);
    }
    return roles;
  }

  /**
   * The established event-bus connections to each node come from exactly the other nodes' own
   * addresses (Raft traffic between the three is constant, so each node has dialled each
   * other): without Keel's source binding they would come from 127.0.0.1, and the nemesis
   * could not cut them.
   */
  private static void assertEventBusConnectionsLeaveFromNodeAddresses(ProcessCluster cluster) {
    Map<String, String> busAddresses = new TreeMap<>();
    for (String n : THREE) {
      busAddresses.put(n, cluster.host(n) + ":" + busPort(cluster, n));
    }
    log.info("event-bus addresses: {}", busAddresses);
    await("event-bus connections to every node").atMost(SETTLE)
        .pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
          Map<String, List<String>> sources = busSources(busAddresses);
          for (String n : THREE) {
            assertThat(sources.get(n)).as("connections to %s's event bus", n)
                .hasSizeGreaterThanOrEqualTo(2);
          }
        });
    Map<String, List<String>> sources = busSources(busAddresses);
    log.info("sources of the event-bus connections to each node: {}", sources);
    for (String n : THREE) {
      Set<String> others = new TreeSet<>();
      THREE.stream().filter(o -> !o.equals(n)).forEach(o -> others.add(cluster.host(o)));
      assertThat(new TreeSet<>(sources.get(n))).as("sources of connections to %s's event bus %s",
          n, busAddresses.get(n)).isEqualTo(others);
    }
  }

  /** The source address of each established connection to each node's event bus. */
  private static Map<String, List<String>> busSources(Map<String, String> busAddresses) {
    List<String[]> established = established();
    Map<String, List<String>> out = new TreeMap<>();
    for (Map.Entry<String, String> e : busAddresses.entrySet()) {
      List<String> sources = new ArrayList<>();
      for (String[] c : established) {
        if ((c[2] + ":" + c[3]).equals(e.getValue())) {
          sources.add(c[0]);
        }
      }
      out.put(e.getKey(), sources);
    }
    return out;
  }

  /**
   * The event-bus port of node {@code name}: the one port its process listens on, on its own
   * address, that is neither its member port nor its HTTP port.
   */
  private static int busPort(ProcessCluster cluster, String name) {
    NodeProcess node = cluster.node(name);
    String host = cluster.host(name);
    int memberPort = memberPort(cluster, name);
    List<Integer> ports = new ArrayList<>();
    for (String line : ss("-Htlnp")) {
      Matcher m = SS_LISTEN.matcher(line);
      if (m.matches() && ipv4(m.group(1)).equals(host)
          && Long.parseLong(m.group(3)) == node.pid()) {
        int port = Integer.parseInt(m.group(2));
        if (port != memberPort && port != node.httpPort()) {
          ports.add(port);
        }
      }
    }
    assertThat(ports).as("ports %s listens on besides its member and HTTP ports", name)
        .hasSize(1);
    return ports.get(0);
  }

  private static int memberPort(ProcessCluster cluster, String name) {
    String prefix = cluster.host(name) + ":";
    return cluster.joinList().stream().filter(a -> a.startsWith(prefix))
        .map(a -> Integer.valueOf(a.substring(prefix.length()))).findFirst().orElseThrow();
  }

  /** Established TCP connections: {local address, local port, peer address, peer port}. */
  private static List<String[]> established() {
    List<String[]> out = new ArrayList<>();
    for (String line : ss("-Htn")) {
      Matcher m = SS_LINE.matcher(line);
      if (m.matches() && m.group(1).equals("ESTAB")) {
        out.add(new String[] {ipv4(m.group(2)), m.group(3), ipv4(m.group(4)), m.group(5)});
      }
    }
    return out;
  }

  /**
   * An address as ss prints it, IPv4-mapped ones ({@code [::ffff:127.0.0.11]}, Java's IPv6
   * sockets) as plain IPv4.
   */
  private static String ipv4(String address) {
    String a = address.startsWith("[") && address.endsWith("]")
        ? address.substring(1, address.length() - 1) : address;
    return a.startsWith("::ffff:") ? a.substring("::ffff:".length()) : a;
  }

  private static List<String> ss(String... args) {
    List<String> cmd = new ArrayList<>(List.of("ss"));
    cmd.addAll(List.of(args));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
      }
      return out.lines().toList();
    } catch (IOException e) {
      throw new IllegalStateException(String.join(" ", cmd) + " could not run: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static long elapsedMs(long since) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
  }
}
