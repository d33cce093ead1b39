package io.keel.recovery;

/**
 * The deterministic state of one partition (its locks, its map entries), changed only by
 * commands committed through the partition's Raft log.
 *
 * <p>Commands, results, queries and snapshots are {@code byte[]}: the write-ahead log stores
 * commands and snapshots as bytes and the event bus carries results as bytes, so a byte array
 * is the one form every layer can hold without a codec of its own. Each implementation owns
 * the encoding of its commands (and their versioning: a command written by one release is
 * replayed by the next).
 *
 * <p>Contract, which every replica relies on to stay identical to the others:
 * <ul>
 *   <li>Pure and deterministic: no I/O, no clock, no unseeded randomness, no iteration over
 *   unordered hash maps that could differ between JVMs. Time a command needs (a lease start)
 *   travels inside the command, chosen by the leader that proposed it.</li>
 *   <li>{@link #apply} is called once per committed command, in log order, on a single thread;
 *   indices grow strictly but are not contiguous (Raft's own entries take indices too).</li>
 *   <li>{@link #apply} never throws: a malformed or refused command is answered by a result
 *   that says so, and leaves the state unchanged.</li>
 *   <li>A retried client request must not take effect twice: commands that are not naturally
 *   idempotent carry a client request id that the state machine remembers.</li>
 *   <li>{@link #takeSnapshot} followed by {@link #installSnapshot} on a fresh instance yields a
 *   state that answers every later command and query exactly as the original would.</li>
 * </ul>
 *
 * <p>Not thread-safe: one instance is owned by one Raft node's executor.
 */
public interface PartitionStateMachine {

  /**
   * Applies a committed command.
   *
   * @param index the Raft log index of the command; strictly greater than the index of any
   *     command applied or snapshot installed before
   * @param command the command bytes, as proposed
   * @return the result returned to the proposer (never {@code null}; may be empty)
   */
  byte[] apply(long index, byte[] command);

  /**
   * Answers a read-only query against the current state; must not change the state.
   *
   * @param query the query bytes
   * @return the answer (never {@code null})
   */
  byte[] query(byte[] query);

  /**
   * Serializes the whole state as it is after the command at {@code index} was applied.
   *
   * @param index the log index the snapshot is taken at
   * @return the snapshot bytes
   */
  byte[] takeSnapshot(long index);

  /**
   * Replaces the whole state by a snapshot taken (here or on another replica) at
   * {@code index}.
   *
   * @param index the log index the snapshot was taken at
   * @param snapshot the bytes returned by {@link #takeSnapshot}
   */
  void installSnapshot(long index, byte[] snapshot);

  /**
   * Called when the entry that a new leader appends at the start of its term is committed at
   * {@code index}. A state machine may use it to start time-based bookkeeping afresh (a lease
   * table, for instance); the default does nothing.
   *
   * @param index the log index of the new-term entry
   */
  default void onNewTerm(long index) {
  }
}
