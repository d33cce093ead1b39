package io.keel.bench;

import io.keel.Keel;
import io.keel.locks.LockOptions;
import io.vertx.core.Promise;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A lock holder in a JVM of its own, to be killed: a client-role Keel node started with
 * {@code java -cp <this classpath> io.keel.bench.LockHolderProcess <cluster> <join> <name>
 * <dataDir>} ({@code join}: the data nodes' {@code host:port} list, comma-separated).
 *
 * <p>It prints {@code JOINED <hazelcast member id>}. Then, for each line
 * {@code HOLD <keel lock> <vertx lock> <leaseMs>} read on stdin, it acquires the Keel lock with
 * {@code KeelLocks.withLock} (which renews the lease every third of it) and Vert.x's lock, holds
 * both for ever and prints {@code HOLDING keel <token>} and {@code HOLDING vertx}. It exits when
 * stdin closes (its parent is gone).
 *
 * <p>{@link Handle} launches and watches it from the benchmark JVM.
 */
public final class LockHolderProcess {
  private LockHolderProcess() {}

  /** The holder JVM. */
  public static void main(String[] a) throws Exception {
    System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism", "2");
    System.setProperty("hazelcast.logging.type", "slf4j");
    BenchClient client = BenchClient.join(a[0], Arrays.asList(a[1].split(",")), a[2],
        Path.of(a[3]));
    Keel keel = client.keel();
    io.vertx.core.Vertx vertx = client.vertx();
    System.out.println("JOINED " + client.memberId());
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in,
        StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String[] w = line.trim().split("\\s+");
      if (w.length != 4 || !"HOLD".equals(w[0])) {
        continue;
      }
      keel.locks().withLock(w[1], new LockOptions().setLeaseMs(Long.parseLong(w[3]))
          .setHolder("holder-jvm"), lock -> {
            System.out.println("HOLDING keel " + lock.token());
            return Promise.<Void>promise().future();
          }).onFailure(t -> System.out.println("FAILED keel " + t));
      vertx.sharedData().getLockWithTimeout(w[2], 30_000)
          .onSuccess(l -> System.out.println("HOLDING vertx"))
          .onFailure(t -> System.out.println("FAILED vertx " + t));
    }
    System.exit(0);
  }

  /** A running holder JVM, seen from the benchmark. */
  static final class Handle implements AutoCloseable {
    private final Process process;
    private final Writer stdin;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final Path log;

    private Handle(Process process, Path log) {
      this.process = process;
      this.log = log;
      this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      Thread pump = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
            process.getInputStream(), StandardCharsets.UTF_8))) {
          String l;
          while ((l = r.readLine()) != null) {
            lines.add(l);
            Files.writeString(log, l + "\n", StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
          }
        } catch (IOException e) {
          lines.add("[pump] " + e);
        }
      }, "lock-holder-pump");
      pump.setDaemon(true);
      pump.start();
    }

    /** Starts a holder JVM with the arguments of {@link LockHolderProcess#main}. */
    static Handle start(Path log, List<String> args) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(Arrays.asList(("--add-modules java.se --add-exports"
          + " java.base/jdk.internal.ref=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED"
          + " --add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-opens"
          + " java.management/sun.management=ALL-UNNAMED --add-opens"
          + " jdk.management/com.sun.management.internal=ALL-UNNAMED -Xmx512m").split(" ")));
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(LockHolderProcess.class.getName());
      cmd.addAll(args);
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      Handle h = new Handle(p, log);
      Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
      return h;
    }

    /** Waits for a line (printed so far or later) starting with {@code prefix}; returns it. */
    String awaitLine(String prefix, Duration atMost) throws InterruptedException {
      long deadline = System.nanoTime() + atMost.toNanos();
      while (System.nanoTime() < deadline) {
        boolean alive = process.isAlive();
        for (String l : lines) {
          if (l.startsWith(prefix)) {
            return l;
          }
          if (l.startsWith("FAILED")) {
            throw new IllegalStateException("holder JVM: " + l + " (log " + log + ")");
          }
        }
        if (!alive) {
          throw new IllegalStateException("holder JVM exited with " + process.exitValue()
              + " (log " + log + ")");
        }
        Thread.sleep(20); // a benchmark's own poll of the child's output
      }
      throw new IllegalStateException("holder JVM printed no '" + prefix + "' within " + atMost
          + " (log " + log + ")");
    }

    void send(String line) throws IOException {
      stdin.write(line + "\n");
      stdin.flush();
    }

    /** SIGKILL, then waits for the process to be gone. */
    void kill9() throws InterruptedException {
      process.destroyForcibly();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("holder JVM " + process.pid() + " survived SIGKILL");
      }
    }

    @Override
    public void close() {
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UncheckedIOException(new IOException(e));
      }
    }
  }
}
