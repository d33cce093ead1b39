package io.keel.recovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.harness.InJvmCluster;
import io.microraft.RaftConfig;
import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.statemachine.StateMachine;
import io.vertx.core.Context;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Real MicroRaft groups talking over the clustered event bus of an in-JVM Keel cluster: the
 * transport, the codec and the context executor together.
 */
class BusTransportIT {
  private static final int GROUPS = 20;
  private static final Object NEW_TERM = "new-term";
  private static final RaftConfig CONFIG = RaftConfig.newBuilder()
      .setLeaderElectionTimeoutMillis(500).setLeaderHeartbeatPeriodSecs(1)
      .setLeaderHeartbeatTimeoutSecs(3).build();

  /** A sum of the longs replicated to it. */
  static final class Sum implements StateMachine {
    volatile long sum;
    volatile long applied;

    @Override
    public Object runOperation(long commitIndex, Object operation) {
      if (operation instanceof byte[]) {
        sum += ByteBuffer.wrap((byte[]) operation).getLong();
        applied++;
      }
      return sum;
    }

    @Override
    public void takeSnapshot(long commitIndex, Consumer<Object> chunks) {
      chunks.accept(ByteBuffer.allocate(8).putLong(sum).array());
    }

    @Override
    public void installSnapshot(long commitIndex, List<Object> chunks) {
      sum = chunks.isEmpty() ? 0 : ByteBuffer.wrap((byte[]) chunks.get(0)).getLong();
    }

    @Override
    public Object getNewTermOperation() {
      return NEW_TERM;
    }
  }

  /** One node's groups, transport and state machines. */
  static final class Replica {
    final Keel keel;
    final BusTransport transport;
    final Map<Object, RaftNode> groups = new HashMap<>();
    final Map<Object, Sum> sums = new HashMap<>();

    Replica(Keel keel, List<RaftEndpoint> members) throws Exception {
      this.keel = keel;
      Context ctx = keel.vertx().getOrCreateContext();
      ContextExecutor executor = new ContextExecutor(ctx);
      RaftCodec codec = new RaftCodec(new DefaultRaftModelFactory(), NodeEndpoint::new,
          Map.of((byte) 1, NEW_TERM));
      transport = new BusTransport(ctx, member(keel), codec, name -> keel.routing()
          .members().stream().anyMatch(m -> member(m.name()).equals(name)));
      for (int g = 0; g < GROUPS; g++) {
        Sum sum = new Sum();
        RaftNode node = RaftNode.newBuilder().setGroupId(g)
            .setLocalEndpoint(new NodeEndpoint(member(keel))).setInitialGroupMembers(members)
            .setConfig(CONFIG).setExecutor(executor).setTransport(transport)
            .setStateMachine(sum).build();
        groups.put(g, node);
        sums.put(g, sum);
      }
      transport.listen(groups::get).await(10, TimeUnit.SECONDS);
      groups.values().forEach(RaftNode::start);
    }

    void stop() {
      groups.values().forEach(RaftNode::terminate);
    }
  }

  /**
   * The transport name of this test's groups on a node: the node's own partition groups already
   * listen under the node's name.
   */
  private static String member(Keel keel) {
    return member(keel.nodeName());
  }

  private static String member(String node) {
    return node + "-bt";
  }

  private static byte[] value(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  @Test
  void groups_elect_leaders_replicate_and_survive_a_lost_member() throws Exception {
    try (InJvmCluster cluster = new InJvmCluster(3)) {
      List<Keel> nodes = List.of(cluster.start("a", o -> o.setPartitions(8)),
          cluster.start("b", o -> o.setPartitions(8)), cluster.start("c", o -> o.setPartitions(8)));
      await().atMost(Duration.ofSeconds(30)).until(() ->
          nodes.stream().allMatch(k -> k.routing().members().size() == 3));
      List<RaftEndpoint> members = nodes.stream().map(k -> new NodeEndpoint(member(k)))
          .collect(Collectors.toList());
      List<Replica> replicas = new ArrayList<>();
      for (Keel k : nodes) {
        replicas.add(new Replica(k, members));
      }
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> leaders(replicas).size() == GROUPS);
        // 10 writes to every group through its leader; every replica applies them all.
        for (int i = 1; i <= 10; i++) {
          for (Map.Entry<Object, RaftNode> e : leaders(replicas).entrySet()) {
            e.getValue().replicate(value(i)).get(10, TimeUnit.SECONDS);
          }
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
          for (Replica r : replicas) {
            for (Sum s : r.sums.values()) {
              assertThat(s.sum).isEqualTo(55);
            }
          }
        });
        // Idle, the groups' heartbeats fire together and leave as one batch per destination.
        long messages0 = sent(replicas, false);
        long batches0 = sent(replicas, true);
        await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4))
            .until(() -> sent(replicas, false) - messages0 > 100);
        long messages = sent(replicas, false) - messages0;
        long batches = sent(replicas, true) - batches0;
        org.slf4j.LoggerFactory.getLogger(BusTransportIT.class).info(
            "idle for 3 s: {} Raft messages of {} groups left in {} event-bus messages",
            messages, GROUPS, batches);
        assertThat(batches).as("batches for %d messages", messages).isLessThan(messages / 4);

        // Lose the member that leads group 0: a new leader takes over and writes commit.
        Keel victim = nodes.stream().filter(k -> member(k).equals(
            String.valueOf(leaders(replicas).get(0).getLocalEndpoint().getId()))).findFirst()
            .orElseThrow();
        Replica victimReplica = replicas.stream().filter(r -> r.keel == victim).findFirst()
            .orElseThrow();
        victimReplica.stop();
        replicas.remove(victimReplica);
        cluster.stop(victim);
        await().atMost(Duration.ofSeconds(30)).until(() -> {
          RaftNode leader = leaders(replicas).get(0);
          return leader != null;
        });
        leaders(replicas).get(0).replicate(value(45)).get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
          for (Replica r : replicas) {
            assertThat(r.sums.get(0).sum).isEqualTo(100);
          }
        });
      } finally {
        replicas.forEach(Replica::stop);
      }
    }
  }

  private static long sent(List<Replica> replicas, boolean batches) {
    return replicas.stream().mapToLong(r -> batches ? r.transport.batchesSent()
        : r.transport.messagesSent()).sum();
  }

  /** The local leader of each group, among the replicas still running. */
  private static Map<Object, RaftNode> leaders(List<Replica> replicas) {
    Map<Object, RaftNode> out = new HashMap<>();
    for (Replica r : replicas) {
      for (Map.Entry<Object, RaftNode> e : r.groups.entrySet()) {
        RaftEndpoint leader = e.getValue().getTerm().getLeaderEndpoint();
        if (leader != null && leader.equals(e.getValue().getLocalEndpoint())) {
          out.put(e.getKey(), e.getValue());
        }
      }
    }
    return out;
  }
}
