package io.keel.nemesis;

import io.keel.KeelOptions;
import io.keel.check.MutexCheck;
import io.keel.cluster.ClusterSetup;
import io.keel.harness.FreePorts;
import io.keel.harness.Iptables;
import io.keel.nemesis.History.Outcome;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Lock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control: the mutex workload through Vert.x's own clustered lock
 * ({@code SharedData.getLockWithTimeout} on vertx-hazelcast), on three plain clustered Vert.x
 * members in this JVM, each on its own loopback address (127.0.0.21–23), under the partition
 * nemesis. It has no lease and no token, so the check is {@link MutexCheck} with tokens this
 * workload numbers itself, plus lost increments of an unfenced counter. It is expected to show
 * violations: proof that the nemesis bites.
 */
final class ControlMutex implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlMutex.class);
  static final List<String> HOSTS = List.of("127.0.0.21", "127.0.0.22", "127.0.0.23");
  private static final String LOCK = "control-mutex";

  private final List<Vertx> members = new ArrayList<>();
  private final ClientThreads threads = new ClientThreads();
  private final History history = new History();
  private final MutexCheck check = new MutexCheck();
  private final AtomicLong tokens = new AtomicLong();
  private long counter;
  private long increments;

  /** Starts the three members (a cluster of their own, with a random name). */
  ControlMutex() throws Exception {
    String name = "control-" + UUID.randomUUID().toString().substring(0, 8);
    List<Integer> ports = new ArrayList<>();
    List<String> join = new ArrayList<>();
    for (String host : HOSTS) {
      int port = FreePorts.next(host);
      ports.add(port);
      join.add(host + ":" + port);
    }
    try {
      for (int i = 0; i < HOSTS.size(); i++) {
        KeelOptions o = new KeelOptions().setName("c" + (i + 1)).setClusterHost(HOSTS.get(i))
            .setClusterPort(ports.get(i)).setClusterName(name).setJoin(join);
        members.add(Vertx.builder().with(ClusterSetup.vertxOptions(o, o.getName()))
            .withClusterManager(ClusterSetup.clusterManager(o)).buildClustered()
            .await(60, TimeUnit.SECONDS));
      }
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  /**
   * Runs one loop per member for about {@code total} while one member after another is cut off
   * from the others for {@code faultFor}, with {@code calmFor} between; returns the result.
   */
  NemesisRun.WorkloadResult run(Iptables iptables, Duration total, Duration faultFor,
      Duration calmFor) throws Exception {
    for (int i = 0; i < members.size(); i++) {
      Vertx vertx = members.get(i);
      // One loop per member: Vert.x's lock also grants twice inside one JVM, with no fault at
      // all; one loop each leaves only what the nemesis causes between members.
      String client = "c" + (i + 1) + "-0";
      long[] seq = {0};
      threads.start(client, () -> once(vertx, client, client + "-" + (++seq[0])));
    }
    long end = System.nanoTime() + total.toNanos();
    String beforeFaults;
    try {
      NemesisRun.pause(calmFor); // first without faults: what the lock does on a healthy network
      synchronized (this) {
        beforeFaults = String.format(Locale.ROOT, "before the first fault (%d s): %,d increments,"
            + " %,d lost", calmFor.toSeconds(), increments, increments - counter);
      }
      for (int i = 0; System.nanoTime() < end; i++) {
        String cut = HOSTS.get(i % HOSTS.size());
        for (String other : HOSTS) {
          if (!other.equals(cut)) {
            iptables.cut(cut, other);
          }
        }
        history.faultStarted("isolate", List.of(cut), System.nanoTime());
        NemesisRun.pause(faultFor);
        iptables.heal();
        history.faultEnded(System.nanoTime());
        NemesisRun.pause(calmFor);
      }
    } finally {
      iptables.heal();
      threads.stop();
    }
    List<String> violations = new ArrayList<>(threads.crashes());
    violations.addAll(check.violations());
    synchronized (this) {
      if (counter != increments) {
        violations.add("the counter is " + counter + " after " + increments + " increments: "
            + (increments - counter) + " lost");
      }
    }
    long ops = history.operations().size();
    long ok = history.operations().stream().filter(o -> o.outcome() == Outcome.OK).count();
    String summary = String.format(Locale.ROOT, "%,d grants, %,d increments, counter %,d (%s)",
        check.holds(), increments, counter, beforeFaults);
    log.info("control (Vert.x SharedData lock): {}; {} violations", summary, violations.size());
    return new NemesisRun.WorkloadResult("control: Vert.x SharedData lock", summary, ops, ok,
        violations);
  }

  private void once(Vertx vertx, String client, String request) {
    long start = System.nanoTime();
    Lock lock;
    try {
      lock = vertx.sharedData().getLockWithTimeout(LOCK, 2_000).await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      history.operation("control", client, start, Outcome.FAIL);
      return;
    }
    long granted = System.nanoTime();
    history.operation("control", client, start, Outcome.OK);
    long token = tokens.incrementAndGet();
    long read;
    synchronized (this) {
      read = counter;
    }
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // as the fenced mutex does
    synchronized (this) {
      counter = read + 1;
      increments++;
    }
    long released = System.nanoTime();
    lock.release();
    check.hold(new MutexCheck.Hold(request, token, start, granted, MutexCheck.NO_LEASE, -1,
        released, Long.MAX_VALUE));
  }

  @Override
  public void close() {
    for (Vertx v : members) {
      try {
        v.close().await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.warn("a control member did not close: {}", e.toString());
      }
    }
  }
}
