package io.keel.examples;

import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.locks.LockOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * A counter in a file that several nodes increment, kept exact by a fenced lock. Each increment
 * runs under {@code keel.locks().withLock("ledger", ...)}: read the file, write the count plus
 * one. The file itself is the fence: it stores the token of the last write, and a write whose
 * token is smaller is refused. So a node that lost its lock (paused past its lease, say) and
 * comes back cannot overwrite a newer count, even though it still believes it holds the lock.
 *
 * <p>Run two or three, each in its own terminal, with the same ledger file (see the README):
 * <pre>
 * java -cp target/keel.jar:target/test-classes io.keel.examples.FencedCounter f1 5811 5811 ledger
 * java -cp target/keel.jar:target/test-classes io.keel.examples.FencedCounter f2 5812 5811 ledger
 * </pre>
 * Arguments: node name, this node's cluster port, the cluster port of a node to join, the file.
 */
public final class FencedCounter extends VerticleBase {
  static final String LOCK = "ledger";

  private final Keel keel;
  private final String file;

  FencedCounter(Keel keel, String file) {
    this.keel = keel;
    this.file = file;
  }

  @Override
  public Future<?> start() {
    vertx.setPeriodic(500, id -> increment()
        .onSuccess(n -> System.out.printf("%s: ledger = %d%n", keel.nodeName(), n))
        .onFailure(t -> System.out.printf("%s: increment failed: %s%n", keel.nodeName(),
            t.getMessage())));
    return Future.succeededFuture();
  }

  /** One increment under the lock: answers the new count. */
  Future<Long> increment() {
    return keel.locks().withLock(LOCK, new LockOptions().setWaitMs(10_000), lock ->
        read().compose(entry -> {
          if (lock.token() < entry[1]) {
            return Future.failedFuture(new IllegalStateException("token " + lock.token()
                + " is older than the ledger's " + entry[1] + ": this holder lost its lock"));
          }
          long next = entry[0] + 1;
          return keel.vertx().fileSystem()
              .writeFile(file, Buffer.buffer(next + " " + lock.token())).map(next);
        }));
  }

  /** The ledger's {count, token of the last write}; {0, 0} when it does not exist yet. */
  private Future<long[]> read() {
    return keel.vertx().fileSystem().exists(file).compose(exists -> !exists
        ? Future.succeededFuture(new long[] {0, 0})
        : keel.vertx().fileSystem().readFile(file).map(b -> {
          String[] parts = b.toString().trim().split(" ");
          return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
        }));
  }

  /** Starts node {@code args[0]} on port {@code args[1]}, joining {@code args[2]}. */
  public static void main(String[] args) {
    if (args.length != 4) {
      System.err.println("usage: FencedCounter <name> <cluster-port> <join-port> <ledger-file>");
      System.exit(2);
    }
    int port = Integer.parseInt(args[1]);
    KeelOptions options = new KeelOptions().setName(args[0])
        .setDataDir("target/examples/" + args[0]).setClusterName("fenced-demo")
        .setClusterPort(port).setJoin(List.of("127.0.0.1:" + args[2], "127.0.0.1:" + port))
        .setHttpPort(port + 1000);
    Keel.start(options)
        .compose(keel -> keel.vertx().deployVerticle(new FencedCounter(keel, args[3]))
            .map(keel))
        .onSuccess(keel -> System.out.println(keel.nodeName() + " incrementing " + args[3]
            + "; dashboard " + keel.dashboardUrl()))
        .onFailure(t -> {
          System.err.println("cannot start: " + t.getMessage());
          System.exit(1);
        });
  }
}
