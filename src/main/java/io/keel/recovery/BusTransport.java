package io.keel.recovery;

import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.model.message.RaftMessage;
import io.microraft.transport.Transport;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft transport of one node, shared by all its groups, over the clustered event bus.
 *
 * <p>Messages sent during one turn of the owning context are queued per destination node and
 * leave as one event-bus message per destination at the end of the turn ({@link RaftBatch}):
 * a node's hundreds of groups heartbeat to a peer in one message. Delivery is fire-and-forget,
 * as Raft expects of its network: a lost batch is a lost set of messages, which Raft retries.
 * Incoming batches are decoded and handed to the local group each message names. Each message
 * travels with a stamp for leader leases ({@link LeaderLease}), given by {@link #stampWith}.
 *
 * <p>All methods are called on the owning context (the groups' executor runs there).
 */
public final class BusTransport implements Transport {
  private static final Logger log = LoggerFactory.getLogger(BusTransport.class);
  private static final String ADDRESS_PREFIX = "keel.raft.";

  private final Context context;
  private final String nodeName;
  private final RaftCodec codec;
  private final Predicate<String> reachable;
  private final Map<String, List<RaftBatch.Stamped>> pending = new HashMap<>();
  private boolean flushScheduled;
  private long batchesSent;
  private long messagesSent;
  private MessageConsumer<Buffer> consumer;
  private SendObserver sends = (target, message, bytes) -> { };
  private ToLongFunction<RaftMessage> stamps = message -> LeaderLease.NONE;

  /** Hears every Raft message sent, with its encoded size; called on the owning context. */
  @FunctionalInterface
  public interface SendObserver {
    /** {@code message} to {@code target} is queued, {@code bytes} long as encoded. */
    void sent(RaftEndpoint target, RaftMessage message, int bytes);
  }

  /**
   * A transport for node {@code nodeName}; {@code reachable} tells whether a node is a current
   * cluster member.
   */
  public BusTransport(Context context, String nodeName, RaftCodec codec,
      Predicate<String> reachable) {
    this.context = context;
    this.nodeName = nodeName;
    this.codec = codec;
    this.reachable = reachable;
  }

  /** The address where node {@code name} receives Raft batches. */
  public static String address(String name) {
    return ADDRESS_PREFIX + name;
  }

  /** Takes each received message, with its stamp, to the local group it names. */
  @FunctionalInterface
  public interface Receiver {
    /** {@code message}, stamped {@code stamp}, arrived. */
    void receive(RaftMessage message, long stamp);
  }

  /**
   * Starts receiving: each incoming message goes to {@code groups.apply(groupId)}, or is dropped
   * when this node has no such group (yet, or any more).
   */
  public Future<Void> listen(Function<Object, RaftNode> groups) {
    return listen((message, stamp) -> {
      RaftNode group = groups.apply(message.getGroupId());
      if (group != null) {
        RaftDelivery.deliver(group, message);
      }
    });
  }

  /** Starts receiving, handing each message and its stamp to {@code receiver}. */
  public Future<Void> listen(Receiver receiver) {
    consumer = context.owner().eventBus().consumer(address(nodeName), msg -> {
      List<RaftBatch.Stamped> messages;
      try {
        messages = RaftBatch.decode(msg.body().getBytes());
      } catch (IllegalArgumentException e) {
        log.warn("node {}: dropped a malformed Raft batch: {}", nodeName, e.getMessage());
        return;
      }
      for (RaftBatch.Stamped m : messages) {
        RaftMessage decoded;
        try {
          decoded = codec.decode(m.message());
        } catch (IllegalArgumentException e) {
          log.warn("node {}: dropped a malformed Raft message: {}", nodeName, e.getMessage());
          continue;
        }
        receiver.receive(decoded, m.stamp());
      }
    });
    return consumer.completion();
  }

  /** Reports every message sent to {@code observer}, for metrics; call before sending. */
  public void observeSends(SendObserver observer) {
    this.sends = observer;
  }

  /**
   * Stamps every message sent with {@code stamps.applyAsLong(message)}, called on the owning
   * context as the message is queued; call before sending.
   */
  public void stampWith(ToLongFunction<RaftMessage> stamps) {
    this.stamps = stamps;
  }

  /** Stops receiving. */
  public Future<Void> close() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  @Override
  public void send(RaftEndpoint target, RaftMessage message) {
    String to = NodeEndpoint.nodeOf(target);
    byte[] encoded = codec.encode(message);
    pending.computeIfAbsent(to, k -> new ArrayList<>())
        .add(new RaftBatch.Stamped(stamps.applyAsLong(message), encoded));
    messagesSent++;
    sends.sent(target, message, encoded.length);
    if (!flushScheduled) {
      flushScheduled = true;
      context.runOnContext(v -> flush());
    }
  }

  @Override
  public boolean isReachable(RaftEndpoint target) {
    return reachable.test(NodeEndpoint.nodeOf(target));
  }

  /** Event-bus messages sent so far (each a batch). */
  public long batchesSent() {
    return batchesSent;
  }

  /** Raft messages sent so far. */
  public long messagesSent() {
    return messagesSent;
  }

  private void flush() {
    flushScheduled = false;
    DeliveryOptions options = new DeliveryOptions().setLocalOnly(false);
    for (Map.Entry<String, List<RaftBatch.Stamped>> e : pending.entrySet()) {
      List<RaftBatch.Stamped> messages = e.getValue();
      for (int from = 0; from < messages.size(); from += RaftBatch.MESSAGES_MAX) {
        List<RaftBatch.Stamped> slice = messages.subList(from,
            Math.min(messages.size(), from + RaftBatch.MESSAGES_MAX));
        context.owner().eventBus().send(address(e.getKey()),
            Buffer.buffer(RaftBatch.encode(slice)), options);
        batchesSent++;
      }
    }
    pending.clear();
  }
}
