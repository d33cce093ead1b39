package io.keel.nemesis;

import io.keel.bus.Failure;
import io.keel.check.MutexCheck;
import io.keel.locks.Fence;
import io.keel.nemesis.History.Outcome;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.LoggerFactory;

/**
 * The fenced mutex: clients on every node acquire one lock over HTTP, read a counter kept by a
 * fenced resource in this JVM, write it plus one with their token after a pause, and release.
 * The check ({@link MutexCheck}): no token granted twice, accepted writes in token order, no two
 * holders at once unless the earlier one's lease had ended or its node was faulted, and the
 * counter equal to the writes accepted (no lost increment).
 *
 * <p>Short holds (2 ms between read and write) make many grants; {@link #longHolds} keeps each
 * hold near the whole lease, so that a lease the lock service ends early (its clock jumped)
 * ends inside a hold, where the overlap check sees it. With {@link #expectingOverlaps}, for a
 * clock fault beyond the promised margin, overlaps are reported in the summary, not as
 * violations; the fencing checks still must hold.
 */
final class MutexWorkload implements Workload {
  static final String LOCK = "nemesis-mutex";
  private static final long LEASE_MS = 3_000;
  private static final long WAIT_MS = 2_000;
  private static final int RETRIES_MAX = 3;

  private final int clientsPerNode;
  private final long holdMs;
  private final long waitMs;
  private final boolean overlapsExpected;
  private int overlaps;
  private final ClientThreads threads = new ClientThreads();
  private final Fence fence = new Fence();
  private final List<Grant> grants = new ArrayList<>();
  private final List<Long> accepted = new ArrayList<>();
  private long counter;
  private long refused;

  /** A grant as a client saw it, and the node it asked through. */
  private record Grant(String request, String node, long token, long invoked, long granted,
      long released) {}

  MutexWorkload(int clientsPerNode) {
    this(clientsPerNode, 2, WAIT_MS, false);
  }

  private MutexWorkload(int clientsPerNode, long holdMs, long waitMs, boolean overlapsExpected) {
    this.clientsPerNode = clientsPerNode;
    this.holdMs = holdMs;
    this.waitMs = waitMs;
    this.overlapsExpected = overlapsExpected;
  }

  /**
   * Holds of 2.8 s on a 3 s lease, waits of 4 s: a lease that ends 0.2 s early overlaps the
   * next holder with this one.
   */
  static MutexWorkload longHolds(int clientsPerNode) {
    return new MutexWorkload(clientsPerNode, LEASE_MS - 200, LEASE_MS + 1_000, false);
  }

  /** The same workload, reporting overlaps in its summary instead of as violations. */
  MutexWorkload expectingOverlaps() {
    return new MutexWorkload(clientsPerNode, holdMs, waitMs, true);
  }

  @Override
  public String name() {
    return "fenced-mutex";
  }

  @Override
  public void start(NemesisEnv env) {
    for (String node : env.nodes) {
      for (int i = 0; i < clientsPerNode; i++) {
        String client = node + "-m" + i;
        NodeHttp http = env.http(node);
        long[] seq = {0};
        String[] retry = {null};
        int[] tries = {0};
        long[] firstSent = {0};
        threads.start(client, () -> {
          if (retry[0] == null) {
            retry[0] = client + "-" + (++seq[0]);
            tries[0] = 0;
            firstSent[0] = System.nanoTime();
          }
          String request = retry[0];
          tries[0]++;
          if (once(env, http, node, client, request, firstSent[0]) || tries[0] >= RETRIES_MAX) {
            retry[0] = null;
          }
          return true;
        });
      }
    }
  }

  /** One acquire attempt and, if granted, the fenced increment and the release; true if settled. */
  private boolean once(NemesisEnv env, NodeHttp http, String node, String client,
      String request, long firstSent) {
    long start = System.nanoTime();
    NodeHttp.Answer a;
    try {
      a = http.post("/v1/locks/" + LOCK + "/acquire", new JsonObject().put("leaseMs", LEASE_MS)
          .put("waitMs", waitMs).put("holder", client).put("requestId", request));
    } catch (ConnectException e) {
      env.history.operation(name(), node, start, Outcome.FAIL); // down: nothing was sent
      NodeHttp.backOff();
      return false;
    } catch (IOException e) {
      env.history.operation(name(), node, start, Outcome.UNKNOWN);
      return false;
    }
    if (!a.ok()) {
      Failure f = a.failure();
      boolean definite = f == Failure.CONFLICT || f == Failure.BAD_REQUEST
          || (f == Failure.TIMEOUT && a.message().contains("nothing was granted"));
      env.history.operation(name(), node, start, definite ? Outcome.FAIL : Outcome.UNKNOWN);
      return definite;
    }
    long granted = System.nanoTime();
    env.history.operation(name(), node, start, Outcome.OK);
    long token = a.body().getLong("token");
    long read = read(token);
    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(holdMs)); // the hold's work
    if (read >= 0) {
      write(token, read + 1);
    }
    long released = System.nanoTime();
    for (int i = 0; i < RETRIES_MAX; i++) {
      try {
        http.post("/v1/locks/" + LOCK + "/release", new JsonObject().put("token", token));
        break;
      } catch (IOException e) {
        // no answer: try again, then let the lease end
      }
    }
    synchronized (this) {
      grants.add(new Grant(request, node, token, firstSent, granted, released));
    }
    return true;
  }

  private synchronized long read(long token) {
    if (!fence.accept(LOCK, token)) {
      refused++;
      return -1;
    }
    return counter;
  }

  private synchronized void write(long token, long value) {
    if (!fence.accept(LOCK, token)) {
      refused++;
      return;
    }
    counter = value;
    accepted.add(token);
  }

  @Override
  public void stop() throws InterruptedException {
    threads.stop();
  }

  @Override
  public synchronized List<String> check(NemesisEnv env) {
    MutexCheck check = new MutexCheck();
    long lease = TimeUnit.MILLISECONDS.toNanos(LEASE_MS);
    for (Grant g : grants) {
      check.hold(new MutexCheck.Hold(g.request(), g.token(), g.invoked(), g.granted(), lease,
          -1, g.released(), env.history.firstFaultOn(g.node(), g.invoked(), g.released())));
    }
    accepted.forEach(check::accepted);
    List<String> out = new ArrayList<>(threads.crashes());
    out.addAll(check.fencing());
    List<String> overlapping = check.overlaps();
    overlaps = overlapping.size();
    if (overlapsExpected) {
      overlapping.stream().limit(3).forEach(o -> LoggerFactory.getLogger(MutexWorkload.class)
          .info("overlap (expected here): {}", o));
    } else {
      out.addAll(overlapping);
    }
    if (counter != accepted.size()) {
      out.add("the counter is " + counter + " after " + accepted.size()
          + " accepted increments: " + (accepted.size() - counter) + " lost");
    }
    return out;
  }

  @Override
  public synchronized String summary() {
    return String.format("%,d grants, %,d fenced increments accepted, %,d refused", grants.size(),
        accepted.size(), refused) + (overlapsExpected ? String.format(", %,d overlapping holds"
        + " (not promised here)", overlaps) : "");
  }
}
