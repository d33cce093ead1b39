package io.keel.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.KeelOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event bus options Keel builds: plain by default, mutual TLS from PEM files when set, and
 * outgoing connections bound to the cluster host when that is one specific address.
 */
class ClusterSetupTest {
  private static final String PEM =
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

  @TempDir
  Path dir;

  @Test
  void without_tls_the_event_bus_is_plain() {
    EventBusOptions bus = ClusterSetup.vertxOptions(new KeelOptions(), "n1").getEventBusOptions();
    assertThat(bus.isSsl()).isFalse();
    assertThat(bus.getHost()).isEqualTo("127.0.0.1");
  }

  @Test
  void event_loops_are_vertx_default_unless_set() {
    assertThat(ClusterSetup.vertxOptions(new KeelOptions(), "n1").getEventLoopPoolSize())
        .isEqualTo(new VertxOptions().getEventLoopPoolSize());
    assertThat(ClusterSetup.vertxOptions(new KeelOptions().setEventLoops(1), "n1")
        .getEventLoopPoolSize()).isEqualTo(1);
  }

  @Test
  void on_x86_64_linux_the_event_loops_use_epoll() {
    VertxOptions options = ClusterSetup.vertxOptions(new KeelOptions(), "n1");
    assertThat(options.getPreferNativeTransport()).isTrue();
    Assumptions.assumeTrue(System.getProperty("os.name").equals("Linux")
        && List.of("amd64", "x86_64").contains(System.getProperty("os.arch")),
        "the jar carries Netty's native transport for x86-64 Linux only");
    Vertx vertx = Vertx.vertx(options.setEventLoopPoolSize(1).setWorkerPoolSize(1));
    try {
      assertThat(vertx.isNativeTransportEnabled())
          .as("native transport (cause: %s)", vertx.unavailableNativeTransportCause())
          .isTrue();
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void event_bus_connections_leave_from_a_specific_cluster_host() {
    VertxOptions vertx = ClusterSetup.vertxOptions(
        new KeelOptions().setClusterHost("127.0.0.11"), "n1");
    // What Vert.x's clustered event bus does to build its client.
    NetClientOptions client = new NetClientOptions(vertx.getEventBusOptions().toJson());
    assertThat(client.getLocalAddress()).isEqualTo("127.0.0.11");
    assertThat(vertx.getEventBusOptions().getHost()).isEqualTo("127.0.0.11");
    // And its server: the key means nothing there, and the bind address is unchanged.
    NetServerOptions server = new NetServerOptions(vertx.getEventBusOptions().toJson());
    assertThat(server.getHost()).isEqualTo("127.0.0.11");
    assertThat(new NetClientOptions(ClusterSetup.vertxOptions(new KeelOptions()
        .setClusterHost("::1"), "n1").getEventBusOptions().toJson()).getLocalAddress())
        .isEqualTo("::1");
  }

  @Test
  void a_wildcard_or_named_cluster_host_leaves_the_source_address_to_the_kernel() {
    for (String host : List.of("0.0.0.0", "::", "0:0:0:0:0:0:0:0", "localhost", "256.1.1.1")) {
      EventBusOptions bus = ClusterSetup.vertxOptions(new KeelOptions().setClusterHost(host),
          "n1").getEventBusOptions();
      assertThat(new NetClientOptions(bus.toJson()).getLocalAddress()).as(host).isNull();
      assertThat(bus.getHost()).as(host).isEqualTo(host);
    }
  }

  @Test
  void tls_options_keep_the_source_address() throws Exception {
    EventBusTlsOptions tls = files("node.key", "node.crt", "ca.crt");
    EventBusOptions bus = ClusterSetup.vertxOptions(new KeelOptions().setClusterHost("127.0.0.12")
        .setEventBusTls(tls), "n1").getEventBusOptions();
    NetClientOptions client = new NetClientOptions(bus.toJson());
    assertThat(client.getLocalAddress()).isEqualTo("127.0.0.12");
    assertThat(client.isSsl()).isTrue();
  }

  @Test
  void with_tls_the_event_bus_requires_client_certificates_from_the_pem_files() throws Exception {
    EventBusTlsOptions tls = files("node.key", "node.crt", "ca.crt");
    EventBusOptions bus = ClusterSetup.vertxOptions(new KeelOptions().setEventBusTls(tls), "n1")
        .getEventBusOptions();
    assertThat(bus.isSsl()).isTrue();
    assertThat(bus.getClientAuth()).isEqualTo(ClientAuth.REQUIRED);
    PemKeyCertOptions keyCert = (PemKeyCertOptions) bus.getKeyCertOptions();
    assertThat(keyCert.getKeyPaths()).containsExactly(tls.getKeyPath());
    assertThat(keyCert.getCertPaths()).containsExactly(tls.getCertPath());
    assertThat(((PemTrustOptions) bus.getTrustOptions()).getCertPaths())
        .containsExactly(tls.getTrustPath());
  }

  @Test
  void a_missing_or_non_pem_file_is_named() throws Exception {
    EventBusTlsOptions tls = files("node.key", "node.crt", "ca.crt");
    Path missing = dir.resolve("gone.crt");
    assertThatThrownBy(() -> ClusterSetup.vertxOptions(new KeelOptions().setEventBusTls(
        new EventBusTlsOptions(tls).setTrustPath(missing.toString())), "n1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("eventBusTls.trustPath " + missing.toAbsolutePath()
            + " is missing or not a readable file");
    Path der = dir.resolve("node.der");
    Files.write(der, new byte[] {0x30, (byte) 0x82, 0x01});
    assertThatThrownBy(() -> ClusterSetup.vertxOptions(new KeelOptions().setEventBusTls(
        new EventBusTlsOptions(tls).setCertPath(der.toString())), "n1"))
        .hasMessage("eventBusTls.certPath " + der.toAbsolutePath()
            + " holds no PEM block (-----BEGIN ...)");
  }

  private EventBusTlsOptions files(String key, String cert, String trust) throws Exception {
    List<Path> paths = List.of(dir.resolve(key), dir.resolve(cert), dir.resolve(trust));
    for (Path p : paths) {
      Files.writeString(p, PEM);
    }
    return new EventBusTlsOptions().setKeyPath(paths.get(0).toString())
        .setCertPath(paths.get(1).toString()).setTrustPath(paths.get(2).toString());
  }
}
