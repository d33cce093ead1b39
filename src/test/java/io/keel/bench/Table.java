package io.keel.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * A markdown table, printed at once, and the figures benchmarks put in one: latencies,
 * medians over runs, their range, failure counts.
 */
final class Table {
  private final String title;
  private final String[] headers;
  private final List<String[]> rows = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  /** A table under the heading {@code title} (null: none) with these columns. */
  Table(String title, String... headers) {
    this.title = title;
    this.headers = headers.clone();
  }

  /** Adds a row; cells are {@code toString()}ed, null as empty. */
  Table row(Object... cells) {
    String[] r = new String[cells.length];
    for (int i = 0; i < cells.length; i++) {
      r[i] = cells[i] == null ? "" : cells[i].toString();
    }
    rows.add(r);
    return this;
  }

  /** Adds a paragraph printed after the table. */
  Table note(String text) {
    notes.add(text);
    return this;
  }

  /** Prints the heading, the table and its notes. */
  void print() {
    StringBuilder b = new StringBuilder();
    if (title != null) {
      b.append("\n## ").append(title).append("\n\n");
    }
    b.append(line(headers));
    b.append(line(Arrays.stream(headers).map(h -> "---").toArray(String[]::new)));
    rows.forEach(r -> b.append(line(r)));
    notes.forEach(n -> b.append('\n').append(n).append('\n'));
    System.out.println(b);
  }

  private static String line(String[] cells) {
    return "| " + String.join(" | ", cells) + " |\n";
  }

  /** A latency: µs below a millisecond, else ms. */
  static String fmt(long ns) {
    if (ns < 1_000_000) {
      return String.format(Locale.ROOT, "%d µs", ns / 1_000);
    }
    return String.format(Locale.ROOT, ns < 100_000_000 ? "%.1f ms" : "%.0f ms", ns / 1e6);
  }

  /** The median of {@code f} over {@code s}, NaNs left out (the upper one for an even count). */
  static <T> double median(List<T> s, ToDoubleFunction<T> f) {
    return medianOf(s.stream().mapToDouble(f).toArray());
  }

  /** The median of the values that are not NaN (NaN when none is). */
  static double medianOf(double[] v) {
    double[] s = Arrays.stream(v).filter(x -> !Double.isNaN(x)).sorted().toArray();
    return s.length == 0 ? Double.NaN : s[s.length / 2];
  }

  /** The median with its range over the runs: {@code 1,234 [1,100–1,300]}. */
  static <T> String rate(List<T> s, ToDoubleFunction<T> f) {
    double[] v = s.stream().mapToDouble(f).filter(x -> !Double.isNaN(x)).sorted().toArray();
    if (v.length == 0) {
      return "—";
    }
    return v.length == 1 ? String.format(Locale.ROOT, "%,.0f", v[0])
        : String.format(Locale.ROOT, "%,.0f [%,.0f–%,.0f]", medianOf(v), v[0], v[v.length - 1]);
  }

  /** The median latency of {@code f}, or a dash when there is none. */
  static <T> String latency(List<T> s, ToDoubleFunction<T> f) {
    double m = median(s, f);
    return Double.isNaN(m) ? "—" : fmt((long) m);
  }

  /** {@code a / b} as {@code 0.42×}, or a dash when either is missing. */
  static String ratio(double a, double b) {
    return Double.isNaN(a) || Double.isNaN(b) || b == 0 ? "—"
        : String.format(Locale.ROOT, "%.2f×", a / b);
  }

  /** {@code code count} pairs, comma-joined, or {@code 0}. */
  static String failures(Map<String, Long> failures) {
    return failures.isEmpty() ? "0" : failures.entrySet().stream()
        .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
  }

  /** Bytes in MiB with one decimal. */
  static String mib(double bytes) {
    return String.format(Locale.ROOT, "%,.1f MiB", bytes / (1 << 20));
  }

  /** Each of {@code bytes} in MiB, as a list: {@code [46.2 MiB, 46.0 MiB]}. */
  static String mibs(long[] bytes) {
    return Arrays.stream(bytes).mapToObj(Table::mib).toList().toString();
  }

  /** Bytes in KiB below a MiB, else in MiB. */
  static String bytes(double bytes) {
    return bytes < 1 << 20 ? String.format(Locale.ROOT, "%,.0f KiB", bytes / 1024) : mib(bytes);
  }
}
