package io.keel.cli;

import io.keel.Keel;
import io.keel.KeelOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar keel.jar}: starts a Keel node. Options come from the defaults, then
 * {@code config/keel.json} in the working directory (or the file named by {@code --config}),
 * then the flags, each overriding the one before.
 *
 * <p>Exit codes: 0 after SIGTERM or SIGINT (the node leaves the cluster first), 2 for bad
 * configuration or a resource that cannot be had (a port in use, an unusable data directory, a
 * corrupt write-ahead log), 1 for anything else.
 *
 * <p>The same jar carries the operator commands, which ask a running node over HTTP instead of
 * starting one: {@code keel status}, {@code keel locks} and {@code keel watch}
 * ({@link StatusCommand}, {@link LocksCommand}, {@link WatchCommand}).
 */
@Command(name = "keel", mixinStandardHelpOptions = true, version = "keel 0.1.0",
    sortOptions = false, usageHelpAutoWidth = true,
    subcommands = {StatusCommand.class, LocksCommand.class, WatchCommand.class},
    description = {"Starts a Keel node: clustered Vert.x on embedded Hazelcast, with placement,"
        + " routing and the status server.",
        "With a command, asks a running node instead (see keel COMMAND --help)."},
    footer = {"", "The HTTP bearer token comes from httpToken in the options file or from $"
        + KeelMain.HTTP_TOKEN_ENV + " (no flag: every user can read a command line)."})
public final class KeelMain implements Callable<Integer> {
  static final int EXIT_CONFIG = 2;
  static final long SHUTDOWN_WAIT_SECONDS = 30;
  /** The environment variable that sets {@code httpToken}, over the options file. */
  static final String HTTP_TOKEN_ENV = "KEEL_HTTP_TOKEN";

  @Option(names = "--config", paramLabel = "FILE",
      description = "JSON options file (default: config/keel.json when it exists).")
  Path config;

