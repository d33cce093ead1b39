package io.keel.recovery;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * The simulation's state machine: a counter per key, with a client table that makes a retried
 * request (same client, same sequence number) take effect once. Reports every apply and
 * snapshot install to an {@link Observer}, which is how the checker watches each replica.
 */
final class SimCounterMachine implements PartitionStateMachine {

  /** Adds {@code delta} to {@code key}; the request {@code (client, seq)} takes effect once. */
  record Command(long client, long seq, String key, long delta) {
    byte[] encode() {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeLong(client);
        out.writeLong(seq);
        out.writeUTF(key);
        out.writeLong(delta);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return bytes.toByteArray();
    }

    static Command decode(byte[] bytes) {
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
        return new Command(in.readLong(), in.readLong(), in.readUTF(), in.readLong());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Watches one replica. */
  interface Observer {
    void applied(long index, byte[] command, byte[] result);

    /**
     * The node applied {@code command} at {@code index} just now, before anyone can have heard
     * of it: {@link #applied} follows once its disk holds what the apply depends on, unless the
     * node dies first.
     */
    default void appliedUntold(long index, byte[] command) {
    }

    void installed(long index, byte[] snapshot);

    /**
     * The node restarted from a snapshot on its own disk. It may cover commands nobody has
     * reported yet: the node applied them, then died before its reports could leave.
     */
    default void restored(long index, byte[] snapshot) {
      installed(index, snapshot);
    }
  }

  /** The whole state; equal states encode to equal bytes. */
  static final class State {
    final TreeMap<String, Long> counters = new TreeMap<>();
    // client -> {last seq applied, its result}
    final TreeMap<Long, long[]> clients = new TreeMap<>();

    /** Applies a command and returns its result (the counter's value after it). */
    long apply(Command c) {
      long[] last = clients.get(c.client());
      if (last != null && c.seq() <= last[0]) {
        return c.seq() == last[0] ? last[1] : -1; // a retry: answered, not applied again
      }
      long value = counters.getOrDefault(c.key(), 0L) + c.delta();
      counters.put(c.key(), value);
      clients.put(c.client(), new long[] {c.seq(), value});
      return value;
    }

    byte[] encode() {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeInt(counters.size());
        for (Map.Entry<String, Long> e : counters.entrySet()) {
          out.writeUTF(e.getKey());
          out.writeLong(e.getValue());
        }
        out.writeInt(clients.size());
        for (Map.Entry<Long, long[]> e : clients.entrySet()) {
          out.writeLong(e.getKey());
          out.writeLong(e.getValue()[0]);
          out.writeLong(e.getValue()[1]);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return bytes.toByteArray();
    }

    static State decode(byte[] bytes) {
      State s = new State();
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
          s.counters.put(in.readUTF(), in.readLong());
        }
        int m = in.readInt();
        for (int i = 0; i < m; i++) {
          s.clients.put(in.readLong(), new long[] {in.readLong(), in.readLong()});
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return s;
    }
  }

  private final Observer observer;
  private State state = new State();
  // Invariant: lastIndex is the index of the last command applied or snapshot installed.
  private long lastIndex;

  SimCounterMachine(Observer observer) {
    this.observer = observer;
  }

  long lastIndex() {
    return lastIndex;
  }

  byte[] stateBytes() {
    return state.encode();
  }

  @Override
  public byte[] apply(long index, byte[] command) {
    if (index <= lastIndex) {
      throw new AssertionError("apply at " + index + " after " + lastIndex);
    }
    lastIndex = index;
    byte[] result = longBytes(state.apply(Command.decode(command)));
    observer.applied(index, command, result);
    return result;
  }

  @Override
  public byte[] query(byte[] query) {
    return longBytes(state.counters.getOrDefault(new String(query, StandardCharsets.UTF_8), 0L));
  }

  @Override
  public byte[] takeSnapshot(long index) {
    return state.encode();
  }

  @Override
  public void installSnapshot(long index, byte[] snapshot) {
    state = State.decode(snapshot);
    lastIndex = index;
    observer.installed(index, snapshot);
  }

  static byte[] longBytes(long v) {
    return ByteBuffer.allocate(Long.BYTES).putLong(v).array();
  }

  static long bytesLong(byte[] b) {
    return ByteBuffer.wrap(b).getLong();
  }
}
