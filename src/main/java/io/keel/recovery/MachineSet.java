package io.keel.recovery;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The state machines of one partition side by side in its one Raft group: the lock table, the
 * map, and any other service that stores state per partition. Each has a name; a command or
 * query carries the name of the machine it is for ({@link #frame}), and the snapshot is the
 * snapshots of all machines in name order.
 *
 * <p>A command for a machine this replica does not have is answered with an empty result and
 * changes nothing, on every replica alike (the set of machines is fixed at start and the same
 * on every node of one release).
 */
public final class MachineSet implements PartitionStateMachine {
  private final TreeMap<String, PartitionStateMachine> machines = new TreeMap<>();
  // Written by the group's thread, read by status.
  private volatile long applied;

  /** A set of fresh machines, one per factory. */
  public MachineSet(Map<String, Supplier<? extends PartitionStateMachine>> factories) {
    factories.forEach((name, factory) -> {
      checkName(name);
      machines.put(name, factory.get());
    });
  }

  /** The machine called {@code name}, or null. */
  public PartitionStateMachine machine(String name) {
    return machines.get(name);
  }

  /** A command or query for machine {@code name}. */
  public static byte[] frame(String name, byte[] payload) {
    byte[] n = checkName(name);
    byte[] out = new byte[1 + n.length + payload.length];
    out[0] = (byte) n.length;
    System.arraycopy(n, 0, out, 1, n.length);
    System.arraycopy(payload, 0, out, 1 + n.length, payload.length);
    return out;
  }

  private static byte[] checkName(String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    if (n.length == 0 || n.length > 255) {
      throw new IllegalArgumentException("a machine name needs 1..255 bytes: " + name);
    }
    return n;
  }

  /** The index of the last command applied or snapshot installed. */
  public long appliedIndex() {
    return applied;
  }

  @Override
  public byte[] apply(long index, byte[] command) {
    applied = index;
    int end = nameEnd(command);
    PartitionStateMachine m = end < 0 ? null : machines.get(name(command, end));
    return m == null ? new byte[0] : m.apply(index, Arrays.copyOfRange(command, end, command.length));
  }

  @Override
  public byte[] query(byte[] query) {
    int end = nameEnd(query);
    PartitionStateMachine m = end < 0 ? null : machines.get(name(query, end));
    return m == null ? new byte[0] : m.query(Arrays.copyOfRange(query, end, query.length));
  }

  @Override
  public byte[] takeSnapshot(long index) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(machines.size());
      for (Map.Entry<String, PartitionStateMachine> e : machines.entrySet()) {
        byte[] snapshot = e.getValue().takeSnapshot(index);
        out.writeUTF(e.getKey());
        out.writeInt(snapshot.length);
        out.write(snapshot);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  @Override
  public void installSnapshot(long index, byte[] snapshot) {
    applied = index;
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot))) {
      int count = in.readInt();
      for (int i = 0; i < count; i++) {
        String name = in.readUTF();
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        PartitionStateMachine m = machines.get(name);
        if (m != null) {
          m.installSnapshot(index, bytes);
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("malformed partition snapshot at index " + index, e);
    }
  }

  @Override
  public void onNewTerm(long index) {
    applied = index;
    machines.values().forEach(m -> m.onNewTerm(index));
  }

  private static int nameEnd(byte[] framed) {
    if (framed.length == 0) {
      return -1;
    }
    int end = 1 + (framed[0] & 0xff);
    return end <= framed.length ? end : -1;
  }

  private static String name(byte[] framed, int end) {
    return new String(framed, 1, end - 1, StandardCharsets.UTF_8);
  }
}
