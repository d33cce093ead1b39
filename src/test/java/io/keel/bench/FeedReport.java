package io.keel.bench;

import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/** {@link FeedBenchmark}'s figures: one rate's case, and the markdown tables. */
final class FeedReport {
  private FeedReport() {}

  /** The events published for one rate; {@code spanNs} from the first measured to the last. */
  record Published(long rate, long warmup, long measured, long spanNs) {
    /** The measured window: the span plus one interval. */
    double windowS() {
      return spanNs / 1e9 + 1.0 / rate;
    }
  }

  /**
   * One rate's figures: what was published and received, the node's slow-subscriber
   * disconnects, how long the wait for the last events took and whether they all came, and the
   * CPU used (in cores) by this JVM (the node and the publisher) and by Chromium's processes.
   */
  record Case(Published published, FeedBrowser.Received received, long slowDisconnects,
      long drainMs, boolean drained, double nodeCpu, double browserCpu, double load) {}

  /** The {@code percentile} of a histogram in µs, formatted, or a dash when it is empty. */
  static String us(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? "—" : Table.fmt(h.getValueAtPercentile(percentile) * 1000);
  }

  /** Measured events received per second by each socket: the median and the least. */
  static String perSubscriber(Case c) {
    double[] s = c.received().measured().stream()
        .mapToDouble(x -> x / c.published().windowS()).sorted().toArray();
    return s.length == 0 ? "—" : String.format(Locale.ROOT, "%,.0f (%,.0f)", Table.medianOf(s),
        s[0]);
  }

  /** Measured events received per second by all the sockets together. */
  static double total(Case c) {
    return received(c) / c.published().windowS();
  }

  /** Measured events that some socket had not received when the wait ended. */
  static long notReceived(Case c) {
    return c.published().measured() * c.received().measured().size() - received(c);
  }

  private static long received(Case c) {
    return c.received().measured().stream().mapToLong(Long::longValue).sum();
  }

  static double eventsPerMessage(FeedBrowser.Received r) {
    return (double) r.events() / Math.max(1, r.messages());
  }

  /** A progress line for one case. */
  static String line(Case c, int drainS) {
    FeedBrowser.Received r = c.received();
    return String.format(Locale.ROOT, "%,d events/s: published %,.0f/s; delivered %s/s per"
        + " subscriber (median, min), %,.0f/s in all; %.1f events per message; gaps %,d, not"
        + " received %,d, slow disconnects %d, sockets closed %s; node stamp to browser p50 %s,"
        + " p99 %s, max %s; publish to browser p50 %s, p99 %s; drained: %s; CPU: this JVM"
        + " %.0f%%, Chromium %.0f%% of a core; load average %.1f", c.published().rate(),
        c.published().measured() / c.published().windowS(), perSubscriber(c), total(c),
        eventsPerMessage(r), r.gaps(), notReceived(c), c.slowDisconnects(), r.closeCodes(),
        us(r.fromNodeUs(), 50), us(r.fromNodeUs(), 99), max(r.fromNodeMaxUs()),
        us(r.fromSendUs(), 50), us(r.fromSendUs(), 99), drained(c, drainS), 100 * c.nodeCpu(),
        100 * c.browserCpu(), c.load());
  }

  private static String max(double us) {
    return Table.fmt((long) (us * 1000));
  }

  private static String drained(Case c, int drainS) {
    return c.drained() ? String.format(Locale.ROOT, "%,d ms", c.drainMs())
        : String.format(Locale.ROOT, "no (%d s)", drainS);
  }

  /** The {@code /status} table. */
  static Table status(int partitions, List<StatusGets.Result> results) {
    Table t = new Table(String.format(Locale.ROOT, "GET /status on one node owning all %d"
        + " partitions", partitions), "clients", "requests", "requests/s", "p50", "p99", "max",
        "response");
    for (StatusGets.Result r : results) {
      t.row(r.clients(), String.format(Locale.ROOT, "%,d", r.requests()),
          String.format(Locale.ROOT, "%,.0f", r.perS()),
          Table.fmt(r.latencyNs().getValueAtPercentile(50)),
          Table.fmt(r.latencyNs().getValueAtPercentile(99)),
          Table.fmt(r.latencyNs().getMaxValue()),
          String.format(Locale.ROOT, "%,d B", r.bodyBytesMax()));
    }
    return t;
  }

  /** The fan-out table, one row per rate; {@code failure} (null: none) as a note. */
  static Table feed(String title, List<Case> cases, int drainS, String failure) {
    Table t = new Table(title, "events/s (published)", "delivered/s per subscriber, median"
        + " (min)", "delivered/s in all", "events per message", "seq gaps", "not received",
        "slow disconnects", "added latency p50 / p99 / max", "from publish p50 / p99",
        "drained", "CPU: node JVM / Chromium");
    for (Case c : cases) {
      FeedBrowser.Received r = c.received();
      t.row(String.format(Locale.ROOT, "%,d (%,.0f)", c.published().rate(),
          c.published().measured() / c.published().windowS()), perSubscriber(c),
          String.format(Locale.ROOT, "%,.0f", total(c)),
          String.format(Locale.ROOT, "%.1f", eventsPerMessage(r)), r.gaps(), notReceived(c),
          c.slowDisconnects(), us(r.fromNodeUs(), 50) + " / " + us(r.fromNodeUs(), 99) + " / "
          + max(r.fromNodeMaxUs()), us(r.fromSendUs(), 50) + " / " + us(r.fromSendUs(), 99),
          drained(c, drainS), String.format(Locale.ROOT, "%.0f%% / %.0f%%", 100 * c.nodeCpu(),
              100 * c.browserCpu()));
    }
    t.note("Added latency: the browser's receipt (performance.timeOrigin + performance.now(),"
        + " once per message) minus the event's `time`, which the node stamps in whole ms when"
        + " it puts the event on the feed (so it reads 0–1 ms high). From publish: minus the"
        + " µs stamp the benchmark put in the event when it published it on the node's event"
        + " bus. Both cover the events received by the end of the wait. Not received: measured"
        + " events some socket had not received when the wait for them ended (drained: from the"
        + " last publish until every open socket had them all). CPU: % of one core, over the"
        + " case.");
    if (failure != null) {
      t.note(failure);
    }
    return t;
  }
}
