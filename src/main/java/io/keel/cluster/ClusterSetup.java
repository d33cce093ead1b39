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
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

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
   * @throws IllegalArgumentException naming the file, when a TLS file is missing, unreadable or
   *     holds no PEM block
   */
  public static VertxOptions vertxOptions(KeelOptions options, String nodeName) {
    EventBusOptions bus = new EventBusOptions()
        .setHost(options.getClusterHost())
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
    return new VertxOptions().setEventBusOptions(bus);
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
