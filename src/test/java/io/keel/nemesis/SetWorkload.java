package io.keel.nemesis;

import io.keel.bus.Failure;
import io.keel.check.SetCheck;
import io.keel.nemesis.History.Outcome;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A grow-only set in one map entry: clients on every node add unique elements by read and
 * compare-and-set over HTTP, again after a version conflict or an {@code UNAVAILABLE} (unless
 * the read shows the element there already: a write refused as unavailable may still have
 * been committed). An add that got no answer at all is left indeterminate, never sent again.
 * The check ({@link SetCheck}): every acknowledged element is in the final set, none twice,
 * none that was never added.
 */
final class SetWorkload implements Workload {
  static final String PATH = "/v1/maps/nemesis-set/elements";
  private static final int CONFLICT_RETRIES_MAX = 20;

  private final int clientsPerNode;
  private final ClientThreads threads = new ClientThreads();
  private final SetCheck check = new SetCheck();
  private int finalSize = -1;

  SetWorkload(int clientsPerNode) {
    this.clientsPerNode = clientsPerNode;
  }

  @Override
  public String name() {
    return "set";
  }

  @Override
  public void start(NemesisEnv env) {
    threads.startPerNode(env, clientsPerNode, "s", (node, client, http) -> {
      int[] n = {0};
      return () -> add(env, http, node, client + "-" + (n[0]++));
    });
  }

  /** Adds {@code element}: read, then compare-and-set, again on a conflict. */
  private void add(NemesisEnv env, NodeHttp http, String node, String element) {
    check.attempted(element);
    for (int attempt = 0; attempt < CONFLICT_RETRIES_MAX && threads.running(); attempt++) {
      long at = System.nanoTime();
      NodeHttp.Answer read;
      NodeHttp.Answer write;
      try {
        read = http.get(PATH);
        if (!read.ok() && read.status() != 404) {
          env.history.operation(name(), node, at, outcome(read));
          continue;
        }
        JsonArray elements = read.ok() ? read.body().getJsonArray("value") : new JsonArray();
        long version = read.ok() ? read.body().getLong("version") : 0;
        if (elements.contains(element)) {
          env.history.operation(name(), node, at, Outcome.OK);
          return; // an earlier attempt was committed after all
        }
        write = http.put(PATH, new JsonObject().put("value", elements.copy().add(element)),
            version == 0 ? Map.of("If-None-Match", "*")
                : Map.of("If-Match", "\"" + version + "\""));
      } catch (ConnectException e) {
        // Down: nothing was sent by this attempt (an earlier one of this add may have been).
        env.history.operation(name(), node, at, Outcome.FAIL);
        NodeHttp.backOff();
        continue;
      } catch (IOException e) {
        env.history.operation(name(), node, at, Outcome.UNKNOWN);
        return; // indeterminate: never sent again
      }
      if (write.ok()) {
        check.acknowledged(element);
        env.history.operation(name(), node, at, Outcome.OK);
        return;
      }
      env.history.operation(name(), node, at, write.failure() == Failure.CONFLICT
          ? Outcome.OK : outcome(write));
      if (write.failure() != Failure.CONFLICT && write.failure() != Failure.UNAVAILABLE) {
        return; // no definite answer: indeterminate
      }
    }
  }

  private static Outcome outcome(NodeHttp.Answer a) {
    return a.failure() == Failure.UNAVAILABLE ? Outcome.FAIL : Outcome.UNKNOWN;
  }

  @Override
  public void stop() throws InterruptedException {
    threads.stop();
  }

  @Override
  public List<String> check(NemesisEnv env) {
    JsonObject got = NemesisRun.finalRead(env, "elements", PATH);
    List<String> elements = new ArrayList<>();
    JsonArray value = got.getJsonArray("value", new JsonArray());
    for (int i = 0; i < value.size(); i++) {
      elements.add(value.getString(i));
    }
    finalSize = elements.size();
    List<String> out = new ArrayList<>(threads.crashes());
    out.addAll(check.violations(elements));
    return out;
  }

  @Override
  public String summary() {
    return String.format("%,d adds acknowledged, %,d elements at the end",
        check.acknowledgedCount(), finalSize);
  }
}
