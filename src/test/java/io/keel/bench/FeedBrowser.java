package io.keel.bench;

import io.keel.harness.InJvmCluster;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Feed subscribers in a real browser: headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}) on a page, {@code target/feed-bench/feed.html}, whose script opens
 * the WebSockets and, for every bench event it reads, records the time from the event's stamps
 * to the moment its message reached the socket's handler.
 *
 * <p>Implementation notes. The receipt time is {@code performance.timeOrigin +
 * performance.now()}, taken once per message (the events of a message arrive together), so it
 * has sub-millisecond resolution; it is compared with two stamps: the node's {@code time}, in
 * whole ms when the node put the event on the feed (so the figure reads 0–1 ms high, 0.5 ms on
 * average), and the benchmark's own {@code sentUs}, in µs when it published the event on the
 * node's event bus. Both clocks are the machine's wall clock; a fresh page per case anchors
 * {@code timeOrigin} again. The page keeps histograms (10 µs bins below 200 ms, then 1 ms
 * bins), not samples: at 5,000 events/s a hundred sockets see half a million events a second.
 */
final class FeedBrowser implements AutoCloseable {
  private static final long LATENCY_US_MAX = 600_000_000L;
  private static final String PAGE = """
      <!doctype html><meta charset="utf-8"><title>Keel feed benchmark</title>
      <script>
      'use strict';
      const FINE_US = 10, FINE = 20000, COARSE_US = 1000, COARSE = 120000;
      function histogram() {
        return {fine: new Int32Array(FINE), coarse: new Int32Array(COARSE), over: 0,
          negative: 0, max: 0};
      }
      function record(h, us) {
        if (us > h.max) h.max = us;
        if (us < 0) { h.negative++; us = 0; }
        const f = Math.floor(us / FINE_US);
        if (f < FINE) { h.fine[f]++; return; }
        const c = Math.floor(us / COARSE_US);
        if (c < COARSE) h.coarse[c]++; else h.over++;
      }
      function bins(h) {
        const out = [];
        h.fine.forEach((n, i) => { if (n) out.push(i * FINE_US + FINE_US / 2, n); });
        h.coarse.forEach((n, i) => { if (n) out.push(i * COARSE_US + COARSE_US / 2, n); });
        if (h.over) out.push(COARSE * COARSE_US, h.over);
        return {bins: out, max: h.max, negative: h.negative};
      }
      const bench = {subs: [], node: histogram(), sent: histogram(), scan: false};
      function start(port, n, scan) {
        bench.scan = scan;
        for (let i = 0; i < n; i++) {
          const s = {snapshot: false, open: false, last: -1, gaps: 0, events: 0, measured: 0,
            messages: 0, closeCode: 0};
          bench.subs.push(s);
          const ws = new WebSocket('ws://127.0.0.1:' + port + '/status/feed');
          ws.onopen = () => { s.open = true; };
          ws.onclose = e => { s.open = false; s.closeCode = e.code; };
          ws.onmessage = e => receive(s, e.data);
        }
      }
      function num(line, key) {
        const i = line.lastIndexOf(key);
        return i < 0 ? NaN : parseFloat(line.substring(i + key.length));
      }
      function scan(line) {
        return {seq: num(line, '"seq":'), time: num(line, '"time":'),
          sentUs: num(line, '"sentUs":'), m: num(line, '"m":'),
          phase: line.includes('"phase":"bench"') ? 'bench' : ''};
      }
      function receive(s, text) {
        const now = performance.timeOrigin + performance.now();
        if (!s.snapshot) {
          s.snapshot = true;
          s.last = JSON.parse(text).seq;
          return;
        }
        s.messages++;
        for (const line of text.split('\\n')) {
          const e = bench.scan ? scan(line) : JSON.parse(line);
          if (s.last >= 0 && e.seq > s.last + 1) s.gaps += e.seq - s.last - 1;
          s.last = e.seq;
          if (e.phase !== 'bench') continue;
          s.events++;
          if (e.m === 1) {
            s.measured++;
            record(bench.node, (now - e.time) * 1000);
            record(bench.sent, now * 1000 - e.sentUs);
          }
        }
      }
      function progress() {
        const s = bench.subs;
        return {snapshots: s.filter(x => x.snapshot).length, open: s.filter(x => x.open).length,
          measuredMin: Math.min(...s.filter(x => x.open).map(x => x.measured), 1e18)};
      }
      function report() {
        const s = bench.subs;
        return {measured: s.map(x => x.measured), events: s.map(x => x.events),
          gaps: s.map(x => x.gaps), messages: s.map(x => x.messages),
          closeCodes: s.filter(x => !x.open).map(x => x.closeCode),
          node: bins(bench.node), sent: bins(bench.sent)};
      }
      </script>
      """;

