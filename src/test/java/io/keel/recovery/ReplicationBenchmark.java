package io.keel.recovery;

import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.harness.InJvmCluster;
import io.microraft.RaftConfig;
import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.microraft.statemachine.StateMachine;
import io.vertx.core.Context;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * Replicated writes through one 3-member Raft group (MicroRaft on Keel's event-bus transport,
 * each member persisting through its own write-ahead log with group commit), against the floor
 * of a plain event-bus request/reply between two of the same nodes, measured in the same run.
 * Two groups on the same members compare a leader that holds its appends until its own copy is
 * durable (as a data node does) with one that sends them at once ({@link DurableSends}). Three
 * clustered Vert.x nodes in this JVM talk over loopback TCP. Prints a markdown table.
 *
 * <p>Arguments: {@code seconds=N} per case (default 5).
 */
public final class ReplicationBenchmark {
  private static final int PAYLOAD_BYTES = 100;
  private static final RaftConfig CONFIG = RaftConfig.newBuilder()
      .setLeaderElectionTimeoutMillis(1000).setLeaderHeartbeatPeriodSecs(1)
      .setLeaderHeartbeatTimeoutSecs(5).setTransferSnapshotsFromFollowersEnabled(false)
      .setCommitCountToTakeSnapshot(1_000_000).build();

  private ReplicationBenchmark() {}

  /** A state machine that only counts. */
  static final class Count implements StateMachine {
    long applied;

    @Override
    public Object runOperation(long commitIndex, Object operation) {
      return ++applied;
    }

    @Override
    public void takeSnapshot(long commitIndex, Consumer<Object> chunks) {
      chunks.accept(new byte[0]);
    }

    @Override
    public void installSnapshot(long commitIndex, List<Object> chunks) {}

    @Override
    public Object getNewTermOperation() {
      return PartitionStateMachineAdapter.NewTermOperation.INSTANCE;
    }
  }

  /** A verticle whose only use is its event-loop context, where the group runs. */
  static final class GroupHome extends VerticleBase {
    Context home() {
      return context;
    }
  }

  public static void main(String[] args) throws Exception {
    long seconds = 5;
    for (String a : args) {
      if (a.startsWith("seconds=")) {
        seconds = Long.parseLong(a.substring(8));
      }
    }
    try (InJvmCluster cluster = new InJvmCluster(3)) {
      // Client-role nodes: a data node's own groups would share the Raft address with this one.
      UnaryOperator<KeelOptions> client =
          o -> o.setRole(KeelOptions.Role.CLIENT).setEventLoops(1);
      List<Keel> nodes = List.of(cluster.start("a", client), cluster.start("b", client),
          cluster.start("c", client));
      List<RaftEndpoint> members = nodes.stream().map(k -> new NodeEndpoint(k.nodeName()))
          .collect(Collectors.toList());
      // Group 0 holds a leader's appends until its own copy is durable, as a data node does;
      // group 1 sends them at once with a commit index its disk holds (DurableSends).
      List<List<RaftNode>> groups = List.of(new ArrayList<>(), new ArrayList<>());
      List<WriteAheadLog> logs = new ArrayList<>();
      for (Keel k : nodes) {
        GroupHome home = new GroupHome();
        k.vertx().deployVerticle(home).await(10, TimeUnit.SECONDS);
        Path dir = Files.createTempDirectory("keel-bench-wal-");
        WriteAheadLog wal = WriteAheadLog.open(dir, new WalOptions());
        logs.add(wal);
        DefaultRaftModelFactory factory = new DefaultRaftModelFactory();
        RaftCodec codec = RaftCodec.forKeel(factory);
        // As in a node: the store never waits, the messages wait for the log's barrier.
        Context ctx = home.home();
        BusTransport transport = new BusTransport(ctx, k.nodeName(), codec, n -> true);
        Executor owner = task -> ctx.runOnContext(v -> task.run());
        List<RaftNode> local = new ArrayList<>();
        for (int g = 0; g < 2; g++) {
          DurableSends sends = new DurableSends(transport, wal::barrier, owner,
              g == 0 ? null : factory);
          RaftNode node = RaftNode.newBuilder().setGroupId(g)
              .setLocalEndpoint(new NodeEndpoint(k.nodeName())).setInitialGroupMembers(members)
              .setConfig(CONFIG).setExecutor(new ContextExecutor(ctx))
              .setTransport(sends).setStateMachine(new Count())
              .setStore(RaftLogStore.fresh(wal, codec, g)).build();
          local.add(node);
          groups.get(g).add(node);
        }
        transport.listen(id -> local.get((Integer) id)).await(10, TimeUnit.SECONDS);
      }
      groups.forEach(g -> g.forEach(RaftNode::start));
      List<Supplier<CompletableFuture<?>>> writes = new ArrayList<>();
      Keel leaderKeel = null;
      for (List<RaftNode> group : groups) {
        RaftNode leader = awaitLeader(group);
        leaderKeel = nodes.get(group.indexOf(leader));
        WriteAheadLog leaderLog = logs.get(group.indexOf(leader));
        // Acknowledged as a node acknowledges: once the leader's own copy is durable too.
        writes.add(() -> leader.replicate(new byte[PAYLOAD_BYTES])
            .thenCompose(r -> leaderLog.barrier()));
      }
      Keel pinger = leaderKeel;
      Keel follower = nodes.get((nodes.indexOf(pinger) + 1) % 3);
      follower.vertx().eventBus().consumer("bench.echo", m -> m.reply(m.body()))
          .completion().await(10, TimeUnit.SECONDS);
      JsonObject echo = new JsonObject().put("p", new byte[PAYLOAD_BYTES]);
      DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(10_000);
      Supplier<CompletableFuture<?>> ping = () -> pinger.vertx().eventBus()
          .request("bench.echo", echo, delivery).toCompletionStage().toCompletableFuture();

      run("warm-up", writes.get(0), 16, 2);
      run("warm-up", writes.get(1), 16, 2);
      run("warm-up", ping, 16, 2);
      System.out.printf("# Replicated writes of %d B, 3-member group, %d s per case, 2 cores%n%n",
          PAYLOAD_BYTES, seconds);
      System.out.println("| case | in flight | ops/s | p50 µs | p99 µs |");
      System.out.println("|---|---|---|---|---|");
      for (int inFlight : new int[] {1, 64}) {
        System.out.println(run("event-bus request/reply (floor)", ping, inFlight, seconds));
        System.out.println(run("replicated write, appends wait for the leader's fsync",
            writes.get(0), inFlight, seconds));
        System.out.println(run("replicated write, appends leave at once (as on nodes)",
            writes.get(1), inFlight, seconds));
      }
      groups.forEach(g -> g.forEach(n -> n.terminate().join()));
      for (WriteAheadLog w : logs) {
        w.close();
      }
    }
  }

