package io.keel.recovery;

import io.keel.bus.Failure;
import io.microraft.RaftEndpoint;
import io.microraft.exception.CannotReplicateException;
import io.microraft.exception.IndeterminateStateException;
import io.microraft.exception.LaggingCommitIndexException;
import io.microraft.exception.MismatchingRaftGroupMembersCommitIndexException;
import io.microraft.exception.NotLeaderException;
import io.microraft.exception.RaftException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Maps the exceptions MicroRaft completes its futures with to Keel's failure codes.
 *
 * <ul>
 *   <li>{@link NotLeaderException}: this replica is not the leader; nothing was appended.
 *   {@code NOT_OWNER}, naming the leader it knows ({@link #leader}).</li>
 *   <li>{@link CannotReplicateException}: the leader has too many uncommitted entries, or
 *   cannot reach a majority; nothing was appended. {@code UNAVAILABLE}.</li>
 *   <li>{@link IndeterminateStateException}: the entry was appended but leadership was lost
 *   before it was known to be committed; it may or may not take effect. {@code UNAVAILABLE}:
 *   the client retries with the same request id, which the state machine deduplicates.</li>
 *   <li>{@link LaggingCommitIndexException} (a query on a replica behind the asked index):
 *   {@code UNAVAILABLE}.</li>
 *   <li>{@link MismatchingRaftGroupMembersCommitIndexException} (a membership change raced
 *   another one): {@code CONFLICT}.</li>
 *   <li>Anything else: {@code UNAVAILABLE}.</li>
 * </ul>
 * A group without a majority therefore never acknowledges: its futures fail or never
 * complete, and the shell answers {@code UNAVAILABLE} or {@code TIMEOUT}.
 */
final class RaftFailures {

  private RaftFailures() {
  }

  /** The failure code for a MicroRaft exception (possibly wrapped by a future). */
  static Failure classify(Throwable t) {
    Throwable cause = unwrap(t);
    if (cause instanceof NotLeaderException) {
      return Failure.NOT_OWNER;
    }
    if (cause instanceof MismatchingRaftGroupMembersCommitIndexException) {
      return Failure.CONFLICT;
    }
    return Failure.UNAVAILABLE;
  }

  /** The leader a failure names, or null if none is known. */
  static RaftEndpoint leader(Throwable t) {
    Throwable cause = unwrap(t);
    return cause instanceof RaftException e ? e.getLeader() : null;
  }

  /** True if the operation may have been committed although it failed. */
  static boolean indeterminate(Throwable t) {
    Throwable cause = unwrap(t);
    return cause instanceof IndeterminateStateException
        || !(cause instanceof NotLeaderException || cause instanceof CannotReplicateException
            || cause instanceof LaggingCommitIndexException
            || cause instanceof MismatchingRaftGroupMembersCommitIndexException);
  }

  static Throwable unwrap(Throwable t) {
    Throwable cause = t;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }
}
