package io.keel.check;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks a grow-only set kept in the map (one key whose value lists the elements, grown by
 * compare-and-set): every add that was acknowledged is in the final set, no element is in it
 * twice, and nothing is in it that no client ever tried to add. Adds that got no definite
 * answer (a timeout, a lost leader) may or may not be there.
 */
public final class SetCheck {
  private final Set<String> attempted = new HashSet<>();
  private final Set<String> acknowledged = new HashSet<>();

  /** An add was sent (before its answer is known). */
  public synchronized void attempted(String element) {
    attempted.add(element);
  }

  /** An add was acknowledged. */
  public synchronized void acknowledged(String element) {
    acknowledged.add(element);
  }

  /** How many adds were acknowledged. */
  public synchronized int acknowledgedCount() {
    return acknowledged.size();
  }

  /** Every violation in {@code finalElements} (the set read at the end), as sentences. */
  public synchronized List<String> violations(List<String> finalElements) {
    List<String> out = new ArrayList<>();
    TreeMap<String, Integer> counts = new TreeMap<>();
    for (String e : finalElements) {
      counts.merge(e, 1, Integer::sum);
    }
    counts.forEach((e, n) -> {
      if (n > 1) {
        out.add("element " + e + " is in the set " + n + " times");
      }
      if (!attempted.contains(e)) {
        out.add("element " + e + " is in the set, but no client ever added it");
      }
    });
    acknowledged.stream().sorted().filter(e -> !counts.containsKey(e))
        .forEach(e -> out.add("element " + e + " was acknowledged but is not in the set"));
    return out;
  }
}
