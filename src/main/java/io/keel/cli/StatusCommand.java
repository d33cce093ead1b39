package io.keel.cli;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code keel status}: a node's {@code GET /status} as a table (header, members, partitions
 * summary), or with {@code --json} the document itself. Exit 0, or 1 when the node cannot be
 * reached or answers an error.
 */
@Command(name = "status", mixinStandardHelpOptions = true, sortOptions = false,
    usageHelpAutoWidth = true,
    description = "Prints a node's status: members, partitions and what is not active.")
final class StatusCommand implements Callable<Integer> {
  @Mixin
  OperatorMixin node;

  @Override
  public Integer call() throws InterruptedException {
    try (HttpSupport http = node.open()) {
      JsonObject doc = HttpSupport.await(http.getJson("/status"));
      if (node.json) {
        node.out().println(doc.encodePrettily());
      } else {
        StatusView.lines(doc).forEach(node.out()::println);
      }
      node.out().flush();
      return 0;
    } catch (CliFailure f) {
      return node.fail(f);
    }
  }
}
