package io.keel.recovery;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/** One entry of the writer's queue: a record to append, or a task to run in order. */
final class WalOp {
  final int type;
  final byte[] payload;
  final Callable<?> task;
  final CompletableFuture<Object> done = new CompletableFuture<>();
  // Set by the writer when it assigns the record its place in the log.
  long lsn;

  private WalOp(int type, byte[] payload, Callable<?> task) {
    this.type = type;
    this.payload = payload;
    this.task = task;
  }

  static WalOp append(int type, byte[] payload) {
    return new WalOp(type, payload, null);
  }

  static WalOp task(Callable<?> task) {
    return new WalOp(0, null, task);
  }

  int frameBytes() {
    return WalRecord.HEADER_BYTES + payload.length;
  }
}
