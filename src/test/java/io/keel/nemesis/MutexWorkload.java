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
import org.slf4j.Logger;
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
 * ends inside a hold, where the overlap check sees it: each grant is renewed at once (the lease
 * counts from the renewal's sending), and acquires do not wait in the queue but try again every
 * 20 ms, so that the next holder's acquire is sent after the grant before it. With
 * {@link #expectingOverlaps}, for a clock fault beyond the promised margin, overlaps are
 * reported in the summary, not as violations, and a run without any is a violation (the fault
 * did not bite); the fencing checks still must hold.
 */
final class MutexWorkload implements Workload {
  static final String LOCK = "nemesis-mutex";
  private static final long LEASE_MS = 3_000;
  private static final long WAIT_MS = 2_000;
  private static final int RETRIES_MAX = 3;
  private static final long POLL_MS = 20;
  private static final Logger log = LoggerFactory.getLogger(MutexWorkload.class);

  private final int clientsPerNode;
  private final long holdMs;
  private final long waitMs;
  private final boolean longHolds;
  private final boolean overlapsExpected;
  private int overlaps;
  private final ClientThreads threads = new ClientThreads();
  private final Fence fence = new Fence();
  private final List<Grant> grants = new ArrayList<>();
  private final List<Long> accepted = new ArrayList<>();
  private final List<String> wrongLeases = new ArrayList<>();
  private long counter;
  private long refused;

  /** A grant as a client saw it, and the node it asked through. */
  private record Grant(String request, String node, long token, long invoked, long granted,
      long renewed, long released) {}

  MutexWorkload(int clientsPerNode) {
    this(clientsPerNode, false, false);
  }

  private MutexWorkload(int clientsPerNode, boolean longHolds, boolean overlapsExpected) {
    this.clientsPerNode = clientsPerNode;
    this.longHolds = longHolds;
    this.holdMs = longHolds ? LEASE_MS - 200 : 2;
    this.waitMs = longHolds ? 0 : WAIT_MS;
    this.overlapsExpected = overlapsExpected;
  }

  /**
   * Holds of 2.8 s on a 3 s lease counted from a renewal right after the grant, acquires tried
   * every 20 ms without waiting: a lease that ends 0.2 s early overlaps the next holder with
   * this one.
   */
  static MutexWorkload longHolds(int clientsPerNode) {
    return new MutexWorkload(clientsPerNode, true, false);
  }

  /** The same workload, reporting overlaps in its summary, and failing if there is none. */
  MutexWorkload expectingOverlaps() {
    return new MutexWorkload(clientsPerNode, longHolds, true);
  }

  @Override
  public String name() {
    return "fenced-mutex";
  }

  @Override
  public void start(NemesisEnv env) {
    threads.startPerNode(env, clientsPerNode, "m", (node, client, http) -> {
      long[] seq = {0};
      String[] retry = {null};
      int[] tries = {0};
      long[] firstSent = {0};
      return () -> {
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
      };
    });
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
      if (longHolds && f == Failure.TIMEOUT) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(POLL_MS)); // held: try again soon
      }
      return definite;
    }
    long granted = System.nanoTime();
    env.history.operation(name(), node, start, Outcome.OK);
    long token = a.body().getLong("token");
    // A first grant names the lease asked for; one answered to a retry, what is left of it.
    long leaseMs = a.body().getLong("leaseMs", -1L);
    if (leaseMs < 1 || leaseMs > LEASE_MS) {
      lease("grant of token " + token + " named a lease of " + leaseMs + " ms; asked "
          + LEASE_MS);
    }
    long renewed = longHolds ? renew(http, token) : -1;
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
      grants.add(new Grant(request, node, token, firstSent, granted, renewed, released));
    }
    return true;
  }

  /** Renews the lease of {@code token}: when that renewal was sent, or -1 if it failed. */
  private long renew(NodeHttp http, long token) {
    long sent = System.nanoTime();
    try {
      NodeHttp.Answer r = http.post("/v1/locks/" + LOCK + "/renew", new JsonObject()
          .put("token", token).put("leaseMs", LEASE_MS));
      if (!r.ok()) {
        return -1;
      }
      if (r.body().getLong("leaseMs", -1L) != LEASE_MS) {
        lease("renewal of token " + token + " named a lease of " + r.body().getLong("leaseMs")
            + " ms; asked " + LEASE_MS);
      }
      return sent;
    } catch (IOException e) {
      return -1;
    }
  }

  private synchronized void lease(String wrong) {
    wrongLeases.add(wrong);
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
          g.renewed(), g.released(),
          env.history.firstFaultOn(g.node(), g.invoked(), g.released())));
    }
    accepted.forEach(check::accepted);
    List<String> out = new ArrayList<>(threads.crashes());
    out.addAll(wrongLeases);
    out.addAll(check.fencing());
    List<String> overlapping = check.overlaps();
    overlaps = overlapping.size();
    if (overlapsExpected) {
      overlapping.stream().limit(3).forEach(o -> log.info("overlap (expected here): {}", o));
      if (overlaps == 0) {
        out.add("no two holds overlapped, where the fault should have made some: it did not"
            + " bite");
      }
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
