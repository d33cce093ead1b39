package io.keel.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.XmlConfigBuilder;
import io.keel.KeelOptions;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Builds the Hazelcast configuration and Vert.x options of a Keel node from its options.
 *
 * <p>The XML comes from, in order: {@link KeelOptions#getClusterConfig()},
 * {@code -Dvertx.hazelcast.config}, {@code config/cluster.xml} in the working directory, and
 * the copy of that file built into the jar (vertx-hazelcast's own order, with Keel's file in
 * place of its multicast default). Cluster name, port, bind address and members always come
 * from the options, so that flags mean what they say; only when the XML turns on Kubernetes
 * discovery is the member list left to it.
 */
public final class ClusterSetup {
  /** The metadata key under which a node publishes its Keel identity. */
  public static final String METADATA_KEY = "keel";
  static final String BUILT_IN = "io/keel/config/cluster.xml";
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private ClusterSetup() {}

  /** The Hazelcast configuration for {@code options}. */
  public static Config hazelcastConfig(KeelOptions options) {
    Config config = loadXml(options.getClusterConfig());
    config.setClusterName(options.getClusterName());
    config.setProperty("hazelcast.local.localAddress", options.getClusterHost());
    config.setProperty("hazelcast.socket.bind.any", "false");
    NetworkConfig net = config.getNetworkConfig();
    net.setPort(options.getClusterPort()).setPortAutoIncrement(false);
    net.getInterfaces().setEnabled(true).clear().addInterface(options.getClusterHost());
    JoinConfig join = net.getJoin();
    if (join.getKubernetesConfig().isEnabled()) {
      // Discovery by the Kubernetes API, configured in the XML: the member list is not ours.
      return config;
    }
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).clear();
    for (String member : options.getJoin()) {
      join.getTcpIpConfig().addMember(member);
    }
    return config;
  }

  /** A cluster manager over {@link #hazelcastConfig(KeelOptions)}. */
  public static HazelcastClusterManager clusterManager(KeelOptions options) {
    return new HazelcastClusterManager(hazelcastConfig(options));
  }

  /**
   * Vert.x options for a Keel node: the event bus on the cluster host, on mutual TLS when
   * {@link KeelOptions#getEventBusTls()} is set, and the node metadata that tells other members
   * this node's stable name and role. An application that builds its own clustered Vert.x must
   * publish this metadata too ({@link #nodeMetadata}).
   *
   * <p>When the cluster host is one specific IP address (not a wildcard such as {@code 0.0.0.0}
   * or {@code ::}, and not a host name), the node's outgoing event-bus connections leave from
   * that address too, as Hazelcast's do ({@code hazelcast.socket.bind.any=false}). Otherwise the
   * kernel picks the source address: for a peer at 127.0.0.12 it picks 127.0.0.1 whatever the
   * node's own address, so a firewall rule written per node address (a network partition
   * between two nodes of one machine, say) would cut Hazelcast's traffic but not the event
   * bus's. Vert.x has no event-bus setting for it: its clustered event bus builds its client
   * from {@code new NetClientOptions(eventBusOptions.toJson())}, so the options returned here
   * add {@code localAddress} to that JSON. A copy made with {@code new EventBusOptions(other)}
   * loses this; {@code Vertx.builder().with(options)} keeps the same object.
   *
   * @throws IllegalArgumentException naming the file, when a TLS file is missing, unreadable or
   *     holds no PEM block
   */
  public static VertxOptions vertxOptions(KeelOptions options, String nodeName) {
    String host = options.getClusterHost();
    EventBusOptions bus = (isSpecificAddress(host) ? new BoundEventBusOptions(host)
        : new EventBusOptions())
        .setHost(host)
        .setPort(options.getBusPort())
        .setClusterNodeMetadata(nodeMetadata(options, nodeName));
    EventBusTlsOptions tls = options.getEventBusTls();
    if (tls.isEnabled()) {
      requirePem("eventBusTls.keyPath", tls.getKeyPath());
      requirePem("eventBusTls.certPath", tls.getCertPath());
      requirePem("eventBusTls.trustPath", tls.getTrustPath());
      // Both directions: a node presents its certificate as a server and as a client, and
      // accepts only peers whose certificate chains to the trusted ones (mutual TLS).
      bus.setSsl(true)
          .setKeyCertOptions(new PemKeyCertOptions().setKeyPath(tls.getKeyPath())
              .setCertPath(tls.getCertPath()))
          .setTrustOptions(new PemTrustOptions().addCertPath(tls.getTrustPath()))
          .setClientAuth(ClientAuth.REQUIRED);
    }
    // Linux's epoll through Netty's native transport where it is available (the jar carries it
    // for x86-64 Linux), else Java's NIO: each event-bus message costs fewer system calls.
    VertxOptions vertx = new VertxOptions().setEventBusOptions(bus)
        .setPreferNativeTransport(true);
    return options.getEventLoops() == 0 ? vertx
        : vertx.setEventLoopPoolSize(options.getEventLoops());
  }

  /**
   * Whether {@code host} is an IP literal that names one address: not a wildcard, and not a
   * host name (which may resolve to several addresses, or to another family than a peer's).
   */
  static boolean isSpecificAddress(String host) {
    if (!isIpv4Literal(host) && !host.contains(":")) {
      return false;
    }
    try {
      // A literal is parsed, never looked up.
      return !InetAddress.getByName(host).isAnyLocalAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static boolean isIpv4Literal(String host) {
    if (!IPV4.matcher(host).matches()) {
      return false;
    }
    for (String octet : host.split("\\.")) {
      if (Integer.parseInt(octet) > 255) {
        return false;
      }
    }
    return true;
  }

  /**
   * Event-bus options whose JSON form also carries {@code localAddress}: the clustered event
   * bus's client options are built from that JSON, so its connections bind to this address.
   * Its server options are built from the same JSON and ignore the key.
   */
  static final class BoundEventBusOptions extends EventBusOptions {
    private final String localAddress;

    BoundEventBusOptions(String localAddress) {
      this.localAddress = localAddress;
    }

    @Override
    public JsonObject toJson() {
      return super.toJson().put("localAddress", localAddress);
    }
  }

  /** Fails with a sentence naming {@code key} and the file unless it is a readable PEM file. */
  private static void requirePem(String key, String path) {
    Path file = Path.of(path);
    if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
      throw new IllegalArgumentException(key + " " + file.toAbsolutePath()
          + " is missing or not a readable file");
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new IllegalArgumentException(key + " " + file.toAbsolutePath() + " cannot be read ("
          + e.getMessage() + ")");
    }
    if (!text.contains("-----BEGIN ")) {
      throw new IllegalArgumentException(key + " " + file.toAbsolutePath()
          + " holds no PEM block (-----BEGIN ...)");
    }
  }

  /** The node metadata {@code {"keel": {name, role, weight}}}. */
  public static JsonObject nodeMetadata(KeelOptions options, String nodeName) {
    return new JsonObject().put(METADATA_KEY, new JsonObject()
        .put("name", nodeName)
        .put("role", options.getRole().wire())
        .put("weight", options.getWeight()));
  }

  private static Config loadXml(String explicit) {
    String path = explicit != null ? explicit : System.getProperty("vertx.hazelcast.config");
    try {
      if (path != null && path.startsWith("classpath:")) {
        return fromResource(path.substring("classpath:".length()));
      }
      if (path != null) {
        return fromFile(Path.of(path));
      }
      Path local = Path.of("config", "cluster.xml");
      if (Files.isRegularFile(local)) {
        return fromFile(local);
      }
      return fromResource(BUILT_IN);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read cluster configuration " + path + ": " + e, e);
    }
  }

  private static Config fromFile(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return new XmlConfigBuilder(in).build();
    }
  }

  private static Config fromResource(String name) throws IOException {
    try (InputStream in = ClusterSetup.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("no resource " + name + " on the class path");
      }
      return new XmlConfigBuilder(in).build();
    }
  }
}