  /** What the page's sockets received in one case; latencies in µs. */
  record Received(List<Long> measured, long events, long gaps, long messages,
      List<Long> closeCodes, Histogram fromNodeUs, double fromNodeMaxUs, Histogram fromSendUs,
      double fromSendMaxUs, long negative) {}

  private final Path profile;
  private final Path page;
  private final WebDriver driver;

  private final ChromeDriverService service;

  private FeedBrowser(Path profile, Path page, ChromeDriverService service, WebDriver driver) {
    this.profile = profile;
    this.page = page;
    this.service = service;
    this.driver = driver;
  }

  /** Starts headless Chromium with a fresh profile, and writes the page. */
  static FeedBrowser start() throws IOException {
    for (String exe : List.of("/usr/bin/chromium", "/usr/bin/chromedriver")) {
      if (!Files.isExecutable(Path.of(exe))) {
        throw new IllegalStateException(exe + " is missing: apt-get install -y chromium"
            + " chromium-driver");
      }
    }
    Path dir = Files.createDirectories(Path.of("target", "feed-bench"));
    Path page = Files.writeString(dir.resolve("feed.html"), PAGE).toAbsolutePath();
    Path profile = Files.createTempDirectory("keel-chromium-");
    ChromeOptions options = new ChromeOptions().setBinary("/usr/bin/chromium").addArguments(
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
        "--disable-dev-shm-usage", "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
        "--user-data-dir=" + profile);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort()
        .withLogFile(dir.resolve("chromedriver.log").toFile()).build();
    try {
      WebDriver driver = new ChromeDriver(service, options);
      driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(60));
      return new FeedBrowser(profile, page, service, driver);
    } catch (RuntimeException e) {
      service.stop();
      InJvmCluster.deleteTree(profile);
      throw e;
    }
  }

  /** The browser's version, as ChromeDriver reports it. */
  String version() {
    return String.valueOf(((ChromeDriver) driver).getCapabilities().getBrowserVersion());
  }

  /**
   * Loads the page afresh (closing the last one's sockets) and opens {@code n} sockets. The
   * first message of each is its snapshot; each line after it is an event, read with
   * {@code JSON.parse} or, when {@code scan}, by looking up the four fields the page needs
   * ({@code seq}, {@code time}, {@code sentUs}, {@code m}) and the phase in its text.
   */
  void subscribe(int port, int n, boolean scan) {
    driver.get(page.toUri().toString());
    js("start(arguments[0], arguments[1], arguments[2]);", port, n, scan);
  }

  /** How many sockets have their snapshot and are open, and the fewest measured events. */
  Map<String, Object> progress() {
    return js("return progress();");
  }

  /** Everything the page received since {@link #subscribe}. */
  Received report() {
    Map<String, Object> r = js("return report();");
    Map<String, Object> node = map(r.get("node"));
    Map<String, Object> sent = map(r.get("sent"));
    return new Received(longs(r.get("measured")), sum(r.get("events")), sum(r.get("gaps")),
        sum(r.get("messages")), longs(r.get("closeCodes")), histogram(node),
        number(node.get("max")), histogram(sent), number(sent.get("max")),
        (long) number(node.get("negative")) + (long) number(sent.get("negative")));
  }

  @SuppressWarnings("unchecked")
  private <T> T js(String script, Object... args) {
    return (T) ((JavascriptExecutor) driver).executeScript(script, args);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return (Map<String, Object>) o;
  }

  private static List<Long> longs(Object o) {
    return ((List<?>) o).stream().map(x -> (long) number(x)).toList();
  }

  private static long sum(Object o) {
    return longs(o).stream().mapToLong(Long::longValue).sum();
  }

  static double number(Object o) {
    return ((Number) o).doubleValue();
  }

  private static Histogram histogram(Map<String, Object> h) {
    Histogram out = new Histogram(LATENCY_US_MAX, 3);
    List<?> bins = (List<?>) h.get("bins");
    for (int i = 0; i + 1 < bins.size(); i += 2) {
      out.recordValueWithCount(Math.min(LATENCY_US_MAX, (long) number(bins.get(i))),
          (long) number(bins.get(i + 1)));
    }
    return out;
  }

  /**
   * Quits ChromeDriver and Chromium, also when the browser died; then ends whatever child
   * process of this JVM is left (this JVM starts no other) and deletes the profile.
   */
  @Override
  public void close() throws IOException {
    try {
      driver.quit();
    } catch (WebDriverException e) {
      System.out.println("quitting ChromeDriver failed: "
          + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
    } finally {
      service.stop();
      for (ProcessHandle p : ProcessHandle.current().descendants().toList()) {
        p.destroyForcibly();
        p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> p).join();
      }
      InJvmCluster.deleteTree(profile);
    }
  }
}
