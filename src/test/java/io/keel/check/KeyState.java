package io.keel.check;

import java.util.ArrayList;
import java.util.List;

/**
 * The sequential model of one key, as the linearizability search sees it: absent or present
 * with a value, plus what is known of the key's highest version ever ({@code top}).
 *
 * <p>Implementation notes. The map picks versions (Raft log indices), so the model cannot know
 * them; it knows only that each change of the key gets a version above every earlier one. A put
 * answered {@code ok(v)} is legal iff {@code v > top}, and then {@code top = v}. An indeterminate
 * write that the search decides took effect created a version nobody saw, so {@code top} becomes
 * unknown: the state then holds its least possible value ({@code exact == false}), and
 * {@code excluded} lists larger values that a conflict proved it is not. Observing the version
 * (a get, a matching cas or conditional delete) makes it exact again. Example: from exact
 * {@code top = 5}, an indeterminate put of "x" gives PRESENT("x", some version in {6, 7, ...});
 * a cas expecting 6 that conflicts leaves {7, 8, ...}; a get that then answers ("x", 6) is
 * impossible, while ("x", 9) is legal and makes {@code top = 9} exact. A delete keeps
 * {@code top}: the next put must still exceed it.
 *
 * <p>An indeterminate op is only applied when it changes the state: an indeterminate op that
 * changes nothing is the same as one that never happened, which the search already tries.
 *
 * @param present whether the key holds a value
 * @param value the value if present, else {@code null}
 * @param top the highest version ever if {@code exact}, else its least possible value
 * @param exact whether {@code top} is known exactly
 * @param excluded values above {@code top} known not to be the version; empty when exact
 */
record KeyState(boolean present, String value, long top, boolean exact, List<Long> excluded) {
  // Invariant: exact || every excluded value is > top (so top itself is possible).
  // Invariant: present == (value != null); when present, the current version is the top.
  // Invariant: !present implies exact and no exclusions: nothing can observe an absent key's
  // versions but the next write, which needs only the least possible top.

  /** A key never written. */
  static final KeyState INITIAL = absent(0);

  /** The state after {@code op} takes effect here, or {@code null} if it cannot. */
  KeyState apply(Op op) {
    long e = op.expectVersion();
    // Whether a cas or delete finds what it expects: ANY needs a value, 0 needs none.
    boolean match = e == Op.ANY ? present : e == 0 ? !present : mayHave(e);
    // The version a matching cas replaces is at least this.
    long floor = e > 0 ? e : top;
    return switch (op.kind()) {
      case PUT -> op.indeterminate() ? unknownVersion(op.value(), top)
          : op.version() > top ? known(op.value(), op.version()) : null;
      case GET -> op.outcome() == Op.Outcome.NOT_FOUND ? (present ? null : this)
          : op.indeterminate() || !present || !value.equals(op.value())
          || !mayHave(op.version()) ? null : known(value, op.version());
      case CAS -> switch (op.outcome()) {
        case OK -> match && op.version() > floor ? known(op.value(), op.version()) : null;
        case CONFLICT -> e == 0 ? (present ? this : null) : mayLack(e) ? excluding(e) : null;
        default -> match ? unknownVersion(op.value(), floor) : null;
      };
      case DELETE -> switch (op.outcome()) {
        case NOT_FOUND -> present ? null : this;
        // An absent key does not match either: whether the map answers conflict or
        // deleted=false there, nothing changes, so both answers are accepted.
        case CONFLICT -> mayLack(e) ? excluding(e) : null;
        default -> match ? absent(e == Op.ANY ? top : e) : null;
      };
    };
  }

  /** Whether no state after this one can have version {@code v}: versions only grow. */
  boolean past(long v) {
    return v < top || !present && v == top;
  }

  /**
   * Whether every sequence of ops that can follow {@code other} can follow this state too: the
   * same value, and every version {@code other} may have, this state may have.
   */
  boolean permits(KeyState other) {
    if (present != other.present || present && !value.equals(other.value)) {
      return false;
    }
    if (!present) {
      return top <= other.top;
    }
    if (other.exact) {
      return mayHave(other.top);
    }
    return !exact && top <= other.top && excluded.stream()
        .allMatch(x -> x < other.top || other.excluded.contains(x));
  }

  /** Whether the current version can be {@code v}. */
  private boolean mayHave(long v) {
    return present && (exact ? top == v : v >= top && !excluded.contains(v));
  }

  /** Whether the current version can differ from {@code v} (absent differs from all). */
  private boolean mayLack(long v) {
    return !present || !exact || top != v;
  }

  private static KeyState absent(long top) {
    return new KeyState(false, null, top, true, List.of());
  }

  private KeyState known(String v, long version) {
    return new KeyState(true, v, version, true, List.of());
  }

  /** Present with a new version above {@code floor} that nobody saw. */
  private KeyState unknownVersion(String v, long floor) {
    return new KeyState(true, v, floor + 1, false, List.of());
  }

  /** This state, knowing the current version is not {@code v}. */
  private KeyState excluding(long v) {
    if (!present || exact || v < top || excluded.contains(v)) {
      return this;
    }
    List<Long> out = new ArrayList<>(excluded);
    out.add(v);
    long least = top;
    while (out.remove((Long) least)) {
      least++;
    }
    out.sort(null);
    return new KeyState(true, value, least, false, List.copyOf(out));
  }

  /** Reads like {@code PRESENT("a", v7)}, {@code PRESENT("a", v >= 8, not 9)} or ABSENT. */
  @Override
  public String toString() {
    String version = (exact ? "v" : "v >= ") + top + (excluded.isEmpty() ? "" : ", not "
        + excluded.toString().replace("[", "").replace("]", ""));
    return present ? "PRESENT(\"" + value + "\", " + version + ")"
        : "ABSENT (last version >= " + top + ")";
  }
}
