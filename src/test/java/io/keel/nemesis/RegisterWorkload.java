package io.keel.nemesis;

import io.keel.bus.Failure;
import io.keel.check.HistoryCheck;
import io.keel.check.Linearizability;
import io.keel.check.Op;
import io.keel.nemesis.History.Outcome;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Map registers: clients on every node read, write and compare-and-set a few keys of one map
 * over HTTP, each operation recorded with its real-time interval. The check: every key's
 * history is linearizable (indeterminate operations may or may not have happened), and every
 * acknowledged write is still there or overwritten by a later one ({@link HistoryCheck}).
 */
final class RegisterWorkload implements Workload {
  static final String MAP = "nemesis-register";
  private final int clientsPerNode;
  private final int keys;
  private final ClientThreads threads = new ClientThreads();
  private final List<Op> ops = Collections.synchronizedList(new ArrayList<>());
  private final List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
  private String verdicts = "";

  RegisterWorkload(int clientsPerNode, int keys) {
    this.clientsPerNode = clientsPerNode;
    this.keys = keys;
  }

  @Override
  public String name() {
    return "register";
  }

  @Override
  public void start(NemesisEnv env) {
    threads.startPerNode(env, clientsPerNode, "r", (node, client, http) -> {
      Random random = new Random(env.random.nextLong());
      Map<String, Long> seen = new HashMap<>();
      int[] n = {0};
      return () -> once(env, http, node, client, random, seen, n[0]++);
    });
  }

  private void once(NemesisEnv env, NodeHttp http, String node, String client, Random random,
      Map<String, Long> seen, int n) {
    String key = "k" + random.nextInt(keys);
    String path = "/v1/maps/" + MAP + "/" + key;
    String value = client + "-" + n;
    long known = seen.getOrDefault(key, 0L);
    int dice = random.nextInt(100);
    long at = System.nanoTime();
    Op op;
    NodeHttp.Answer a;
    try {
      if (dice < 40) {
        op = Op.get(client, key, at);
        a = http.get(path);
      } else if (dice < 70) {
        op = Op.put(client, key, value, at);
        a = http.put(path, new JsonObject().put("value", value), Map.of());
      } else {
        op = Op.cas(client, key, known, value, at);
        a = http.put(path, new JsonObject().put("value", value), known == 0
            ? Map.of("If-None-Match", "*") : Map.of("If-Match", "\"" + known + "\""));
      }
    } catch (ConnectException e) {
      env.history.operation(name(), node, at, Outcome.FAIL); // down: nothing was sent
      NodeHttp.backOff();
      return;
    } catch (IOException e) {
      op = dice < 40 ? null : dice < 70 ? Op.put(client, key, value, at)
          : Op.cas(client, key, known, value, at);
      if (op != null) {
        ops.add(op); // no answer: it may or may not have happened
      }
      env.history.operation(name(), node, at, Outcome.UNKNOWN);
      return;
    }
    long now = System.nanoTime();
    JsonObject b = a.body();
    if (a.ok() || (a.status() == 404 && op.kind() == Op.Kind.GET)) {
      Op done = switch (op.kind()) {
        case GET -> b.getBoolean("found", false)
            ? op.found(b.getString("value"), b.getLong("version"), now) : op.notFound(now);
        default -> op.ok(b.getLong("version"), now);
      };
      ops.add(done);
      seen.put(key, done.outcome() == Op.Outcome.NOT_FOUND ? 0L : done.version());
      env.history.operation(name(), node, at, Outcome.OK);
      return;
    }
    Failure f = a.failure();
    if (f == Failure.CONFLICT && op.kind() == Op.Kind.CAS) {
      ops.add(op.conflict(now));
      seen.remove(key);
      env.history.operation(name(), node, at, Outcome.OK); // answered: the system was there
    } else if (f == Failure.BAD_REQUEST || f == Failure.NOT_FOUND) {
      unexpected.add(op + ": HTTP " + a.status() + " " + a.message());
      env.history.operation(name(), node, at, Outcome.FAIL);
    } else {
      // Unavailable, no leader, timed out: a write may or may not have happened.
      if (op.kind() != Op.Kind.GET) {
        ops.add(op);
      }
      env.history.operation(name(), node, at,
          f == Failure.UNAVAILABLE ? Outcome.FAIL : Outcome.UNKNOWN);
    }
  }

  @Override
  public void stop() throws InterruptedException {
    threads.stop();
  }

  @Override
  public List<String> check(NemesisEnv env) {
    Map<String, HistoryCheck.Stored> finals = new TreeMap<>();
    for (int k = 0; k < keys; k++) {
      String path = "/v1/maps/" + MAP + "/k" + k;
      JsonObject got = NemesisRun.finalRead(env, "k" + k, path);
      if (got.getBoolean("found", false)) {
        finals.put("k" + k, new HistoryCheck.Stored(got.getString("value"),
            got.getLong("version")));
      }
    }
    List<Op> history = List.copyOf(ops);
    List<String> out = new ArrayList<>(threads.crashes());
    out.addAll(unexpected);
    out.addAll(HistoryCheck.all(history, finals));
    Map<String, Linearizability.Result> results = Linearizability.checkAll(history);
    StringBuilder v = new StringBuilder();
    for (Linearizability.Result r : results.values()) {
      v.append(r.key()).append(' ').append(r.verdict()).append("; ");
      if (r.verdict() == Linearizability.Verdict.NOT_LINEARIZABLE) {
        out.add("key " + r.key() + " is not linearizable: " + r.explanation());
      }
    }
    verdicts = v.toString();
    return out;
  }

  @Override
  public String summary() {
    long indeterminate = ops.stream().filter(Op::indeterminate).count();
    return String.format("%,d operations on %d keys, %,d indeterminate; %s", ops.size(), keys,
        indeterminate, verdicts);
  }
}
