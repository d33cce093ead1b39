package io.keel.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.harness.FreePorts;
import io.keel.harness.InJvmCluster;
import io.keel.locks.FencedLock;
import io.keel.locks.LockOptions;
import io.keel.routing.Member;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SelfSignedCertificate;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The clustered event bus on mutual TLS, with self-signed pairs made by the test: two nodes
 * sharing one pair serve locks, the map and routed requests to each other; a third node with a
 * pair of its own joins Hazelcast but never gets listed or placed by the two, and its start
 * fails naming them; the two keep working.
 */
class EventBusTlsIT {
  private static final int PARTITIONS = 8;

  @TempDir
  Path dir;
  private InJvmCluster cluster;
  private EventBusTlsOptions good;
  private Keel a;
  private Keel b;
  private Future<Keel> intruder;

  @BeforeEach
  void start_two_nodes_on_one_pair() throws Exception {
    good = selfSigned("good");
    cluster = new InJvmCluster(3);
    a = cluster.start("a", o -> o.setPartitions(PARTITIONS).setEventBusTls(good)
        .setBusPort(FreePorts.next()));
    b = cluster.start("b", o -> o.setPartitions(PARTITIONS).setEventBusTls(good));
    InJvmCluster.awaitActive(PARTITIONS, a, b);
  }

  @AfterEach
  void stop_every_node() throws Exception {
    try {
      if (intruder != null) {
        await().atMost(Duration.ofSeconds(60)).until(intruder::isComplete);
        if (intruder.succeeded()) {
          intruder.result().close().await(30, TimeUnit.SECONDS);
        }
      }
    } finally {
      cluster.close();
    }
  }

  @Test
  void locks_maps_and_routed_requests_cross_the_tls_event_bus() throws Exception {
    assertWorks("first");
  }

  @Test
  void the_bus_port_presents_the_configured_certificate_and_requires_one_back() throws Exception {
    X509Certificate expected;
    try (InputStream in = Files.newInputStream(Path.of(good.getCertPath()))) {
      expected = (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(in);
    }
    Set<X509Certificate> presented = ConcurrentHashMap.newKeySet();
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, new TrustManager[] {recordingTrustManager(presented)}, null);
    int port = a.options().getBusPort();
    boolean refused;
    try (SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      socket.setSoTimeout(5_000);
      // No client certificate: the handshake fails, or (TLS 1.3) the server closes right after.
      try {
        socket.startHandshake();
        socket.getOutputStream().write(new byte[] {0, 0, 0, 1});
        socket.getOutputStream().flush();
        refused = socket.getInputStream().read() == -1;
      } catch (java.io.IOException e) {
        refused = true;
      }
    }
    assertThat(presented).as("the certificate a's event bus presents").containsExactly(expected);
    assertThat(refused).as("a connection without a client certificate is refused").isTrue();
  }

