package io.keel.harness;

import io.keel.Keel;
import io.vertx.ext.web.client.WebClient;
import java.util.concurrent.TimeUnit;

/**
 * A node's {@code GET /metrics} as a test reads it: the Prometheus text, and the value of one
 * series in it.
 */
public final class Scrape {
  private Scrape() {}

  /** The node's Prometheus text, fetched over its HTTP port on 127.0.0.1. */
  public static String text(Keel node) throws Exception {
    WebClient http = WebClient.create(node.vertx());
    try {
      var response = http.get(node.httpPort(), "127.0.0.1", "/metrics").send()
          .await(30, TimeUnit.SECONDS);
      if (response.statusCode() != 200) {
        throw new AssertionError("GET /metrics of " + node.nodeName() + " answered "
            + response.statusCode());
      }
      return response.bodyAsString();
    } finally {
      http.close();
    }
  }

  /**
   * The value of {@code series} (a name with its labels as the text writes them, such as
   * {@code keel_lock_events_total{reason="granted"}}) in the node's metrics.
   */
  public static double value(Keel node, String series) throws Exception {
    return value(text(node), series);
  }

  /** The value of {@code series} in {@code text}; fails when the text has no such series. */
  public static double value(String text, String series) {
    for (String line : text.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim().split(" ")[0]);
      }
    }
    throw new AssertionError("no series " + series + " in the metrics");
  }
}
