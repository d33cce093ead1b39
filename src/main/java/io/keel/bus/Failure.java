package io.keel.bus;

import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

/**
 * The failure codes of Keel's event-bus and HTTP contract.
 *
 * <p>A failure travels as a {@link ReplyException} whose {@code failureCode()} is {@link #code()}
 * and whose message is {@code "SYMBOL: sentence"}. The codes are explicit and stable: they are
 * part of the wire contract, so never derive them from {@code ordinal()}.
 */
public enum Failure {
  /** Malformed or missing field; nothing changed. */
  BAD_REQUEST(400),
  /** No such lock holder or map entry. */
  NOT_FOUND(404),
  /** The wait ran out; nothing granted. */
  TIMEOUT(408),
  /** Stale token, wrong version, lease lost. */
  CONFLICT(409),
  /** Sent to a node that is not the primary; clients retry. */
  NOT_OWNER(421),
  /** Not ready, recovering, or no majority of the partition's replicas. */
  UNAVAILABLE(503);

  private final int code;

  Failure(int code) {
    this.code = code;
  }

  /** The stable integer code, also used as the HTTP status. */
  public int code() {
    return code;
  }

  /** The failure with this code, or {@code null} when the code is not one of Keel's. */
  public static Failure fromCode(int code) {
    for (Failure f : values()) {
      if (f.code == code) {
        return f;
      }
    }
    return null;
  }

  /** The failure a throwable carries, or {@code null} when it is not a Keel failure. */
  public static Failure of(Throwable t) {
    if (t instanceof ReplyException) {
      ReplyException re = (ReplyException) t;
      if (re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
        return fromCode(re.failureCode());
      }
    }
    return null;
  }

  private static final String LEADER_MARK = "(leader:";

  /** Whether {@code t} is this failure. */
  public boolean is(Throwable t) {
    return of(t) == this;
  }

  /** The full message for a sentence: {@code "SYMBOL: sentence"}. */
  public String message(String sentence) {
    return name() + ": " + sentence;
  }

  /** An exception carrying this failure, for futures of the Java API. */
  public ReplyException exception(String sentence) {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, code, message(sentence));
  }

  /**
   * A {@code NOT_OWNER} failure from a node that does not lead a partition's group, naming the
   * leader it knows ({@code null}: none) at the end of the sentence as {@code (leader: name)},
   * so that the caller goes there next ({@link #namedLeader}).
   */
  public static ReplyException notLeader(String sentence, String leader) {
    return NOT_OWNER.exception(sentence + "; " + LEADER_MARK + " "
        + (leader == null ? "unknown" : leader) + ")");
  }

  /** The leader a {@link #notLeader} failure names, or null. */
  public static String namedLeader(Throwable t) {
    if (!NOT_OWNER.is(t) || t.getMessage() == null) {
      return null;
    }
    String m = t.getMessage();
    int at = m.lastIndexOf(LEADER_MARK);
    int end = at < 0 ? -1 : m.indexOf(')', at);
    if (end < 0) {
      return null;
    }
    String name = m.substring(at + LEADER_MARK.length(), end).trim();
    return name.isEmpty() || "unknown".equals(name) ? null : name;
  }

  /** Fails a request with this code and {@code "SYMBOL: sentence"}. */
  public void fail(Message<?> message, String sentence) {
    message.fail(code, message(sentence));
  }

  /**
   * Answers a request with the failure {@code t} carries: Keel failures keep their code, anything
   * else becomes {@code UNAVAILABLE} naming the cause, so that a caller always gets a Keel code.
   */
  public static void reply(Message<?> message, Throwable t) {
    Failure f = of(t);
    if (f != null) {
      message.fail(f.code, t.getMessage());
    } else {
      UNAVAILABLE.fail(message, String.valueOf(t.getMessage()));
    }
  }

  /** Answers a request with what {@code answer} completes with, a failure as {@link #reply}. */
  public static <T> void replyWith(Message<?> message, Future<T> answer) {
    answer.onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(ar.result());
      } else {
        reply(message, ar.cause());
      }
    });
  }
}