  @Test
  void a_node_with_another_certificate_is_never_placed_and_its_start_fails() throws Exception {
    long epoch = a.routing().table().epoch();
    EventBusTlsOptions other = selfSigned("other");
    ListAppender<ILoggingEvent> logs = captureMembershipLogs();
    Set<String> listedByGood = ConcurrentHashMap.newKeySet();
    Set<Long> epochsOfGood = ConcurrentHashMap.newKeySet();
    try {
      intruder = Keel.start(cluster.nextOptions("c").setPartitions(PARTITIONS)
          .setEventBusTls(other));
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
        for (Keel k : List.of(a, b)) {
          k.routing().members().forEach(m -> listedByGood.add(m.name()));
          k.routing().table().members().forEach(m -> listedByGood.add(m.name()));
          epochsOfGood.add(k.routing().table().epoch());
        }
        return intruder.isComplete();
      });
    } finally {
      releaseMembershipLogs(logs);
    }
    assertThat(intruder.failed()).as("c's start fails").isTrue();
    assertThat(intruder.cause()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("node c: reached 0 of the 2 other members over the event bus")
        .hasMessageContaining("not joining")
        .hasMessageContaining("Unreachable: a at 127.0.0.1")
        .hasMessageContaining("b at 127.0.0.1")
        .hasMessageContaining("eventBusTls");
    assertThat(listedByGood).as("members and table members a and b ever showed")
        .containsExactlyInAnyOrder("a", "b");
    assertThat(epochsOfGood).as("a and b stayed on their table").containsExactly(epoch);
    assertThat(logs.list).anySatisfy(e -> {
      assertThat(e.getLevel()).isEqualTo(Level.ERROR);
      assertThat(e.getFormattedMessage()).startsWith("node c: reached 0 of the 2 other members");
    });
    assertThat(logs.list).anySatisfy(e -> {
      assertThat(e.getLevel()).isEqualTo(Level.WARN);
      assertThat(e.getFormattedMessage()).contains("member c (").contains("not listed");
    });
    assertWorks("after");
    assertThat(a.routing().table().members()).extracting(Member::name)
        .containsExactly("a", "b");
  }

  @Test
  void a_missing_key_file_fails_the_start_naming_it() {
    Path missing = dir.resolve("nowhere.key");
    EventBusTlsOptions tls = new EventBusTlsOptions(good).setKeyPath(missing.toString());
    Future<Keel> start = Keel.start(cluster.nextOptions("d").setEventBusTls(tls));
    await().atMost(Duration.ofSeconds(10)).until(start::isComplete);
    assertThat(start.cause()).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("eventBusTls.keyPath " + missing.toAbsolutePath()
            + " is missing or not a readable file");
  }

  /** A lock, a map entry and a routed request, each served by the other node. */
  private void assertWorks(String round) throws Exception {
    String key = keyWithPrimary(b, round);
    JsonObject ping = a.routing().request(Keel.PING_SERVICE, key, new JsonObject())
        .await(20, TimeUnit.SECONDS);
    assertThat(ping.getString("node")).isEqualTo("b");

    long version = a.map("tls").put(key, new JsonObject().put("round", round))
        .await(20, TimeUnit.SECONDS);
    var entry = b.map("tls").get(key).await(20, TimeUnit.SECONDS);
    assertThat(entry.found()).isTrue();
    assertThat(entry.version()).isEqualTo(version);
    assertThat(entry.value()).isEqualTo(new JsonObject().put("round", round));

    FencedLock lock = a.locks().acquire(key, new LockOptions().setLeaseMs(30_000))
        .await(20, TimeUnit.SECONDS);
    JsonObject info = b.locks().info(key).await(20, TimeUnit.SECONDS);
    assertThat(info.getBoolean("held")).isTrue();
    assertThat(info.getLong("token")).isEqualTo(lock.token());
    lock.release().await(20, TimeUnit.SECONDS);
    assertThat(a.locks().info(key).await(20, TimeUnit.SECONDS).getBoolean("held")).isFalse();
  }

  private static String keyWithPrimary(Keel node, String prefix) {
    for (int i = 0; ; i++) {
      String key = prefix + "-" + i;
      if (node.nodeName().equals(node.routing().table().primaryOf(key))) {
        return key;
      }
    }
  }

  /** A key and self-signed certificate in the test's directory; the node trusts the pair. */
  private EventBusTlsOptions selfSigned(String name) throws Exception {
    SelfSignedCertificate generated = SelfSignedCertificate.create("localhost");
    try {
      Path key = dir.resolve(name + ".key.pem");
      Path cert = dir.resolve(name + ".cert.pem");
      Files.copy(Path.of(generated.privateKeyPath()), key);
      Files.copy(Path.of(generated.certificatePath()), cert);
      return new EventBusTlsOptions().setKeyPath(key.toString()).setCertPath(cert.toString())
          .setTrustPath(cert.toString());
    } finally {
      generated.delete();
    }
  }

  private static X509TrustManager recordingTrustManager(Set<X509Certificate> presented) {
    return new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {
        throw new UnsupportedOperationException("client side only");
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {
        presented.add(chain[0]);
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    };
  }

  /**
   * Keeps Membership's logs to this test: c's start is expected to log an ERROR, which the
   * suite's error check would otherwise count against it.
   */
  private static ListAppender<ILoggingEvent> captureMembershipLogs() {
    ch.qos.logback.classic.Logger logger = membershipLogger();
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.setContext(logger.getLoggerContext());
    appender.start();
    logger.addAppender(appender);
    logger.setAdditive(false);
    return appender;
  }

  private static void releaseMembershipLogs(ListAppender<ILoggingEvent> appender) {
    ch.qos.logback.classic.Logger logger = membershipLogger();
    logger.setAdditive(true);
    logger.detachAppender(appender);
    appender.stop();
  }

  private static ch.qos.logback.classic.Logger membershipLogger() {
    return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Membership.class);
  }
}
