package io.keel.recovery;

import io.microraft.RaftEndpoint;
import io.microraft.model.message.RaftMessage;
import io.microraft.transport.Transport;
import java.util.ArrayList;
import java.util.List;

/** A Raft transport for tests: keeps what is sent through it, in order; every target is up. */
final class RecordingTransport implements Transport {
  final List<RaftMessage> sent = new ArrayList<>();

  @Override
  public void send(RaftEndpoint target, RaftMessage message) {
    sent.add(message);
  }

  @Override
  public boolean isReachable(RaftEndpoint target) {
    return true;
  }
}
