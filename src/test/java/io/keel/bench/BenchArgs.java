package io.keel.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The arguments of a benchmark's {@code main}: {@code --name value}, {@code --name=value} or
 * {@code name=value}. Each getter names its default; {@link #requireAllUsed()} then rejects the
 * arguments no getter asked for, so that a typo is an error, not a silent default.
 */
final class BenchArgs {
  private final Map<String, String> values = new LinkedHashMap<>();
  private final Set<String> used = new TreeSet<>();

  private BenchArgs() {}

  /** Parses {@code argv}. */
  static BenchArgs parse(String[] argv) {
    BenchArgs args = new BenchArgs();
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq < 0) {
        if (i + 1 >= argv.length) {
          throw new IllegalArgumentException(a + " needs a value");
        }
        args.values.put(a.substring(2), argv[++i]);
      } else if (eq > 0) {
        args.values.put(a.substring(a.startsWith("--") ? 2 : 0, eq), a.substring(eq + 1));
      } else {
        throw new IllegalArgumentException("not an argument: '" + a + "' (--name value,"
            + " --name=value or name=value)");
      }
    }
    return args;
  }

  /**
   * Settings that must be in place before Hazelcast starts in this JVM, as {@code KeelMain}
   * does for a node: the common fork-join pool's parallelism (1 on 2 cores, and Hazelcast's
   * callbacks then take a thread each) and SLF4J logging; and the node JVMs' flags,
   * {@code keel.child.jvm.args}, when not given ({@code childJvmArgs}; null: none).
   */
  static void prepareJvm(String childJvmArgs) {
    String fj = "java.util.concurrent.ForkJoinPool.common.parallelism";
    System.setProperty(fj, System.getProperty(fj,
        Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors()))));
    System.setProperty("hazelcast.logging.type",
        System.getProperty("hazelcast.logging.type", "slf4j"));
    if (childJvmArgs != null) {
      System.setProperty("keel.child.jvm.args",
          System.getProperty("keel.child.jvm.args", childJvmArgs));
    }
  }

  String string(String name, String byDefault) {
    used.add(name);
    return values.getOrDefault(name, byDefault);
  }

  int integer(String name, int byDefault) {
    return Integer.parseInt(string(name, Integer.toString(byDefault)));
  }

  long longValue(String name, long byDefault) {
    return Long.parseLong(string(name, Long.toString(byDefault)));
  }

  boolean bool(String name, boolean byDefault) {
    String v = string(name, Boolean.toString(byDefault));
    if (!v.equals("true") && !v.equals("false")) {
      throw new IllegalArgumentException(name + " must be true or false, was " + v);
    }
    return Boolean.parseBoolean(v);
  }

  /** A comma-separated list of whole numbers. */
  long[] longs(String name, String byDefault) {
    String v = string(name, byDefault).trim();
    return v.isEmpty() ? new long[0]
        : Arrays.stream(v.split(",")).mapToLong(s -> Long.parseLong(s.trim())).toArray();
  }

  /** A comma-separated list of words. */
  Set<String> words(String name, String byDefault) {
    Set<String> out = new TreeSet<>();
    for (String s : string(name, byDefault).split(",")) {
      if (!s.isBlank()) {
        out.add(s.trim());
      }
    }
    return out;
  }

  /**
   * The arguments of a closed-loop benchmark on a cluster: {@code seconds} (5) measured after
   * {@code warmup-s} (2) per case, {@code jit-warmup-s} before the first run, {@code runs} (3),
   * {@code in-flight} (1,64), {@code partitions} (512), {@code keys} (10000), {@code timeout-ms}
   * (5000, per request), the client event loops the loops spread over (2, under the name
   * {@code contextsName}), {@code settle-s} (per wait for the cluster), {@code seed} (1).
   */
  record Common(int seconds, int warmupS, int jitWarmupS, int runs, int[] inFlights,
      int partitions, int keys, long timeoutMs, int contexts, long settleS, long seed) {
    Common {
      require(seconds >= 1 && warmupS >= 0 && jitWarmupS >= 0 && runs >= 1 && keys >= 1
          && timeoutMs >= 1 && contexts >= 1 && partitions >= 1
          && Arrays.stream(inFlights).allMatch(n -> n >= 1), "seconds, runs, keys, timeout-ms,"
          + " contexts, partitions and every in-flight count must be >= 1, warmup-s and"
          + " jit-warmup-s >= 0");
    }

    /** The largest in-flight count. */
    int maxInFlight() {
      return Arrays.stream(inFlights).max().orElse(1);
    }
  }

  /** The {@link Common} arguments, with these defaults where they differ between benchmarks. */
  Common common(int jitWarmupS, String contextsName, long settleS) {
    return new Common(integer("seconds", 5), integer("warmup-s", 2),
        integer("jit-warmup-s", jitWarmupS), integer("runs", 3),
        Arrays.stream(longs("in-flight", "1,64")).mapToInt(Math::toIntExact).toArray(),
        integer("partitions", 512), integer("keys", 10_000), longValue("timeout-ms", 5_000),
        integer(contextsName, 2), longValue("settle-s", settleS), longValue("seed", 1));
  }

  /**
   * {@code event-loops} (1): the node JVMs' {@code --event-loops}. Three nodes and the client
   * share this machine's cores, where one event loop per node does the most work.
   */
  String[] eventLoopArgs() {
    int n = integer("event-loops", 1);
    require(n >= 0, "event-loops must be >= 0 (0: Vert.x's default)");
    return new String[] {"--event-loops", Integer.toString(n)};
  }

  /** Throws when an argument was given that no getter asked for. */
  void requireAllUsed() {
    Set<String> unknown = new TreeSet<>(values.keySet());
    unknown.removeAll(used);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("unknown argument(s) " + unknown + "; known: " + used);
    }
  }

  /** Throws {@code IllegalArgumentException} with {@code message} unless {@code ok}. */
  static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  @Override
  public String toString() {
    return values.toString();
  }
}
