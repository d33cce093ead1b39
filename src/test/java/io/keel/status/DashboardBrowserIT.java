package io.keel.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.keel.Keel;
import io.keel.harness.InJvmCluster;
import io.keel.harness.NodeProcess;
import io.keel.harness.ProcessCluster;
import io.keel.routing.PartitionTable;
import io.keel.routing.PlacementConfig;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The dashboard in real headless Chromium (Debian's {@code chromium} and {@code chromium-driver})
 * against three node processes: it shows three members, two after a {@code kill -9}, three
 * again after the restart; a lock taken over HTTP appears in its feed and lock table; and when
 * its own node dies it says it is reconnecting, then comes back live by itself. On a node with
 * an HTTP token, the page opened with {@code ?access_token=} passes the token on to its feed
 * and its fetches, and without it the node serves no page. A screenshot of every step goes to
 * {@code target/screenshots/}.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class DashboardBrowserIT {
  private static final int PARTITIONS = 16;
  private static final Duration SETTLE = Duration.ofSeconds(90);

  @RegisterExtension
  final NodeProcess.Guard guard = new NodeProcess.Guard();

  private ProcessCluster cluster;
  private InJvmCluster inJvm;
  private WebDriver browser;
  private Path profile;
  private String test;
  private int shot;

  @AfterEach
  void stop() throws Exception {
    try {
      if (browser != null) {
        browser.quit();
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
      if (inJvm != null) {
        inJvm.close();
      }
      if (profile != null) {
        InJvmCluster.deleteTree(profile);
      }
    }
  }

  private WebDriver chromium() throws IOException {
    for (String exe : List.of("/usr/bin/chromium", "/usr/bin/chromedriver")) {
      assertThat(Path.of(exe)).as("%s is missing: apt-get install -y chromium chromium-driver",
          exe).isExecutable();
    }
    profile = Files.createTempDirectory("keel-chromium-");
    ChromeOptions options = new ChromeOptions().setBinary("/usr/bin/chromium").addArguments(
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
        "--disable-dev-shm-usage", "--window-size=1280,900",
        "--user-data-dir=" + profile);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }

  private void screenshot(String step) throws IOException {
    Path dir = Path.of("target", "screenshots");
    Files.createDirectories(dir);
    byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
    Files.write(dir.resolve(String.format("%s-%02d-%s.png", test, ++shot, step)), png);
  }

  private String text(String id) {
    return browser.findElement(By.id(id)).getText();
  }

  private void awaitMembers(int n) {
    await().atMost(SETTLE).ignoreExceptions().until(() -> text("memberCount")
        .equals(Integer.toString(n)) && browser.findElements(By.cssSelector("tr.member"))
        .size() == n);
  }

  @Test
  void the_dashboard_follows_members_locks_and_its_own_node(TestInfo info) throws Exception {
    test = info.getTestMethod().orElseThrow().getName();
    cluster = new ProcessCluster(guard.logDir(), 3, "--partitions", Integer.toString(PARTITIONS));
    cluster.startAll("n1", "n2", "n3");
    cluster.awaitAgreement(List.of("n1", "n2", "n3"), SETTLE);
    browser = chromium();
    int port = cluster.node("n1").httpPort();
    browser.get("http://127.0.0.1:" + port + "/");
    await().atMost(SETTLE).ignoreExceptions().until(() -> text("conn").equals("live"));
    awaitMembers(3);
    screenshot("three-members");

    cluster.node("n3").kill9();
    awaitMembers(2);
    screenshot("n3-killed");
    cluster.node("n3").restart().awaitReady();
    awaitMembers(3);
    screenshot("n3-back");

    // Lock events come from the leader of the lock's partition: take one that n1 leads.
    String name = lockLedBy("n1", port);
    JsonObject grant = post(port, "/v1/locks/" + name + "/acquire",
        "{\"leaseMs\": 60000, \"holder\": \"browser-test\"}");
    assertThat(grant.getLong("token")).isPositive();
    await().atMost(SETTLE).ignoreExceptions().until(() -> browser.findElements(
        By.cssSelector("#feed li.lock-granted")).stream()
        .anyMatch(li -> li.getText().contains(name)));
    await().atMost(SETTLE).ignoreExceptions().until(() -> browser.findElement(By.id("locks"))
        .getText().contains(name) && browser.findElement(By.id("locks")).getText()
        .contains(Long.toString(grant.getLong("token"))));
    // The heading counts the locks this node leads: the one taken, at least.
    assertThat(Integer.parseInt(text("lockCount"))).isPositive();
    screenshot("lock-granted");

    cluster.node("n1").kill9();
    await().atMost(SETTLE).ignoreExceptions().until(() -> text("conn")
        .startsWith("reconnecting"));
    screenshot("own-node-down");
    cluster.node("n1").restart().awaitReady();
    await().atMost(SETTLE).ignoreExceptions().until(() -> text("conn").equals("live"));
    awaitMembers(3);
    screenshot("own-node-back");
  }

  @Test
  void with_a_token_the_page_passes_it_to_its_feed_and_fetches(TestInfo info) throws Exception {
    test = info.getTestMethod().orElseThrow().getName();
    String token = "dashboard-0123456789abcdef";
    inJvm = new InJvmCluster(1);
    Keel a = inJvm.start("a", o -> o.setPartitions(8).setHttpToken(token));
    InJvmCluster.awaitActive(8, a);
    browser = chromium();
    String page = "http://127.0.0.1:" + a.httpPort() + "/";
    for (String refused : List.of(page, page + "?access_token=" + token.replace('0', '1'))) {
      browser.get(refused);
      assertThat(browser.getPageSource()).contains("UNAUTHORIZED").doesNotContain("Ring");
    }
    screenshot("refused");
    browser.get(page + "?access_token=" + token);
    await().atMost(SETTLE).ignoreExceptions().until(() -> text("conn").equals("live"));
    awaitMembers(1);
    // The lock reaches the feed over the WebSocket, and the lock table through a fetch.
    JsonObject grant = post(a.httpPort(), "/v1/locks/dashboard-lock/acquire",
        "{\"leaseMs\": 60000, \"holder\": \"browser-test\"}", token);
    await().atMost(SETTLE).ignoreExceptions().until(() -> browser.findElements(
        By.cssSelector("#feed li.lock-granted")).stream()
        .anyMatch(li -> li.getText().contains("dashboard-lock")));
    await().atMost(SETTLE).ignoreExceptions().until(() -> browser.findElement(By.id("locks"))
        .getText().contains("dashboard-lock") && browser.findElement(By.id("locks")).getText()
        .contains(Long.toString(grant.getLong("token"))));
    assertThat(text("conn")).isEqualTo("live");
    screenshot("token-live");
  }

  /** A lock name whose partition node {@code node} leads, per its {@code /status}. */
  private String lockLedBy(String node, int port) {
    return await().atMost(SETTLE).ignoreExceptions().until(() -> {
      JsonObject status = cluster.node(node).status();
      PartitionTable hash = PartitionTable.empty(new PlacementConfig(PARTITIONS,
          PlacementConfig.DEFAULT_REPLICAS, PlacementConfig.DEFAULT_VNODES,
          PlacementConfig.DEFAULT_LOAD_FACTOR));
      java.util.Set<Integer> led = new java.util.HashSet<>();
      for (Object o : status.getJsonArray("partitions")) {
        JsonObject p = (JsonObject) o;
        // Its primary too, so that leadership does not move on to the primary meanwhile.
        if (node.equals(p.getString("leader")) && "active".equals(p.getString("phase"))
            && "primary".equals(p.getString("role"))) {
          led.add(p.getInteger("partition"));
        }
      }
      for (int i = 0; i < 1000; i++) {
        if (led.contains(hash.partitionOf("demo-" + i))) {
          return "demo-" + i;
        }
      }
      return null;
    }, n -> n != null);
  }

  private static JsonObject post(int port, String path, String body) throws Exception {
    return post(port, path, body, null);
  }

  /** {@code POST path} with a JSON body, and the token as a bearer header unless null. */
  private static JsonObject post(int port, String path, String body, String token)
      throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
        + path)).timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      req.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> r = HttpClient.newHttpClient().send(req.build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body());
  }
}
