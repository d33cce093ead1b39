package io.keel.harness;

import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Keel node as a real child JVM: {@code java <keel.child.jvm.args> -jar <keel.jar> <args>}.
 *
 * <p>Its stdout and stderr go, line by line, to one log file (kept; a restart appends) and to
 * memory ({@link #stdoutLines()}, {@link #stderrLines()}) for the current run. The node is
 * ready when it has printed {@code Keel node <name> ready} and {@code GET /health/ready} answers
 * 200. Signals are sent by pid: {@link #kill9()} (SIGKILL), {@link #terminate()} (SIGTERM),
 * {@link #pause()} / {@link #resume()} (SIGSTOP / SIGCONT).
 *
 * <p>Every process started here is destroyed by a JVM shutdown hook if still alive;
 * {@link Guard}, a JUnit extension, kills leftovers after each test and fails the test when
 * there were any.
 */
public final class NodeProcess {
  private static final Logger log = LoggerFactory.getLogger(NodeProcess.class);
  /** The start of the line a node prints on stdout once it serves. */
  public static final String READY_PREFIX = "Keel node ";
  private static final Pattern READY = Pattern.compile(
      "^Keel node (\\S+) ready(?:: dashboard http://[^:/]+:(\\d+)/)?.*");
  private static final String TOKEN_ENV = "KEEL_HTTP_TOKEN";
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(2);
  private static final List<NodeProcess> LAUNCHED = new CopyOnWriteArrayList<>();
  private static Path jarCopy;
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(1)).build();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(NodeProcess::destroyAll, "keel-node-reaper"));
  }

  private final String label;
  private final Path logFile;
  private Class<?> mainClass;
  private List<String> mainJvmArgs = List.of();
  private final Path workDir;
  private final List<String> args;
  private final String httpHost;
  private final int httpPort;
  private final Map<String, String> environment = new LinkedHashMap<>();
  private final Object logLock = new Object();
  private volatile Process process;
  private volatile List<String> stdout = new CopyOnWriteArrayList<>();
  private volatile List<String> stderr = new CopyOnWriteArrayList<>();
  private volatile Ready ready;
  private volatile List<Thread> pumps = List.of();

  /**
   * A node process, not started yet.
   *
   * @param label names the process in messages (the node name, usually)
   * @param logFile where stdout and stderr go (appended)
   * @param workDir the working directory (no {@code config/keel.json} should be there unless
   *     meant)
   * @param httpPort the node's HTTP port, or 0 to read it from the ready line, -1 for none
   * @param args the command-line arguments after {@code -jar keel.jar}
   */
  public NodeProcess(String label, Path logFile, Path workDir, int httpPort, List<String> args) {
    this(label, logFile, workDir, "127.0.0.1", httpPort, args);
  }

  /**
   * A node process, not started yet, whose HTTP server listens on {@code httpHost} (the
   * address this class's own requests go to).
   *
   * @param label names the process in messages (the node name, usually)
   * @param logFile where stdout and stderr go (appended)
   * @param workDir the working directory
   * @param httpHost the node's HTTP address ({@code --http-host})
   * @param httpPort the node's HTTP port, or 0 to read it from the ready line, -1 for none
   * @param args the command-line arguments after {@code -jar keel.jar}
   */
  public NodeProcess(String label, Path logFile, Path workDir, String httpHost, int httpPort,
      List<String> args) {
    this.label = label;
    this.logFile = logFile;
    this.workDir = workDir;
    this.httpHost = httpHost;
    this.httpPort = httpPort;
    this.args = List.copyOf(args);
  }

  /**
   * Sets {@code name} to {@code value} in the environment of the next start, or removes it when
   * {@code value} is null (the process inherits the rest of this JVM's environment). With
   * {@code KEEL_HTTP_TOKEN} set, this class's own requests ({@link #get}) send that token.
   */
  public synchronized NodeProcess environment(String name, String value) {
    environment.put(name, value);
    return this;
  }

  /**
   * Runs the node through {@code main} (a class of the tests, beside the jar on the class path)
   * instead of the jar's own main, with {@code jvmArgs} added, from the next start on.
   */
  public synchronized NodeProcess mainClass(Class<?> main, List<String> jvmArgs) {
    this.mainClass = main;
    this.mainJvmArgs = List.copyOf(jvmArgs);
    return this;
  }

  /**
   * The JVM arguments that run {@link #mainClass} with the jar and the test classes on the
   * class path. {@code -jar} would apply the jar manifest's {@code Add-Opens} and
   * {@code Add-Exports}; a class-path launch needs them as flags.
   */
  private List<String> mainClassLaunch() {
    List<String> out = new ArrayList<>(mainJvmArgs);
    Path jar = runnableJar();
    try (JarFile j = new JarFile(jar.toFile())) {
      Attributes a = j.getManifest().getMainAttributes();
      for (String kind : List.of("Add-Opens", "Add-Exports")) {
        String packages = a.getValue(kind);
        for (String pkg : packages == null ? new String[0] : packages.trim().split("\\s+")) {
          out.add("--" + kind.toLowerCase(Locale.ROOT) + "=" + pkg + "=ALL-UNNAMED");
        }
      }
      Path classes = Path.of(mainClass.getProtectionDomain().getCodeSource().getLocation()
          .toURI());
      // The node logs as the jar's own logback.xml says, not as the tests' logback-test.xml.
      out.add("-Dlogback.configurationFile=logback.xml");
      out.add("-cp");
      out.add(jar + File.pathSeparator + classes);
    } catch (IOException | URISyntaxException e) {
      throw new IllegalStateException("cannot launch " + mainClass.getName() + " beside " + jar,
          e);
    }
    out.add(mainClass.getName());
    return out;
  }

  /** The built jar: system property {@code keel.jar} (set by failsafe), else target/keel.jar. */
  public static Path jar() {
    Path jar = Path.of(System.getProperty("keel.jar", "target/keel.jar")).toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: build it with mvn package (or run"
          + " the test with mvn verify)");
    }
    return jar;
  }

  /**
   * A private copy of {@link #jar()}, made once per test JVM, that the nodes run: a
   * {@code mvn package} running meanwhile rewrites target/keel.jar under running nodes.
   */
  private static synchronized Path runnableJar() {
    if (jarCopy == null) {
      try {
        Path copy = Files.createTempFile("keel-under-test-", ".jar");
        copy.toFile().deleteOnExit();
        jarCopy = Files.copy(jar(), copy, StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot copy " + jar(), e);
      }
    }
    return jarCopy;
  }

  /** Where node logs go: {@code node-logs} beside the jar (target/node-logs). */
  public static Path logRoot() {
    return jar().getParent().resolve("node-logs");
  }

  /** {@code logRoot()/name}, emptied (created if missing): where one run's node logs go. */
  public static Path freshLogDir(String name) throws IOException {
    Path dir = logRoot().resolve(name);
    InJvmCluster.deleteTree(dir);
    return Files.createDirectories(dir);
  }

  /** Launches the process (it must not be running); returns at once. */
  public synchronized NodeProcess start() {
    if (isAlive()) {
      throw new IllegalStateException(label + " is already running, pid " + pid());
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    String jvmArgs = System.getProperty("keel.child.jvm.args", "").trim();
    if (!jvmArgs.isEmpty()) {
      cmd.addAll(Arrays.asList(jvmArgs.split("\\s+")));
    }
    if (mainClass == null) {
      cmd.add("-jar");
      cmd.add(runnableJar().toString());
    } else {
      cmd.addAll(mainClassLaunch());
    }
    cmd.addAll(args);
    stdout = new CopyOnWriteArrayList<>();
    stderr = new CopyOnWriteArrayList<>();
    ready = null;
    try {
      Files.createDirectories(logFile.getParent());
      appendLog("---- " + label + ": " + String.join(" ", args));
      ProcessBuilder builder = new ProcessBuilder(cmd).directory(workDir.toFile());
      environment.forEach((k, v) -> {
        if (v == null) {
          builder.environment().remove(k);
        } else {
          builder.environment().put(k, v);
        }
      });
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + label, e);
    }
    LAUNCHED.add(this);
    pumps = List.of(pump(process.getInputStream(), stdout, true, "out"),
        pump(process.getErrorStream(), stderr, false, "err"));
    log.info("{}: started, pid {}, log {}", label, process.pid(), logFile);
    return this;
  }

  /** {@link #awaitReady(Duration)} with a bound for a loaded 2-core machine (90 s). */
  public NodeProcess awaitReady() {
    return awaitReady(READY_TIMEOUT);
  }

  /**
   * Waits for the ready line, then for {@code GET /health/ready} to answer 200 (when the node
   * has HTTP). Fails at once if the process exits.
   */
  public NodeProcess awaitReady(Duration atMost) {
    long deadline = System.nanoTime() + atMost.toNanos();
    await(label + " ready line").atMost(atMost).pollInterval(Duration.ofMillis(50))
        .failFast(this::requireAlive).until(() -> ready != null);
    if (httpPort() > 0) {
      Duration left = Duration.ofNanos(Math.max(deadline - System.nanoTime(), 1_000_000_000L));
      await(label + " /health/ready").atMost(left).pollInterval(Duration.ofMillis(100))
          .ignoreExceptions().failFast(this::requireAlive)
          .until(() -> healthReady() == 200);
    }
    return this;
  }

  private void requireAlive() {
    Process p = requireStarted();
    if (!p.isAlive()) {
      throw new AssertionError(label + " exited with " + p.exitValue()
          + " before it was ready; log " + logFile);
    }
  }

  /** Restarts a stopped or killed node with the same arguments (name, ports, data dir). */
  public NodeProcess restart() {
    return start().awaitReady();
  }

  /** SIGKILL, then waits for the process to be gone; it exits with 137. */
  public int kill9() {
    Process p = requireStarted();
    p.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no goodbye to the cluster
    int code = awaitExit(EXIT_TIMEOUT);
    if (ProcessHandle.of(p.pid()).map(ProcessHandle::isAlive).orElse(false)) {
      throw new AssertionError(label + " (pid " + p.pid() + ") is still alive after SIGKILL");
    }
    return code;
  }

  /** Sends SIGTERM and returns at once. */
  public void terminate() {
    signal("TERM");
  }

  /** SIGTERM, then waits for the exit and returns its code (the node leaves the cluster). */
  public int stop() {
    terminate();
    return awaitExit(EXIT_TIMEOUT);
  }

  /** SIGSTOP: the process is frozen, its sockets stay open. */
  public void pause() {
    signal("STOP");
  }

  /** SIGCONT after {@link #pause()}. */
  public void resume() {
    signal("CONT");
  }

  /**
   * Waits for the process to exit and returns its exit code; its output is complete then.
   * A process still running after {@code atMost} is killed and the wait fails.
   */
  public int awaitExit(Duration atMost) {
    Process p = requireStarted();
    try {
      if (!p.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError(label + " did not exit within " + atMost + "; killed. Log tail:\n"
            + tail(30));
      }
      for (Thread t : pumps) {
        t.join(5_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for " + label, e);
    }
    log.info("{}: exited with {}", label, p.exitValue());
    return p.exitValue();
  }

  /** Whether the process runs (a paused process runs). */
  public boolean isAlive() {
    Process p = process;
    return p != null && p.isAlive();
  }

  /** The current (or last) process id. */
  public long pid() {
    return requireStarted().pid();
  }

  /** The label given at construction (the node name for cluster nodes). */
  public String label() {
    return label;
  }

  /** The log file (kept after the test). */
  public Path logFile() {
    return logFile;
  }

  /** The address of the node's HTTP server, which this class's requests go to. */
  public String httpHost() {
    return httpHost;
  }

  /** The HTTP port: the configured one, else the one in the ready line; -1 if none. */
  public int httpPort() {
    if (httpPort != 0) {
      return httpPort;
    }
    Ready r = ready;
    return r == null ? -1 : r.httpPort();
  }

  /** The node name in the ready line, or null before it. */
  public String readyName() {
    Ready r = ready;
    return r == null ? null : r.name();
  }

  /** The stdout lines of the current run so far. */
  public List<String> stdoutLines() {
    return List.copyOf(stdout);
  }

  /** The stderr lines of the current run so far (complete after {@link #awaitExit}). */
  public List<String> stderrLines() {
    return List.copyOf(stderr);
  }

  /** {@code GET /status} as JSON; throws if the node does not answer 200 in time. */
  public JsonObject status() {
    HttpResponse<String> r = get("/status");
    if (r.statusCode() != 200) {
      throw new IllegalStateException(label + " /status answered " + r.statusCode());
    }
    return new JsonObject(r.body());
  }

  /** The status code of {@code GET /health/ready}. */
  public int healthReady() {
    return get("/health/ready").statusCode();
  }

  /** {@code GET path} on the node's HTTP port, with short timeouts. */
  public HttpResponse<String> get(String path) {
    int port = httpPort();
    if (port <= 0) {
      throw new IllegalStateException(label + " has no known HTTP port");
    }
    String host = httpHost.contains(":") ? "[" + httpHost + "]" : httpHost;
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://" + host + ":" + port
        + path)).timeout(HTTP_TIMEOUT).GET();
    String token;
    synchronized (this) {
      token = environment.get(TOKEN_ENV);
    }
    if (token != null) {
      req.header("Authorization", "Bearer " + token);
    }
    try {
      return HTTP.send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(label + " GET " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The last {@code lines} lines of the log file. */
  public String tail(int lines) {
    try {
      List<String> all = Files.exists(logFile) ? Files.readAllLines(logFile) : List.of();
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + logFile + ": " + e + ")";
    }
  }

  @Override
  public String toString() {
    Process p = process;
    return label + (p == null ? " (not started)" : " (pid " + p.pid() + ", "
        + (p.isAlive() ? "alive" : "exited " + p.exitValue()) + ")");
  }

  /** Kills this process if it runs and waits for it; used by clean-up paths. */
  void destroy() {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void destroyAll() {
    for (NodeProcess n : LAUNCHED) {
      n.destroy();
    }
  }

  private void signal(String name) {
    long pid = pid();
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid))
          .redirectErrorStream(true).start();
      String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + name + " " + pid + " failed: " + out.trim());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("kill -" + name + " " + pid + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    log.info("{}: sent SIG{} to pid {}", label, name, pid);
  }

  private Process requireStarted() {
    Process p = process;
    if (p == null) {
      throw new IllegalStateException(label + " was never started");
    }
    return p;
  }

  private Thread pump(InputStream in, List<String> lines, boolean out, String stream) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in,
          StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          lines.add(line);
          appendLog(out ? line : "[stderr] " + line);
          if (out && ready == null && line.startsWith(READY_PREFIX)) {
            Matcher m = READY.matcher(line);
            if (m.matches()) {
              ready = new Ready(m.group(1), m.group(2) == null ? -1 : Integer.parseInt(m.group(2)));
            }
          }
        }
      } catch (IOException e) {
        appendLog("[harness] " + stream + " of " + label + " failed: " + e);
      }
    }, "keel-node-" + label + "-" + stream);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private void appendLog(String line) {
    synchronized (logLock) {
      try (Writer w = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
        w.write(line);
        w.write('\n');
      } catch (IOException e) {
        log.warn("{}: cannot write log {}: {}", label, logFile, e.toString());
      }
    }
  }

  /** What the ready line says: the node's name and its HTTP port (-1 without HTTP). */
  private record Ready(String name, int httpPort) {}

  /**
   * JUnit extension for tests that start node processes: names the test's log directory
   * ({@link #logDir()}, {@code target/node-logs/<Class>.<method>}, emptied before the test) and,
   * after the test and its {@code @AfterEach} methods, prints the log tails of the processes the
   * test started if it failed, kills any child process still alive, and fails the test if there
   * was one (every test must clean up after itself).
   */
  public static final class Guard implements BeforeEachCallback, AfterEachCallback {
    private static final int TAIL_LINES = 40;
    private Path logDir;
    private int firstLaunched;

    /** The directory for this test's node logs. */
    public Path logDir() {
      if (logDir == null) {
        throw new IllegalStateException("register the Guard with @RegisterExtension");
      }
      return logDir;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
      logDir = freshLogDir(context.getRequiredTestClass().getSimpleName() + "."
          + context.getRequiredTestMethod().getName());
      firstLaunched = LAUNCHED.size();
    }

    @Override
    public void afterEach(ExtensionContext context) {
      List<NodeProcess> mine = List.copyOf(LAUNCHED.subList(firstLaunched, LAUNCHED.size()));
      if (context.getExecutionException().isPresent()) {
        for (NodeProcess n : new LinkedHashSet<>(mine)) {
          log.warn("{} failed; last {} lines of {}:\n{}", context.getDisplayName(), TAIL_LINES,
              n.logFile(), n.tail(TAIL_LINES));
        }
      }
      List<ProcessHandle> leaked = ProcessHandle.current().children()
          .filter(ProcessHandle::isAlive).toList();
      for (ProcessHandle h : leaked) {
        h.destroyForcibly();
        h.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> h).join();
      }
      if (!leaked.isEmpty()) {
        throw new AssertionError("child processes still alive after the test (now killed): "
            + leaked.stream().map(Guard::describe).toList());
      }
    }

    private static String describe(ProcessHandle h) {
      for (NodeProcess n : LAUNCHED) {
        Process p = n.process;
        if (p != null && p.pid() == h.pid()) {
          return n.label + " (pid " + h.pid() + ", log " + n.logFile + ")";
        }
      }
      return "pid " + h.pid();
    }
  }
}
