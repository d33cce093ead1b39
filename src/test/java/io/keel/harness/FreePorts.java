package io.keel.harness;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports on 127.0.0.1 (or on another loopback address), never the same one twice in a
 * JVM.
 *
 * <p>Ports come from below the kernel's ephemeral range: a port the kernel handed out as
 * "any free port" may meanwhile become the source port of an outgoing connection (Hazelcast
 * dials its members all the time), and a node binding it later would fail.
 */
public final class FreePorts {
  private static final Set<Integer> handedOut = new HashSet<>();
  private static final int LOW = 10_000;
  private static final int HIGH = ephemeralLow();

  private FreePorts() {}

  /** A port that was free on 127.0.0.1 a moment ago and has not been handed out before. */
  public static int next() {
    return next("127.0.0.1");
  }

  /**
   * A port that was free on {@code host} (an address of this machine) a moment ago and has not
   * been handed out before, for any address.
   */
  public static synchronized int next(String host) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int i = 0; i < 1000; i++) {
      int port = random.nextInt(LOW, HIGH);
      if (!handedOut.contains(port) && free(host, port)) {
        handedOut.add(port);
        return port;
      }
    }
    throw new IllegalStateException("no free port found in " + LOW + ".." + HIGH);
  }

  private static boolean free(String host, int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new java.net.InetSocketAddress(InetAddress.getByName(host), port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The low end of the kernel's ephemeral port range (Linux), else 32768. */
  private static int ephemeralLow() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      int low = Integer.parseInt(range.split("\\s+")[0]);
      return low > LOW + 2000 ? low : 32_768;
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }
}
