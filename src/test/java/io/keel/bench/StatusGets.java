package io.keel.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Latency of {@code GET /status} from the JDK's {@link HttpClient} (HTTP/1.1, kept-alive
 * connections): closed loops, each sending its next request when the last answer is read whole;
 * the latency is from the send to the last byte of the body.
 */
final class StatusGets {
  private static final long LATENCY_NS_MAX = TimeUnit.SECONDS.toNanos(60);

  /** One case: {@code clients} loops, {@code requests} in all, over {@code wallNs}. */
  record Result(int clients, int requests, long wallNs, Histogram latencyNs, int bodyBytesMin,
      int bodyBytesMax) {
    double perS() {
      return requests * 1e9 / wallNs;
    }
  }

  private final HttpClient http;
  private final HttpRequest request;

  /** Requests {@code /status} of the node on HTTP port {@code port}. */
  StatusGets(int port) {
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
    request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/status"))
        .timeout(Duration.ofSeconds(30)).GET().build();
  }

  /** The {@code /status} document's bytes, once. */
  byte[] once() throws Exception {
    HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("GET /status answered " + r.statusCode());
    }
    return r.body();
  }

  /**
   * {@code warmup} unrecorded requests per client, then {@code requests} recorded, split evenly
   * over {@code clients} loops on as many threads.
   */
  Result run(int clients, int warmup, int requests) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      for (Future<Loop> f : start(pool, clients, warmup, 0)) {
        f.get();
      }
      long t0 = System.nanoTime();
      List<Future<Loop>> loops = start(pool, clients, requests / clients, requests % clients);
      Histogram all = new Histogram(LATENCY_NS_MAX, 3);
      int min = Integer.MAX_VALUE;
      int max = 0;
      for (Future<Loop> f : loops) {
        Loop l = f.get();
        all.add(l.latencyNs);
        min = Math.min(min, l.bytesMin);
        max = Math.max(max, l.bytesMax);
      }
      return new Result(clients, (int) all.getTotalCount(), System.nanoTime() - t0, all, min,
          max);
    } finally {
      pool.shutdownNow();
    }
  }

  private List<Future<Loop>> start(ExecutorService pool, int clients, int each, int extra) {
    List<Future<Loop>> out = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int n = each + (c < extra ? 1 : 0);
      out.add(pool.submit(() -> new Loop().run(n)));
    }
    return out;
  }

  /** One client's loop: its latencies and the body sizes it saw. */
  private final class Loop {
    final Histogram latencyNs = new Histogram(LATENCY_NS_MAX, 3);
    int bytesMin = Integer.MAX_VALUE;
    int bytesMax;

    Loop run(int n) throws Exception {
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        int bytes = once().length;
        latencyNs.recordValue(Math.min(LATENCY_NS_MAX, System.nanoTime() - t0));
        bytesMin = Math.min(bytesMin, bytes);
        bytesMax = Math.max(bytesMax, bytes);
      }
      return this;
    }
  }
}