  @Option(names = "--name", description = "Stable node name (default: the one persisted in the"
      + " data directory, else a new one, persisted).")
  String name;

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "Data directory (default: " + KeelOptions.DEFAULT_DATA_DIR + ").")
  String dataDir;

  @Option(names = "--http-host", paramLabel = "HOST",
      description = "HTTP status bind address (default: " + KeelOptions.DEFAULT_HTTP_HOST + ").")
  String httpHost;

  @Option(names = "--http-port", paramLabel = "PORT", description = "HTTP status port; 0 picks"
      + " a free one, -1 turns HTTP off (default: " + KeelOptions.DEFAULT_HTTP_PORT + ").")
  Integer httpPort;

  @Option(names = "--cluster-host", paramLabel = "HOST", description = "Address Hazelcast and"
      + " the event bus bind to (default: " + KeelOptions.DEFAULT_CLUSTER_HOST + ").")
  String clusterHost;

  @Option(names = "--cluster-port", paramLabel = "PORT",
      description = "Hazelcast member port (default: " + KeelOptions.DEFAULT_CLUSTER_PORT + ").")
  Integer clusterPort;

  @Option(names = "--join", paramLabel = "HOST:PORT[,HOST:PORT...]", split = ",",
      description = "Members to join (default: 127.0.0.1:5701).")
  List<String> join;

  @Option(names = "--bus-port", paramLabel = "PORT", description = "Event-bus TCP port; 0 picks"
      + " a free one (default: " + KeelOptions.DEFAULT_BUS_PORT + ").")
  Integer busPort;

  @Option(names = "--cluster-name", paramLabel = "NAME", description = "Hazelcast cluster name"
      + " (default: " + KeelOptions.DEFAULT_CLUSTER_NAME + ").")
  String clusterName;

  @Option(names = "--role", paramLabel = "data|client", description = "data nodes own"
      + " partitions, client nodes only route (default: data).")
  String role;

  @Option(names = "--weight", description = "Share of partitions relative to other nodes,"
      + " 1..100 (default: " + KeelOptions.DEFAULT_WEIGHT + ").")
  Integer weight;

  @Option(names = "--partitions", description = "Partitions, fixed when the cluster is created"
      + " (default: " + KeelOptions.DEFAULT_PARTITIONS + ").")
  Integer partitions;

  @Option(names = "--replicas",
      description = "Replica-set size, 1..3 (default: " + KeelOptions.DEFAULT_REPLICAS + ").")
  Integer replicas;

  @Option(names = "--fsync-policy", paramLabel = "always|group|interval", description =
      "When a write-ahead log append is acknowledged relative to fsync (default: group).")
  String fsyncPolicy;

  @Option(names = "--event-loops", paramLabel = "N", description = "Event-loop threads;"
      + " 0 for Vert.x's default of twice the cores (default: 0). 1 is fastest when several"
      + " nodes share a small machine.")
  Integer eventLoops;

  private Clock leaseClock = Clock.systemUTC();

  /** Entry point of the jar. */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (the node's lifetime included). */
  static int run(String[] args) {
    return run(args, Clock.systemUTC());
  }

  /**
   * {@link #run(String[])} for a node whose lock leases are measured by {@code leaseClock}
   * ({@link Keel#start(KeelOptions, Clock)}): how tests skew one node's clock.
   */
  public static int run(String[] args, Clock leaseClock) {
    prepareJvm();
    return commandLine(leaseClock).execute(args);
  }

  /**
   * The jar's command line. A bad flag exits 2: for the node with one {@code keel: } line on
   * stderr, for an operator command with its usage as well.
   */
  static CommandLine commandLine() {
    return commandLine(Clock.systemUTC());
  }

  private static CommandLine commandLine(Clock leaseClock) {
    KeelMain main = new KeelMain();
    main.leaseClock = leaseClock;
    CommandLine cli = new CommandLine(main);
    cli.setParameterExceptionHandler((ex, a) -> {
      CommandLine failed = ex.getCommandLine();
      PrintWriter err = failed.getErr();
      if (failed.getParent() == null) {
        err.println("keel: " + ex.getMessage() + " (see --help)");
      } else {
        err.println("keel " + failed.getCommandName() + ": " + ex.getMessage());
        failed.usage(err);
      }
      err.flush();
      return EXIT_CONFIG;
    });
    return cli;
  }

  /**
   * Settings that must be in place before Hazelcast starts: on a 2-core machine the common
   * fork-join pool has one thread, and Hazelcast's async callbacks then fall back to a thread
   * per operation.
   */
  static void prepareJvm() {
    String fj = "java.util.concurrent.ForkJoinPool.common.parallelism";
    if (System.getProperty(fj) == null) {
      System.setProperty(fj, Integer.toString(Math.max(2, Runtime.getRuntime()
          .availableProcessors())));
    }
    if (System.getProperty("hazelcast.logging.type") == null) {
      System.setProperty("hazelcast.logging.type", "slf4j");
    }
  }

  @Override
  public Integer call() {
    KeelOptions options;
    try {
      options = options();
    } catch (IllegalArgumentException e) {
      System.err.println("keel: " + e.getMessage());
      return EXIT_CONFIG;
    }
    Keel keel;
    try {
      keel = Keel.start(options, leaseClock).await(2, TimeUnit.MINUTES);
    } catch (Exception e) {
      Throwable cause = e.getCause() != null && e instanceof java.util.concurrent.ExecutionException
          ? e.getCause() : e;
      System.err.println("keel: cannot start the node: " + describe(cause));
      return cause instanceof IllegalArgumentException
          || cause instanceof io.keel.recovery.WalCorruptionException ? EXIT_CONFIG : 1;
    }
    String url = keel.dashboardUrl();
    String tokenHint = options.getHttpToken() == null ? "" : " (add ?access_token=TOKEN)";
    System.out.println("Keel node " + keel.nodeName() + " ready"
        + (url == null ? "" : ": dashboard " + url + tokenHint) + " (cluster "
        + options.getClusterName() + ", " + keel.routing().members().size() + " member(s), epoch "
        + keel.routing().table().epoch() + ")");
    System.out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    Signals.onTermination(() -> {
      keel.close().onComplete(ar -> stopped.countDown());
    });
    try {
      stopped.await();
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  /** Defaults, then the JSON file, then {@code $KEEL_HTTP_TOKEN}, then the flags. */
  KeelOptions options() {
    JsonObject json = readConfigFile();
    // The file is checked on its own first: a flag must not hide a mistake in it.
    new KeelOptions(json);
    String token = System.getenv(HTTP_TOKEN_ENV);
    if (token != null && !token.isEmpty()) {
      try {
        new KeelOptions().setHttpToken(token);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("$" + HTTP_TOKEN_ENV + ": " + e.getMessage());
      }
      json.put("httpToken", token);
    }
    putIfSet(json, "name", name);
    putIfSet(json, "dataDir", dataDir);
    putIfSet(json, "httpHost", httpHost);
    putIfSet(json, "httpPort", httpPort);
    putIfSet(json, "clusterHost", clusterHost);
    putIfSet(json, "clusterPort", clusterPort);
    if (join != null) {
      json.put("join", new io.vertx.core.json.JsonArray(join));
    }
    putIfSet(json, "busPort", busPort);
    putIfSet(json, "clusterName", clusterName);
    putIfSet(json, "role", role);
    putIfSet(json, "weight", weight);
    putIfSet(json, "partitions", partitions);
    putIfSet(json, "replicas", replicas);
    putIfSet(json, "eventLoops", eventLoops);
    if (fsyncPolicy != null) {
      json.put("wal", json.getJsonObject("wal", new JsonObject()).copy()
          .put("fsyncPolicy", fsyncPolicy));
    }
    return new KeelOptions(json);
  }

  private JsonObject readConfigFile() {
    Path file = config;
    if (file == null) {
      Path local = Path.of("config", "keel.json");
      if (!Files.isRegularFile(local)) {
        return new JsonObject();
      }
      file = local;
    }
    try {
      return new JsonObject(Files.readString(file));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read config file " + file + ": " + e);
    } catch (DecodeException | ClassCastException e) {
      throw new IllegalArgumentException("config file " + file + " is not a JSON object: "
          + firstLine(e.getMessage()));
    }
  }

  private static void putIfSet(JsonObject json, String key, Object value) {
    if (value != null) {
      json.put(key, value);
    }
  }

  private static String describe(Throwable t) {
    String msg = t.getMessage();
    if (t instanceof IllegalArgumentException || t instanceof IllegalStateException
        || t instanceof io.keel.recovery.WalCorruptionException) {
      return firstLine(msg);
    }
    return t.getClass().getSimpleName() + (msg == null ? "" : ": " + firstLine(msg));
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
