package io.keel.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.bus.Addresses;
import io.keel.harness.InJvmCluster;
import io.keel.routing.OwnershipChange;
import io.vertx.core.Future;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The status server and feed of real nodes while members join and leave. */
class StatusIT {
  private InJvmCluster cluster;
  private Keel a;
  private WebClient http;

  @BeforeEach
  void start() {
    cluster = new InJvmCluster(3);
    a = cluster.start("a");
    http = WebClient.create(a.vertx());
  }

  @AfterEach
  void stop() throws Exception {
    http.close();
    cluster.close();
  }

  private JsonObject get(Keel node, String path, int expectStatus) throws Exception {
    var resp = http.get(node.httpPort(), "127.0.0.1", path).send().await(10, TimeUnit.SECONDS);
    assertThat(resp.statusCode()).as(path).isEqualTo(expectStatus);
    return resp.bodyAsJsonObject();
  }

  @Test
  void status_and_health_describe_the_node() throws Exception {
    JsonObject status = get(a, "/status", 200);
    assertThat(status.getString("node")).isEqualTo("a");
    assertThat(status.getString("role")).isEqualTo("data");
    assertThat(status.getLong("epoch")).isPositive();
    assertThat(status.getBoolean("tableCurrent")).isTrue();
    JsonArray members = status.getJsonArray("members");
    assertThat(members).hasSize(1);
    assertThat(members.getJsonObject(0).getString("name")).isEqualTo("a");
    assertThat(members.getJsonObject(0).getString("role")).isEqualTo("data");
    assertThat(status.getJsonArray("partitions")).hasSize(a.routing().table().partitionCount());
    assertThat(status.getJsonArray("partitions").getJsonObject(0).getString("role"))
        .isEqualTo("primary");
    JsonObject recovery = status.getJsonObject("recovery");
    // A fresh node found an empty log; it is ready while its new groups elect, then active.
    assertThat(recovery.getJsonObject("log").getLong("lastLsn")).isZero();
    assertThat(recovery.getString("phase")).isIn("catching-up", "active");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
        get(a, "/status", 200).getJsonObject("recovery").getString("phase")).isEqualTo("active"));
    JsonObject first = get(a, "/status", 200).getJsonArray("partitions").getJsonObject(0);
    assertThat(first.getString("raftRole")).isEqualTo("leader");
    assertThat(first.getString("leader")).isEqualTo("a");
    assertThat(get(a, "/health/live", 200).getString("status")).isEqualTo("UP");
    assertThat(get(a, "/health/ready", 200).getString("status")).isEqualTo("UP");
    JsonObject viaBus = a.vertx().eventBus().<JsonObject>request(Addresses.STATUS,
        new JsonObject()).await(10, TimeUnit.SECONDS).body();
    assertThat(viaBus.getString("node")).isEqualTo("a");
    JsonObject owner = get(a, "/v1/ring/owner?key=user:1", 200);
    assertThat(owner.getString("primary")).isEqualTo("a");
    assertThat(owner.getInteger("partition"))
        .isEqualTo(a.routing().table().partitionOf("user:1"));
    JsonObject missing = get(a, "/v1/ring/owner", 400);
    assertThat(missing.getString("error")).isEqualTo("BAD_REQUEST");
    assertThat(missing.getString("message")).isEqualTo(
        "BAD_REQUEST: query parameter 'key' is missing");
    var page = http.get(a.httpPort(), "127.0.0.1", "/").send().await(10, TimeUnit.SECONDS);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.bodyAsString()).contains("<title>Keel</title>", "/status/feed");
  }

  @Test
  void feed_sends_a_snapshot_then_membership_and_epoch_events_in_sequence() throws Exception {
    List<JsonObject> events = new CopyOnWriteArrayList<>();
    // The handler before the connection: the snapshot may arrive with the upgrade itself.
    ClientWebSocket ws = a.vertx().createWebSocketClient().webSocket();
    ws.textMessageHandler(t -> Arrays.stream(t.split("\n")).map(JsonObject::new)
        .forEach(events::add));
    ws.connect(a.httpPort(), "127.0.0.1", "/status/feed").await(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
    JsonObject snapshot = events.get(0);
    assertThat(snapshot.getString("type")).isEqualTo("snapshot");
    assertThat(snapshot.getJsonObject("status").getString("node")).isEqualTo("a");
    long epochBefore = a.routing().table().epoch();

    List<OwnershipChange> changes = new CopyOnWriteArrayList<>();
    a.routing().onOwnershipChange(c -> {
      changes.add(c);
      return Future.succeededFuture();
    });
    Keel b = cluster.start("b");
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(types(events)).contains("member-joined", "epoch-changed", "partition-moved");
      assertThat(lastEpoch(events)).isEqualTo(b.routing().table().epoch());
    });
    JsonObject joined = events.stream().filter(e -> "member-joined".equals(e.getString("type")))
        .findFirst().orElseThrow();
    assertThat(joined.getJsonObject("member").getString("name")).isEqualTo("b");
    assertThat(lastEpoch(events)).isGreaterThan(epochBefore);
    await().atMost(Duration.ofSeconds(10)).until(() -> !changes.isEmpty());
    OwnershipChange change = changes.get(changes.size() - 1);
    assertThat(change.lostPrimary()).isNotEmpty();
    assertThat(change.lostPrimary()).containsExactlyElementsOf(
        java.util.Arrays.stream(b.routing().table().primaryPartitions("b")).boxed().toList());

    cluster.stop(b);
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(types(events)).contains("member-left"));
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(a.routing().table().members()).hasSize(1));
    for (int i = 2; i < events.size(); i++) {
      assertThat(events.get(i).getLong("seq")).isEqualTo(events.get(i - 1).getLong("seq") + 1);
    }
    ws.close();
  }

  private static List<String> types(List<JsonObject> events) {
    return events.stream().map(e -> e.getString("type")).toList();
  }

  private static long lastEpoch(List<JsonObject> events) {
    return events.stream().filter(e -> "epoch-changed".equals(e.getString("type")))
        .mapToLong(e -> e.getLong("epoch")).max().orElse(-1);
  }
}
