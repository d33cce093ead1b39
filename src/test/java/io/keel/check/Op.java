package io.keel.check;

import java.util.Locale;
import java.util.Objects;

/**
 * One client operation on one key of the replicated map, as the client saw it: what it asked,
 * what it was told, and when it asked and was told.
 *
 * <p>Build an op in two steps: a factory records the invocation ({@link #put}, {@link #get},
 * {@link #cas}, {@link #delete}, {@link #deleteIf}), which alone is an {@link
 * Outcome#INDETERMINATE} op (no answer, {@code completeNanos == Long.MAX_VALUE}), and a result
 * method ({@link #ok}, {@link #found}, {@link #notFound}, {@link #deleted}, {@link #conflict})
 * records the answer and its time:
 * <pre>{@code
 * Op.put("c1", "k", "a", 10).ok(7, 20)      // put(k, "a") -> ok version 7, from t=10 to t=20
 * Op.get("c2", "k", 15).found("a", 7, 30)   // get(k) -> "a" at version 7
 * Op.cas("c3", "k", 7, "b", 40)             // cas(k, 7, "b") timed out: indeterminate
 * }</pre>
 * An operation that failed definitely (known not to have happened) does not belong in a
 * history at all.
 *
 * @param client who issued the op (for explanations only)
 * @param key the key
 * @param kind the kind of operation
 * @param value the value written (put, cas) or read (get found); {@code null} otherwise
 * @param expectVersion the expected version of a cas ({@code 0}: the key must be absent) or of a
 *     conditional delete; {@link #ANY} for puts, gets and unconditional deletes
 * @param outcome the answer, or {@link Outcome#INDETERMINATE}
 * @param version the version created (put/cas {@code OK}) or read (get {@code FOUND}); 0 otherwise
 * @param invokeNanos when the client sent the request
 * @param completeNanos when the client got the answer; {@code Long.MAX_VALUE} if it never did
 */
