package io.keel.cli;

import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code keel watch}: follows a node's status feed ({@code /status/feed}) and prints one line
 * per event ({@link FeedView}), until interrupted or, with {@code --count N}, until N events
 * came. When the node goes away after the first connection, it reconnects with a backoff
 * ({@value #RECONNECT_MS_MIN} ms doubling to {@value #RECONNECT_MS_MAX} ms) and says so on
 * stderr; events the new snapshot still lists are shown, the rest reported missed.
 *
 * <p>Exit 0 after N events or an interrupt; 1 when the first connection fails.
 *
 * <p>The connection state lives on the command's one event loop; the calling thread only waits.
 */
@Command(name = "watch", mixinStandardHelpOptions = true, sortOptions = false,
    usageHelpAutoWidth = true,
    description = "Follows a node's event feed: one line per event, until interrupted.")
final class WatchCommand implements Callable<Integer> {
  static final String FEED_PATH = "/status/feed";
  static final long RECONNECT_MS_MIN = 250;
  static final long RECONNECT_MS_MAX = 5_000;

  @Mixin
  OperatorMixin node;

  @Spec
  CommandSpec spec;

  // Invariant: count > 0 when bounded, -1 when the watch runs until interrupted.
  private long count = -1;
  private final CompletableFuture<Integer> done = new CompletableFuture<>();
  private HttpSupport http;
  private FeedView view;
  private long received;
  private long backoffMs = RECONNECT_MS_MIN;
  private Throwable lastError;

  @Option(names = "--count", paramLabel = "N", order = 4,
      description = "Exit 0 once N events came (default: run until interrupted).")
  void setCount(long n) {
    if (n < 1) {
      throw new ParameterException(spec.commandLine(), "--count must be > 0, was " + n);
    }
    count = n;
  }

  @Override
  public Integer call() {
    view = new FeedView(node.json);
    http = node.open();
    boolean interrupted = false;
    try {
      http.vertx().runOnContext(v -> connect(true));
      return done.get();
    } catch (InterruptedException e) {
      interrupted = true;
      return 0;
    } catch (ExecutionException e) {
      return node.fail(new CliFailure(HttpSupport.describe(e.getCause())));
    } finally {
      done.complete(0);
      http.close();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void connect(boolean first) {
    http.connect(FEED_PATH).onSuccess(ws -> attach(ws, first)).onFailure(t -> {
      if (first) {
        done.complete(node.fail((CliFailure) t));
      } else if (!done.isDone()) {
        notice(t.getMessage() + "; retrying in " + backoffMs + " ms");
        reconnectLater();
      }
    });
  }

  private void attach(WebSocket ws, boolean first) {
    if (done.isDone()) {
      ws.close();
      return;
    }
    if (!first) {
      notice("reconnected to " + http.url().resolve(FEED_PATH));
    }
    backoffMs = RECONNECT_MS_MIN;
    lastError = null;
    ws.textMessageHandler(this::onMessage);
    ws.exceptionHandler(t -> lastError = t);
    ws.closeHandler(v -> {
      if (done.isDone()) {
        return;
      }
      String why = ws.closeStatusCode() != null ? "closed with code " + ws.closeStatusCode()
          + (ws.closeReason() == null ? "" : " (" + ws.closeReason() + ")")
          : lastError != null ? HttpSupport.describe(lastError) : "connection closed";
      notice("lost " + http.url().resolve(FEED_PATH) + ": " + why + "; reconnecting in "
          + backoffMs + " ms");
      reconnectLater();
    });
  }

  private void reconnectLater() {
    long delay = backoffMs;
    backoffMs = Math.min(RECONNECT_MS_MAX, backoffMs * 2);
    http.vertx().setTimer(delay, id -> connect(false));
  }

  /** A feed message: the snapshot, or events one JSON object per line. */
  private void onMessage(String text) {
    for (String one : text.split("\n")) {
      if (!done.isDone()) {
        onEvent(one);
      }
    }
    node.out().flush();
  }

  private void onEvent(String text) {
    JsonObject message;
    try {
      message = new JsonObject(text);
    } catch (RuntimeException e) {
      notice("ignored a feed message that is not a JSON object: " + HttpSupport.describe(e));
      return;
    }
    for (FeedView.Line line : view.accept(message)) {
      if (done.isDone()) {
        return;
      }
      if (line.kind() != FeedView.Kind.NOTICE) {
        node.out().println(line.text());
      } else if (node.json) {
        notice(line.text());
      } else {
        node.out().println("-- " + line.text());
      }
      if (line.kind() == FeedView.Kind.EVENT && ++received == count) {
        node.out().flush();
        done.complete(0);
      }
    }
  }

  private void notice(String text) {
    node.err().println("keel watch: " + text);
    node.err().flush();
  }
}
