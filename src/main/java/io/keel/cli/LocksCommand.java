package io.keel.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code keel locks}: the locks held in the partitions a node leads (the {@code locks} of its
 * {@code GET /status}, refreshed by the node every 2 s), or one lock with {@code --name}
 * ({@code GET /v1/locks/NAME}, answered by the lock's leader wherever it is). {@code --json}
 * prints the JSON as the node gave it.
 */
@Command(name = "locks", mixinStandardHelpOptions = true, sortOptions = false,
    usageHelpAutoWidth = true, description = "Prints the locks held in the partitions a node"
        + " leads, or one lock anywhere in the cluster with --name.")
final class LocksCommand implements Callable<Integer> {
  @Mixin
  OperatorMixin node;

  @Option(names = "--name", paramLabel = "NAME", order = 4,
      description = "Ask for this lock only.")
  String name;

  @Override
  public Integer call() throws InterruptedException {
    try (HttpSupport http = node.open()) {
      if (name != null) {
        JsonObject info = HttpSupport.await(http.getJson("/v1/locks/"
            + HttpSupport.pathSegment(name)));
        node.out().println(node.json ? info.encodePrettily() : describe(info));
      } else {
        JsonObject doc = HttpSupport.await(http.getJson("/status"));
        JsonArray locks = doc.getJsonArray("locks", new JsonArray());
        if (node.json) {
          node.out().println(locks.encodePrettily());
        } else {
          printTable(doc.getString("node", "?"), Formats.locksHeld(doc), locks);
        }
      }
      node.out().flush();
      return 0;
    } catch (CliFailure f) {
      return node.fail(f);
    }
  }

  private void printTable(String nodeName, long held, JsonArray locks) {
    node.out().println(held + " lock(s) held in the partitions node " + nodeName + " leads"
        + (held > locks.size() ? "; the first " + locks.size() + " by name:" : ""));
    if (locks.isEmpty()) {
      return;
    }
    TextTable table = new TextTable("NAME", "TOKEN", "HOLDER", "LEASE-LEFT", "WAITERS",
        "LAST-TOKEN");
    for (Object o : locks) {
      JsonObject l = (JsonObject) o;
      Long left = l.getLong("leaseLeftMs");
      table.row(l.getString("name"), l.getValue("token"), l.getString("holder"),
          left == null ? null : Formats.duration(left), l.getValue("waiters"),
          l.getValue("lastToken"));
    }
    table.lines().forEach(node.out()::println);
  }

  /** One line for {@code keel.lock.info}'s answer. */
  static String describe(JsonObject info) {
    String head = "lock " + Formats.value(info.getString("name"));
    String tail = ", " + info.getValue("waiters", 0) + " waiter(s), last token "
        + info.getValue("lastToken", "-");
    if (!info.getBoolean("held", false)) {
      return head + ": free" + tail;
    }
    Long left = info.getLong("leaseLeftMs");
    return head + ": held by " + info.getString("holder") + ", token " + info.getValue("token")
        + ", lease left " + (left == null ? "-" : Formats.duration(left)) + tail;
  }
}