public record Op(String client, String key, Kind kind, String value, long expectVersion,
    Outcome outcome, long version, long invokeNanos, long completeNanos) {

  /** The {@link #expectVersion} of an op that has no expectation. */
  public static final long ANY = -1;

  /** What the client asked for. */
  public enum Kind {
    /** Unconditional write. */
    PUT,
    /** Read. */
    GET,
    /** Compare-and-set on the version. */
    CAS,
    /** Delete, unconditional or conditional on the version. */
    DELETE
  }

  /** What the client was told. */
  public enum Outcome {
    /** No answer (a timeout): the op may or may not have taken effect. */
    INDETERMINATE,
    /** A put or cas took effect, creating {@link #version}. */
    OK,
    /** A get found {@link #value} at {@link #version}. */
    FOUND,
    /** A get found nothing, or a delete found nothing to delete ({@code deleted=false}). */
    NOT_FOUND,
    /** A delete removed the key ({@code deleted=true}). */
    DELETED,
    /** A cas or conditional delete did not match the current version; nothing changed. */
    CONFLICT
  }

  /** Checks that the fields describe an op the map can answer. */
  public Op {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(outcome, "outcome");
    boolean valued = kind == Kind.PUT || kind == Kind.CAS || outcome == Outcome.FOUND;
    requireArgument((value != null) == valued, kind + " " + outcome + " with value " + value);
    requireArgument(kind == Kind.CAS ? expectVersion >= 0
        : kind == Kind.DELETE ? expectVersion == ANY || expectVersion > 0 : expectVersion == ANY,
        "bad expectVersion for " + kind + ": " + expectVersion);
    requireArgument(allowed(kind, expectVersion, outcome), kind + " cannot answer " + outcome);
    boolean versioned = outcome == Outcome.OK || outcome == Outcome.FOUND;
    requireArgument(versioned ? version > 0 : version == 0, "bad version: " + version);
    requireArgument((outcome == Outcome.INDETERMINATE) == (completeNanos == Long.MAX_VALUE),
        "completeNanos is Long.MAX_VALUE iff indeterminate, was " + completeNanos);
    requireArgument(invokeNanos <= completeNanos,
        "completed before invoked: " + invokeNanos + " > " + completeNanos);
  }

  /** An invocation of {@code put(key, value)}; indeterminate until given a result. */
  public static Op put(String client, String key, String value, long invokeNanos) {
    return invocation(client, key, Kind.PUT, value, ANY, invokeNanos);
  }

  /** An invocation of {@code get(key)}; indeterminate until given a result. */
  public static Op get(String client, String key, long invokeNanos) {
    return invocation(client, key, Kind.GET, null, ANY, invokeNanos);
  }

  /** An invocation of {@code cas(key, expectVersion, value)}; 0 expects the key absent. */
  public static Op cas(String client, String key, long expectVersion, String value,
      long invokeNanos) {
    return invocation(client, key, Kind.CAS, value, expectVersion, invokeNanos);
  }

  /** An invocation of an unconditional {@code delete(key)}. */
  public static Op delete(String client, String key, long invokeNanos) {
    return invocation(client, key, Kind.DELETE, null, ANY, invokeNanos);
  }

  /** An invocation of {@code delete(key, expectVersion)}, {@code expectVersion > 0}. */
  public static Op deleteIf(String client, String key, long expectVersion, long invokeNanos) {
    return invocation(client, key, Kind.DELETE, null, expectVersion, invokeNanos);
  }

  /** This put or cas, answered: it took effect with {@code version}. */
  public Op ok(long version, long completeNanos) {
    return answer(Outcome.OK, value, version, completeNanos);
  }

  /** This get, answered: the key holds {@code value} at {@code version}. */
  public Op found(String value, long version, long completeNanos) {
    return answer(Outcome.FOUND, Objects.requireNonNull(value, "value"), version, completeNanos);
  }

  /** This get or delete, answered: the key was absent ({@code deleted=false} for a delete). */
  public Op notFound(long completeNanos) {
    return answer(Outcome.NOT_FOUND, value, 0, completeNanos);
  }

  /** This delete, answered: the key was present and is now absent. */
  public Op deleted(long completeNanos) {
    return answer(Outcome.DELETED, value, 0, completeNanos);
  }

  /** This cas or conditional delete, answered: the version did not match; nothing changed. */
  public Op conflict(long completeNanos) {
    return answer(Outcome.CONFLICT, value, 0, completeNanos);
  }

  /** Whether the client never learned the result. */
  public boolean indeterminate() {
    return outcome == Outcome.INDETERMINATE;
  }

  /** Whether this op completed before {@code other} was invoked (equal times are concurrent). */
  public boolean precedes(Op other) {
    return completeNanos < other.invokeNanos;
  }

  /** Whether this op, if it took effect, may have changed the key. */
  public boolean mayWrite() {
    return kind != Kind.GET && (outcome == Outcome.INDETERMINATE || outcome == Outcome.OK
        || outcome == Outcome.DELETED);
  }

  /** Reads like {@code c1 cas(k, 3, "b") -> ok v7 @[10, 20]}. */
  @Override
  public String toString() {
    String args = kind == Kind.PUT ? ", \"" + value + "\""
        : kind == Kind.CAS ? ", " + expectVersion + ", \"" + value + "\""
        : kind == Kind.DELETE && expectVersion != ANY ? ", " + expectVersion : "";
    String result = switch (outcome) {
      case OK -> "ok v" + version;
      case FOUND -> "\"" + value + "\" v" + version;
      default -> outcome.name().toLowerCase(Locale.ROOT);
    };
    String end = completeNanos == Long.MAX_VALUE ? "-" : Long.toString(completeNanos);
    return client + " " + kind.name().toLowerCase(Locale.ROOT) + "(" + key + args
        + ") -> " + result + " @[" + invokeNanos + ", " + end + "]";
  }

  private static Op invocation(String client, String key, Kind kind, String value,
      long expectVersion, long invokeNanos) {
    return new Op(client, key, kind, value, expectVersion, Outcome.INDETERMINATE, 0,
        invokeNanos, Long.MAX_VALUE);
  }

  private Op answer(Outcome outcome, String value, long version, long completeNanos) {
    requireState(indeterminate(), "already answered: " + this);
    requireArgument(completeNanos != Long.MAX_VALUE, "an answer needs a completion time");
    return new Op(client, key, kind, value, expectVersion, outcome, version, invokeNanos,
        completeNanos);
  }

  private static boolean allowed(Kind kind, long expectVersion, Outcome outcome) {
    return outcome == Outcome.INDETERMINATE || switch (kind) {
      case PUT -> outcome == Outcome.OK;
      case GET -> outcome == Outcome.FOUND || outcome == Outcome.NOT_FOUND;
      case CAS -> outcome == Outcome.OK || outcome == Outcome.CONFLICT;
      case DELETE -> outcome == Outcome.DELETED || outcome == Outcome.NOT_FOUND
          || outcome == Outcome.CONFLICT && expectVersion != ANY;
    };
  }

  private static void requireArgument(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  private static void requireState(boolean ok, String message) {
    if (!ok) {
      throw new IllegalStateException(message);
    }
  }
}
