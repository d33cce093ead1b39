package io.keel.recovery;

import java.io.DataInputStream;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Counters by key: the smallest useful replicated state, behind {@code keel.counter.add} and
 * {@code keel.counter.get} ({@link CounterService}). Operators use it to check that a cluster
 * replicates and survives failures, and the recovery tests write through it.
 *
 * <p>An add ({@link #add}) answers the new value and the index it was committed at
 * ({@link Added}); an add whose request id was applied before (within the last
 * {@link #REQUEST_IDS_MAX} ids) answers the first result again and changes nothing, so a client
 * may retry an add whose outcome it did not learn. A read ({@link #get}) answers the value.
 * Commands, answers and snapshots are small binary records ({@link DataOutputStream}).
 * Deterministic: sorted counters, and request ids forgotten in the order they were applied.
 * Pure: no Vert.x, no I/O.
 */
public final class CounterMachine implements PartitionStateMachine {
  /** Its name in a partition's {@link MachineSet}. */
  public static final String NAME = "keel.counter";
  /** How many recent request ids each partition remembers. */
  static final int REQUEST_IDS_MAX = 100_000;

  /** The answer to an add: the counter's new value, and the log index of the add. */
  public record Added(long value, long index) {
    byte[] encode() {
      return Bytes.write(out -> {
        out.writeLong(value);
        out.writeLong(index);
      });
    }

    /** Decodes an add's answer; empty when the command was malformed. */
    public static Optional<Added> decode(byte[] bytes) {
      return bytes.length != 16 ? Optional.empty()
          : Optional.of(Bytes.read(bytes, in -> new Added(in.readLong(), in.readLong())));
    }
  }

  private final TreeMap<String, Long> counters = new TreeMap<>();
  // Oldest first: the first entry is the next one forgotten.
  private final LinkedHashMap<String, Added> applied = new LinkedHashMap<>();

  /** The command that adds {@code delta} to {@code key}; {@code requestId} may be null. */
  public static byte[] add(String key, long delta, String requestId) {
    return Bytes.write(out -> {
      out.writeUTF(key);
      out.writeLong(delta);
      out.writeBoolean(requestId != null);
      if (requestId != null) {
        out.writeUTF(requestId);
      }
    });
  }

  /** The query that reads {@code key}. */
  public static byte[] get(String key) {
    return Bytes.write(out -> out.writeUTF(key));
  }

  /** The value a {@link #get} query answered. */
  public static long value(byte[] answer) {
    return Bytes.read(answer, DataInputStream::readLong);
  }

  @Override
  public byte[] apply(long index, byte[] command) {
    record Add(String key, long delta, String requestId) {}
    Add add;
    try {
      add = Bytes.read(command, in -> new Add(in.readUTF(), in.readLong(),
          in.readBoolean() ? in.readUTF() : null));
    } catch (IllegalArgumentException e) {
      return new byte[0]; // malformed: refused, nothing changes
    }
    String key = add.key();
    long delta = add.delta();
    String requestId = add.requestId();
    if (requestId != null && applied.containsKey(requestId)) {
      return applied.get(requestId).encode();
    }
    Added result = new Added(counters.merge(key, delta, Long::sum), index);
    if (requestId != null) {
      applied.put(requestId, result);
      if (applied.size() > REQUEST_IDS_MAX) {
        Iterator<Map.Entry<String, Added>> oldest = applied.entrySet().iterator();
        oldest.next();
        oldest.remove();
      }
    }
    return result.encode();
  }

  @Override
  public byte[] query(byte[] query) {
    String key = Bytes.read(query, in -> in.readUTF());
    return Bytes.write(out -> out.writeLong(counters.getOrDefault(key, 0L)));
  }

  @Override
  public byte[] takeSnapshot(long index) {
    return Bytes.write(out -> {
      out.writeInt(counters.size());
      for (Map.Entry<String, Long> e : counters.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeLong(e.getValue());
      }
      out.writeInt(applied.size());
      for (Map.Entry<String, Added> e : applied.entrySet()) {
        out.writeUTF(e.getKey());
        out.writeLong(e.getValue().value());
        out.writeLong(e.getValue().index());
      }
    });
  }

  @Override
  public void installSnapshot(long index, byte[] snapshot) {
    counters.clear();
    applied.clear();
    Bytes.read(snapshot, in -> {
      for (int n = in.readInt(); n > 0; n--) {
        counters.put(in.readUTF(), in.readLong());
      }
      for (int n = in.readInt(); n > 0; n--) {
        applied.put(in.readUTF(), new Added(in.readLong(), in.readLong()));
      }
      return null;
    });
  }
}