  private static RaftNode awaitLeader(List<RaftNode> group) throws InterruptedException {
    for (int i = 0; i < 300; i++) {
      for (RaftNode n : group) {
        if (n.getLocalEndpoint().equals(n.getTerm().getLeaderEndpoint())) {
          return n;
        }
      }
      Thread.sleep(100); // a benchmark's own wait, not a test's
    }
    StringBuilder why = new StringBuilder();
    for (RaftNode n : group) {
      why.append(' ').append(n.getLocalEndpoint()).append(':').append(n.getStatus())
          .append(" term ").append(n.getTerm().getTerm());
    }
    throw new IllegalStateException("no leader elected in 30 s:" + why);
  }

  /** Keeps {@code inFlight} operations outstanding for {@code seconds}; one table row. */
  private static String run(String name, Supplier<CompletableFuture<?>> op, int inFlight,
      long seconds) throws InterruptedException {
    Semaphore slots = new Semaphore(inFlight);
    long[] latencies = new long[4_000_000];
    AtomicInteger done = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    long start = System.nanoTime();
    while (System.nanoTime() < end) {
      slots.acquire();
      long t0 = System.nanoTime();
      op.get().whenComplete((r, t) -> {
        if (t != null) {
          failed.incrementAndGet();
        } else {
          int i = done.getAndIncrement();
          if (i < latencies.length) {
            latencies[i] = System.nanoTime() - t0;
          }
        }
        slots.release();
      });
    }
    slots.acquire(inFlight);
    double elapsed = (System.nanoTime() - start) / 1e9;
    int n = Math.min(done.get(), latencies.length);
    long[] sorted = Arrays.copyOf(latencies, n);
    Arrays.sort(sorted);
    long p50 = n == 0 ? 0 : sorted[n / 2] / 1000;
    long p99 = n == 0 ? 0 : sorted[Math.min(n - 1, (int) (n * 0.99))] / 1000;
    return String.format("| %s | %d | %,.0f | %,d | %,d |%s", name, inFlight, done.get() / elapsed,
        p50, p99, failed.get() == 0 ? "" : " (" + failed.get() + " failed)");
  }
}
