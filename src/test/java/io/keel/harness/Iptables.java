package io.keel.harness;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drops packets between loopback addresses with iptables, in a chain of its own.
 *
 * <p>Opening one creates the chain {@code KEEL-<8 hex digits>} and jumps to it first thing in
 * {@code OUTPUT}: every packet on the loopback interface passes {@code OUTPUT}, so a rule there
 * sees traffic between two local processes. {@link #cut} and {@link #cutOneWay} add
 * {@code DROP} rules to the chain, {@link #heal()} empties it, and {@link #close()} removes the
 * jump and the chain. A JVM shutdown hook does the same if {@link #close()} was not called, so
 * an aborted test run leaves no rule behind; only a {@code kill -9} of the test JVM does
 * ({@code iptables -S | grep KEEL-} shows it).
 *
 * <p>Only 127.0.0.0/8 addresses are accepted: a test must never cut a real network. Rules
 * match the source address, so each side must send from its own address (nodes of
 * {@link ProcessCluster#onDistinctAddresses} do). Needs root; {@link #unavailableReason()}
 * tells why it cannot work here.
 *
 * <pre>{@code
 * try (Iptables net = new Iptables()) {
 *   net.cut("127.0.0.11", "127.0.0.12");
 *   ...
 *   net.heal();
 * }
 * }</pre>
 */
public final class Iptables implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Iptables.class);
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
  /** Seconds an iptables command waits for the xtables lock that another one holds. */
  private static final String LOCK_WAIT_S = "5";
  private static final Pattern LOOPBACK = Pattern.compile("127(\\.\\d{1,3}){3}");

  private final String chain = "KEEL-" + UUID.randomUUID().toString().substring(0, 8);
  private final Thread hook = new Thread(this::removeQuietly, "keel-iptables-cleanup");
  // Invariant: once closed, the chain and the jump to it are gone (or their removal failed).
  private boolean closed;

  /**
   * Creates the chain and hooks it into {@code OUTPUT}.
   *
   * @throws IllegalStateException with the command and its stderr if iptables fails
   */
  public Iptables() {
    run("-N", chain);
    try {
      run("-I", "OUTPUT", "1", "-j", chain);
    } catch (RuntimeException e) {
      removeQuietly();
      throw e;
    }
    Runtime.getRuntime().addShutdownHook(hook);
    log.info("iptables chain {} created and jumped to from OUTPUT", chain);
  }

  /**
   * Why iptables cannot be used here (missing, not root, no kernel support), or null when
   * {@code iptables -L OUTPUT -n} works.
   */
  public static String unavailableReason() {
    try {
      run("-L", "OUTPUT", "-n");
      return null;
    } catch (RuntimeException e) {
      return e.getMessage();
    }
  }

  /** The name of this instance's chain. */
  public String chain() {
    return chain;
  }

  /** Drops every packet between {@code a} and {@code b}, both ways (loopback addresses). */
  public synchronized void cut(String a, String b) {
    requireLoopback(a);
    requireLoopback(b);
    cutOneWay(a, b);
    cutOneWay(b, a);
  }

  /**
   * Drops every packet from {@code from} to {@code to} (loopback addresses); packets from
   * {@code to} still reach {@code from}. A TCP handshake needs both ways, so new connections
   * fail both ways; an established one still delivers {@code to}'s data to {@code from}, whose
   * acknowledgements are lost.
   */
  public synchronized void cutOneWay(String from, String to) {
    requireLoopback(from);
    requireLoopback(to);
    requireOpen();
    run("-A", chain, "-s", from + "/32", "-d", to + "/32", "-j", "DROP");
    log.info("iptables {}: dropping {} -> {}", chain, from, to);
  }

  /** Removes every cut: the chain stays, empty. */
  public synchronized void heal() {
    requireOpen();
    run("-F", chain);
    log.info("iptables {}: healed (chain flushed)", chain);
  }

  /** The chain's rules as {@code iptables -S <chain>} prints them. */
  public synchronized List<String> rules() {
    requireOpen();
    return List.of(run("-S", chain).split("\n"));
  }

  /**
   * Removes the jump from {@code OUTPUT}, then flushes and deletes the chain. Idempotent.
   *
   * @throws IllegalStateException with the command and its stderr if a step fails (the other
   *     steps are still tried)
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // The JVM is shutting down: the hook runs, and finds the chain already gone.
    }
    List<RuntimeException> failures = remove();
    if (!failures.isEmpty()) {
      IllegalStateException e = new IllegalStateException("cannot remove iptables chain "
          + chain + ": " + failures.get(0).getMessage());
      failures.forEach(e::addSuppressed);
      throw e;
    }
    log.info("iptables chain {} removed", chain);
  }

  private synchronized void removeQuietly() {
    closed = true;
    for (RuntimeException e : remove()) {
      log.warn("iptables chain {}: clean-up step failed: {}", chain, e.getMessage());
    }
  }

  /**
   * Removes the jump, then empties and deletes the chain, each step only if still needed (so a
   * second removal is quiet) and tried whatever the others did; returns the failures.
   */
  private List<RuntimeException> remove() {
    List<RuntimeException> failures = new ArrayList<>();
    if (jumped()) {
      attempt(failures, "-D", "OUTPUT", "-j", chain);
    }
    if (exists()) {
      attempt(failures, "-F", chain);
      attempt(failures, "-X", chain);
    }
    return failures;
  }

  private static void attempt(List<RuntimeException> failures, String... args) {
    try {
      run(args);
    } catch (RuntimeException e) {
      failures.add(e);
    }
  }

  private boolean exists() {
    try {
      run("-S", chain);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private boolean jumped() {
    try {
      run("-C", "OUTPUT", "-j", chain);
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("iptables chain " + chain + " is closed");
    }
  }

  /** Fails unless {@code address} is a dotted IPv4 address in 127.0.0.0/8. */
  static void requireLoopback(String address) {
    boolean ok = address != null && LOOPBACK.matcher(address).matches();
    if (ok) {
      for (String octet : address.split("\\.")) {
        ok &= Integer.parseInt(octet) <= 255;
      }
    }
    if (!ok) {
      throw new IllegalArgumentException("only loopback addresses (127.0.0.0/8) may be cut, was "
          + address);
    }
  }

  /**
   * Runs {@code iptables -w 5 <args>} and returns its stdout.
   *
   * @throws IllegalStateException naming the command, with its exit code and stderr, if it
   *     cannot start, fails, or outlives {@link #COMMAND_TIMEOUT} (then it is killed)
   */
  private static String run(String... args) {
    List<String> cmd = new ArrayList<>(List.of("iptables", "-w", LOCK_WAIT_S));
    cmd.addAll(List.of(args));
    String line = String.join(" ", cmd);
    Path out = null;
    Path err = null;
    try {
      out = Files.createTempFile("keel-iptables-", ".out");
      err = Files.createTempFile("keel-iptables-", ".err");
      // Files, not pipes: a command that hangs cannot block the reader past the timeout.
      Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile())
          .redirectError(err.toFile()).start();
      if (!waitFor(p, COMMAND_TIMEOUT)) {
        p.destroyForcibly();
        throw new IllegalStateException(line + " did not finish within " + COMMAND_TIMEOUT
            + " (killed); stderr: " + Files.readString(err, StandardCharsets.UTF_8).trim());
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(line + " failed with exit code " + p.exitValue()
            + ": " + Files.readString(err, StandardCharsets.UTF_8).trim());
      }
      return Files.readString(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(line + " could not run: " + e, e);
    } finally {
      deleteQuietly(out);
      deleteQuietly(err);
    }
  }

  /**
   * Waits for {@code p} up to {@code atMost} even if this thread is interrupted (a test that
   * timed out still removes its chain in its clean-up), and keeps the interrupt for the caller.
   */
  private static boolean waitFor(Process p, Duration atMost) {
    long deadline = System.nanoTime() + atMost.toNanos();
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void deleteQuietly(Path file) {
    if (file == null) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      file.toFile().deleteOnExit(); // a temporary file: not worth failing the command for
    }
  }
}
