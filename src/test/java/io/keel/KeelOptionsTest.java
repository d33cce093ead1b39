package io.keel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeelOptionsTest {

  @Test
  void json_round_trip_keeps_every_option() {
    KeelOptions o = new KeelOptions().setName("n1").setDataDir("/tmp/x").setHttpHost("127.0.0.2")
        .setHttpPort(0).setHttpToken("tok-0123456789abcdef").setClusterHost("127.0.0.3")
        .setClusterPort(6000)
        .setJoin(List.of("127.0.0.1:6000", "127.0.0.2:6001")).setBusPort(7000)
        .setClusterName("c").setClusterConfig("classpath:x.xml")
        .setRole(KeelOptions.Role.CLIENT).setWeight(3).setPartitions(64).setReplicas(2)
        .setVnodes(16).setLoadFactor(0.25).setRouteTimeoutMs(1234).setRouteAttemptsMax(3)
        .setReconcileIntervalMs(250).setLockClockMarginMs(0)
        .setEventBusTls(new io.keel.cluster.EventBusTlsOptions().setKeyPath("k.pem")
            .setCertPath("c.pem").setTrustPath("ca.pem"))
        .setWal(new io.keel.recovery.WalOptions().setFsyncPolicy(
            io.keel.recovery.WalOptions.FsyncPolicy.ALWAYS).setSegmentBytesMax(8 << 20));
    assertThat(new KeelOptions(o.toJson())).isEqualTo(o);
    assertThat(new KeelOptions(o)).isEqualTo(o);
    assertThat(new KeelOptions(new JsonObject())).isEqualTo(new KeelOptions());
  }

  @Test
  void shipped_keel_json_lists_every_option_with_its_default() throws Exception {
    JsonObject shipped = new JsonObject(Files.readString(Path.of("config", "keel.json")));
    JsonObject defaults = new KeelOptions().toJson();
    assertThat(shipped).isEqualTo(defaults);
  }

  @Test
  void unknown_keys_are_rejected_by_name() {
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("httpPrt", 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown option key httpPrt");
  }

  @Test
  void wrong_types_are_rejected_by_name() {
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("httpPort", "80")))
        .hasMessageContaining("'httpPort' must be a whole number, was a string");
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("partitions", 1.5)))
        .hasMessageContaining("'partitions' must be a whole number");
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("join", 5)))
        .hasMessageContaining("'join' must be an array of strings");
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("wal", "fast")))
        .hasMessageContaining("'wal' must be an object");
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("wal",
        new JsonObject().put("fsync", "always"))))
        .hasMessageContaining("unknown wal option key fsync");
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("role", "boss")))
        .hasMessageContaining("role must be data or client, was boss");
  }

  @Test
  void values_out_of_range_are_rejected_with_the_value() {
    assertThatThrownBy(() -> new KeelOptions().setHttpPort(70000))
        .hasMessage("httpPort must be 0..65535, was 70000");
    assertThatThrownBy(() -> new KeelOptions().setClusterPort(0))
        .hasMessage("clusterPort must be 1..65535, was 0");
    assertThatThrownBy(() -> new KeelOptions().setReplicas(0))
        .hasMessageStartingWith("replicas must be 1..3, was 0");
    assertThatThrownBy(() -> new KeelOptions().setReplicas(4))
        .hasMessageStartingWith("replicas must be 1..3, was 4");
    assertThatThrownBy(() -> new KeelOptions().setJoin(List.of("nohost")))
        .hasMessage("join entries must be host:port, was 'nohost'");
    assertThatThrownBy(() -> new KeelOptions().setName("bad name"))
        .hasMessageContaining("was 'bad name'");
    assertThatThrownBy(() -> new KeelOptions().setLoadFactor(Double.NaN))
        .hasMessageContaining("loadFactor must be 0.0..1.0");
    assertThatThrownBy(() -> new KeelOptions().setEventLoops(-1))
        .hasMessage("eventLoops must be 0..1024 (0: Vert.x's default), was -1");
    assertThat(new KeelOptions(new JsonObject().put("eventLoops", 1)).getEventLoops())
        .isEqualTo(1);
    assertThatThrownBy(() -> new KeelOptions().setLockClockMarginMs(-1))
        .hasMessage("lockClockMarginMs must be 0..60000, was -1");
    assertThatThrownBy(() -> new KeelOptions().setLockClockMarginMs(60_001))
        .hasMessage("lockClockMarginMs must be 0..60000, was 60001");
    KeelOptions noLeases = new KeelOptions(new JsonObject().put("leaseReads", false));
    assertThat(noLeases.isLeaseReads()).isFalse();
    assertThat(new KeelOptions(noLeases.toJson())).isEqualTo(noLeases);
    assertThat(new KeelOptions().isLeaseReads()).isTrue();
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("leaseReads", "yes")))
        .hasMessageContaining("leaseReads");
    KeelOptions unbatched = new KeelOptions(new JsonObject().put("routeBatching", false));
    assertThat(unbatched.isRouteBatching()).isFalse();
    assertThat(new KeelOptions(unbatched.toJson())).isEqualTo(unbatched);
    assertThat(new KeelOptions().isRouteBatching()).isTrue();
  }

  @Test
  void join_accepts_a_comma_separated_string() {
    KeelOptions o = new KeelOptions(new JsonObject().put("join", "127.0.0.1:1, 127.0.0.1:2"));
    assertThat(o.getJoin()).containsExactly("127.0.0.1:1", "127.0.0.1:2");
  }

  @Test
  void map_values_must_fit_a_log_record_and_small_ones_with_small_records_round_trip() {
    KeelOptions small = new KeelOptions()
        .setMap(new io.keel.map.MapOptions().setValueBytesMax(16 << 10))
        .setWal(new io.keel.recovery.WalOptions().setSegmentBytesMax(64 << 10)
            .setRecordBytesMax(32 << 10));
    assertThat(new KeelOptions(small.toJson())).isEqualTo(small);
    assertThatThrownBy(() -> new KeelOptions().setWal(new io.keel.recovery.WalOptions()
        .setSegmentBytesMax(64 << 10).setRecordBytesMax(32 << 10)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("map.valueBytesMax + map.keyBytesMax + 4096 must be <="
            + " wal.recordBytesMax (32768)");
  }

  @Test
  void event_bus_tls_is_off_by_default_and_reads_its_three_paths() {
    assertThat(new KeelOptions().getEventBusTls().isEnabled()).isFalse();
    assertThat(new KeelOptions().toJson().getJsonObject("eventBusTls")).isEqualTo(new JsonObject());
    KeelOptions o = new KeelOptions(new JsonObject().put("eventBusTls", new JsonObject()
        .put("keyPath", "/etc/keel/node.key").put("certPath", "/etc/keel/node.crt")
        .put("trustPath", "/etc/keel/ca.crt")));
    assertThat(o.getEventBusTls().isEnabled()).isTrue();
    assertThat(o.getEventBusTls().getKeyPath()).isEqualTo("/etc/keel/node.key");
    assertThat(o.getEventBusTls().getCertPath()).isEqualTo("/etc/keel/node.crt");
    assertThat(o.getEventBusTls().getTrustPath()).isEqualTo("/etc/keel/ca.crt");
    assertThat(new KeelOptions(o.toJson())).isEqualTo(o);
  }

  @Test
  void event_bus_tls_needs_all_three_paths_non_empty_and_known_keys() {
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("eventBusTls",
        new JsonObject().put("keyPath", "k.pem"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("eventBusTls needs keyPath, certPath and trustPath together, or none of"
            + " them; missing certPath, trustPath");
    assertThatThrownBy(() -> new io.keel.cluster.EventBusTlsOptions().setCertPath(" "))
        .hasMessage("eventBusTls.certPath must not be empty; leave it out to turn TLS off");
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("eventBusTls",
        new JsonObject().put("key", "k.pem"))))
        .hasMessageContaining("unknown eventBusTls option key key");
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("eventBusTls",
        new JsonObject().put("keyPath", 1))))
        .hasMessageContaining("eventBusTls option key 'keyPath' must be a string");
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("eventBusTls", true)))
        .hasMessageContaining("'eventBusTls' must be an object");
  }

  @Test
  void http_body_limit_defaults_to_64_kib_and_is_checked() {
    assertThat(new KeelOptions().getHttpBodyBytesMax()).isEqualTo(65536);
    assertThat(new KeelOptions(new JsonObject().put("httpBodyBytesMax", 2048))
        .getHttpBodyBytesMax()).isEqualTo(2048);
    assertThatThrownBy(() -> new KeelOptions().setHttpBodyBytesMax(1023))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("httpBodyBytesMax must be 1024..67108864 bytes, was 1023");
  }

  @Test
  void http_token_is_off_by_default_and_absent_from_the_json() {
    assertThat(new KeelOptions().getHttpToken()).isNull();
    assertThat(new KeelOptions().toJson().containsKey("httpToken")).isFalse();
    KeelOptions o = new KeelOptions(new JsonObject().put("httpToken", "AbC-123._~+/xyz0=="));
    assertThat(o.getHttpToken()).isEqualTo("AbC-123._~+/xyz0==");
    assertThat(o.toJson().getString("httpToken")).isEqualTo("AbC-123._~+/xyz0==");
    assertThat(o.setHttpToken(null).toJson().containsKey("httpToken")).isFalse();
  }

  @Test
  void a_bad_http_token_is_rejected_without_showing_it() {
    String secret = "short-secret";
    assertThatThrownBy(() -> new KeelOptions().setHttpToken(secret))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("httpToken must be 16..1024 characters of A-Z, a-z, 0-9 and -._~+/ (then '='"
            + " padding), was 12 characters");
    assertThatThrownBy(() -> new KeelOptions().setHttpToken("with space 0123456789"))
        .hasMessageEndingWith("was 21 characters, some of them outside that set")
        .hasMessageNotContaining("with space");
    assertThatThrownBy(() -> new KeelOptions().setHttpToken("=padding-first-0123"))
        .hasMessageEndingWith("some of them outside that set");
    assertThatThrownBy(() -> new KeelOptions().setHttpToken("x".repeat(1025)))
        .hasMessageEndingWith("was 1025 characters");
    assertThatThrownBy(() -> new KeelOptions().setHttpToken(""))
        .hasMessageEndingWith("was 0 characters");
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("httpToken", secret)))
        .hasMessageNotContaining(secret);
    assertThatThrownBy(() -> new KeelOptions(new JsonObject().put("httpToken", 1234567890123456L)))
        .hasMessage("option key 'httpToken' must be a string, was a number")
        .hasMessageNotContaining("1234567890123456");
    assertThat(new KeelOptions().setHttpToken("x".repeat(1024)).getHttpToken()).hasSize(1024);
  }

  @Test
  void to_string_hides_the_http_token() {
    KeelOptions o = new KeelOptions().setHttpToken("do-not-print-0123456789");
    assertThat(o.toString()).contains("\"httpToken\":\"(hidden)\"")
        .doesNotContain("do-not-print");
    assertThat(new KeelOptions(o)).isEqualTo(o);
    assertThat(new KeelOptions(o).getHttpToken()).isEqualTo("do-not-print-0123456789");
  }
}
