package io.keel.recovery;

import io.microraft.MembershipChangeMode;
import io.microraft.RaftEndpoint;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.groupop.UpdateRaftGroupMembersOp;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotChunk;
import io.microraft.model.message.AppendEntriesFailureResponse;
import io.microraft.model.message.AppendEntriesRequest;
import io.microraft.model.message.AppendEntriesSuccessResponse;
import io.microraft.model.message.InstallSnapshotRequest;
import io.microraft.model.message.InstallSnapshotResponse;
import io.microraft.model.message.PreVoteRequest;
import io.microraft.model.message.PreVoteResponse;
import io.microraft.model.message.RaftMessage;
import io.microraft.model.message.TriggerLeaderElectionRequest;
import io.microraft.model.message.VoteRequest;
import io.microraft.model.message.VoteResponse;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Keel's binary format for MicroRaft's messages and log entries: what travels on the event bus
 * between group members and what the write-ahead log stores. MicroRaft defines the model but no
 * wire format.
 *
 * <p>Implementation notes. Each value starts with a one-byte tag ({@link #tagOf}); integers are
 * big-endian, strings modified UTF-8 ({@link DataOutputStream#writeUTF}). Endpoints travel as
 * their node names and are turned back into endpoint objects by the function given to the
 * codec, so that one node's endpoints are the same objects everywhere. Operations in log
 * entries are {@code byte[]} commands of the partition state machines, group membership
 * changes, {@code null}, or singletons registered by tag (such as a state machine's new-term
 * operation). The tags are part of the on-disk format: never renumber them.
 */
public final class RaftCodec {
  static final byte APPEND_REQUEST = 1;
  static final byte APPEND_SUCCESS = 2;
  static final byte APPEND_FAILURE = 3;
  static final byte INSTALL_SNAPSHOT_REQUEST = 4;
  static final byte INSTALL_SNAPSHOT_RESPONSE = 5;
  static final byte PRE_VOTE_REQUEST = 6;
  static final byte PRE_VOTE_RESPONSE = 7;
  static final byte TRIGGER_ELECTION = 8;
  static final byte VOTE_REQUEST = 9;
  static final byte VOTE_RESPONSE = 10;
  static final byte LOG_ENTRY = 20;

  private static final byte OP_NULL = 0;
  private static final byte OP_BYTES = 1;
  private static final byte OP_MEMBERS = 2;
  private static final byte OP_SINGLETON = 3;
  private static final byte GROUP_INT = 1;
  private static final byte GROUP_LONG = 2;
  private static final byte GROUP_STRING = 3;
  private static final byte ENDPOINT_NULL = 0;
  private static final byte ENDPOINT_PRESENT = 1;

  private final RaftModelFactory factory;
  private final Function<String, RaftEndpoint> endpoints;
  private final Map<Byte, Object> singletons;

  /**
   * A codec building objects with {@code factory}, endpoints with {@code endpoints}, and knowing
   * the singleton operations in {@code singletons} by tag.
   */
  public RaftCodec(RaftModelFactory factory, Function<String, RaftEndpoint> endpoints,
      Map<Byte, Object> singletons) {
    this.factory = factory;
    this.endpoints = endpoints;
    this.singletons = Map.copyOf(singletons);
  }

  /**
   * The codec of Keel's groups: endpoints are {@link NodeEndpoint}s, and the one singleton
   * operation is the partition state machines' new-term entry (tag 1, on disk: never change).
   */
  public static RaftCodec forKeel(RaftModelFactory factory) {
    return new RaftCodec(factory, NodeEndpoint::new,
        Map.of((byte) 1, PartitionStateMachineAdapter.NewTermOperation.INSTANCE));
  }

  /** The tag that starts the encoding of {@code message}. */
  static byte tagOf(RaftMessage message) {
    if (message instanceof AppendEntriesRequest) {
      return APPEND_REQUEST;
    } else if (message instanceof AppendEntriesSuccessResponse) {
      return APPEND_SUCCESS;
    } else if (message instanceof AppendEntriesFailureResponse) {
      return APPEND_FAILURE;
    } else if (message instanceof InstallSnapshotRequest) {
      return INSTALL_SNAPSHOT_REQUEST;
    } else if (message instanceof InstallSnapshotResponse) {
      return INSTALL_SNAPSHOT_RESPONSE;
    } else if (message instanceof PreVoteRequest) {
      return PRE_VOTE_REQUEST;
    } else if (message instanceof PreVoteResponse) {
      return PRE_VOTE_RESPONSE;
    } else if (message instanceof TriggerLeaderElectionRequest) {
      return TRIGGER_ELECTION;
    } else if (message instanceof VoteRequest) {
      return VOTE_REQUEST;
    } else if (message instanceof VoteResponse) {
      return VOTE_RESPONSE;
    }
    throw new IllegalArgumentException("no encoding for " + message.getClass().getName());
  }

  /** Encodes one message. */
  public byte[] encode(RaftMessage message) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      byte tag = tagOf(message);
      out.writeByte(tag);
      writeGroupId(out, message.getGroupId());
      writeEndpoint(out, message.getSender());
      out.writeInt(message.getTerm());
      RaftMessageBodies.write(this, out, tag, message);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Decodes one message encoded by {@link #encode}. */
  public RaftMessage decode(byte[] data) {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data))) {
      byte tag = in.readByte();
      Object groupId = readGroupId(in);
      RaftEndpoint sender = readEndpoint(in);
      int term = in.readInt();
      return RaftMessageBodies.read(this, in, tag, groupId, sender, term);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a Raft message: " + e, e);
    }
  }

  /** Encodes one log entry (for the write-ahead log). */
  public byte[] encodeEntry(LogEntry entry) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(LOG_ENTRY);
      writeEntry(out, entry);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Decodes one log entry encoded by {@link #encodeEntry}. */
  public LogEntry decodeEntry(byte[] data) {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data))) {
      byte tag = in.readByte();
      if (tag != LOG_ENTRY) {
        throw new IllegalArgumentException("not a log entry: tag " + tag);
      }
      return readEntry(in);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a log entry: " + e, e);
    }
  }

  RaftModelFactory factory() {
    return factory;
  }

  void writeEntry(DataOutputStream out, LogEntry e) throws IOException {
    out.writeLong(e.getIndex());
    out.writeInt(e.getTerm());
    writeOperation(out, e.getOperation());
  }

  LogEntry readEntry(DataInputStream in) throws IOException {
    long index = in.readLong();
    int term = in.readInt();
    return factory.createLogEntryBuilder().setIndex(index).setTerm(term)
        .setOperation(readOperation(in)).build();
  }

  void writeEntries(DataOutputStream out, List<LogEntry> entries) throws IOException {
    out.writeInt(entries.size());
    for (LogEntry e : entries) {
      writeEntry(out, e);
    }
  }

  List<LogEntry> readEntries(DataInputStream in) throws IOException {
    int n = in.readInt();
    List<LogEntry> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(readEntry(in));
    }
    return out;
  }

  void writeChunk(DataOutputStream out, SnapshotChunk c) throws IOException {
    out.writeBoolean(c != null);
    if (c == null) {
      return;
    }
    out.writeLong(c.getIndex());
    out.writeInt(c.getTerm());
    writeOperation(out, c.getOperation());
    out.writeInt(c.getSnapshotChunkIndex());
    out.writeInt(c.getSnapshotChunkCount());
    writeMembersView(out, c.getGroupMembersView());
  }

  SnapshotChunk readChunk(DataInputStream in) throws IOException {
    if (!in.readBoolean()) {
      return null;
    }
    long index = in.readLong();
    int term = in.readInt();
    Object op = readOperation(in);
    int chunkIndex = in.readInt();
    int chunkCount = in.readInt();
    return factory.createSnapshotChunkBuilder().setIndex(index).setTerm(term).setOperation(op)
        .setSnapshotChunkIndex(chunkIndex).setSnapshotChunkCount(chunkCount)
        .setGroupMembersView(readMembersView(in)).build();
  }

  void writeMembersView(DataOutputStream out, RaftGroupMembersView v) throws IOException {
    out.writeBoolean(v != null);
    if (v == null) {
      return;
    }
    out.writeLong(v.getLogIndex());
    writeEndpoints(out, v.getMembers());
    writeEndpoints(out, v.getVotingMembers());
  }

  RaftGroupMembersView readMembersView(DataInputStream in) throws IOException {
    if (!in.readBoolean()) {
      return null;
    }
    long logIndex = in.readLong();
    List<RaftEndpoint> members = readEndpoints(in);
    List<RaftEndpoint> voting = readEndpoints(in);
    return factory.createRaftGroupMembersViewBuilder().setLogIndex(logIndex)
        .setMembers(members).setVotingMembers(voting).build();
  }

  void writeOperation(DataOutputStream out, Object op) throws IOException {
    if (op == null) {
      out.writeByte(OP_NULL);
    } else if (op instanceof byte[]) {
      byte[] b = (byte[]) op;
      out.writeByte(OP_BYTES);
      out.writeInt(b.length);
      out.write(b);
    } else if (op instanceof UpdateRaftGroupMembersOp) {
      UpdateRaftGroupMembersOp m = (UpdateRaftGroupMembersOp) op;
      out.writeByte(OP_MEMBERS);
      writeEndpoints(out, m.getMembers());
      writeEndpoints(out, m.getVotingMembers());
      writeEndpoint(out, m.getEndpoint());
      out.writeByte(m.getMode().ordinal());
    } else {
      for (Map.Entry<Byte, Object> s : singletons.entrySet()) {
        if (s.getValue().equals(op)) {
          out.writeByte(OP_SINGLETON);
          out.writeByte(s.getKey());
          return;
        }
      }
      throw new IllegalArgumentException("no encoding for operation " + op.getClass().getName());
    }
  }

  Object readOperation(DataInputStream in) throws IOException {
    byte kind = in.readByte();
    switch (kind) {
      case OP_NULL:
        return null;
      case OP_BYTES:
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return b;
      case OP_MEMBERS:
        List<RaftEndpoint> members = readEndpoints(in);
        List<RaftEndpoint> voting = readEndpoints(in);
        RaftEndpoint endpoint = readEndpoint(in);
        MembershipChangeMode mode = MembershipChangeMode.values()[in.readByte()];
        return factory.createUpdateRaftGroupMembersOpBuilder().setMembers(members)
            .setVotingMembers(voting).setEndpoint(endpoint).setMode(mode).build();
      case OP_SINGLETON:
        byte tag = in.readByte();
        Object s = singletons.get(tag);
        if (s == null) {
          throw new IOException("unknown singleton operation " + tag);
        }
        return s;
      default:
        throw new IOException("unknown operation kind " + kind);
    }
  }

  void writeEndpoints(DataOutputStream out, Collection<RaftEndpoint> es) throws IOException {
    out.writeInt(es.size());
    for (RaftEndpoint e : es) {
      writeEndpoint(out, e);
    }
  }

  List<RaftEndpoint> readEndpoints(DataInputStream in) throws IOException {
    int n = in.readInt();
    List<RaftEndpoint> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(readEndpoint(in));
    }
    return out;
  }

  void writeEndpoint(DataOutputStream out, RaftEndpoint e) throws IOException {
    if (e == null) {
      out.writeByte(ENDPOINT_NULL);
    } else {
      out.writeByte(ENDPOINT_PRESENT);
      out.writeUTF(String.valueOf(e.getId()));
    }
  }

  RaftEndpoint readEndpoint(DataInputStream in) throws IOException {
    return in.readByte() == ENDPOINT_NULL ? null : endpoints.apply(in.readUTF());
  }

  private static void writeGroupId(DataOutputStream out, Object id) throws IOException {
    if (id instanceof Integer) {
      out.writeByte(GROUP_INT);
      out.writeInt((Integer) id);
    } else if (id instanceof Long) {
      out.writeByte(GROUP_LONG);
      out.writeLong((Long) id);
    } else if (id instanceof String) {
      out.writeByte(GROUP_STRING);
      out.writeUTF((String) id);
    } else {
      throw new IllegalArgumentException("group ids are Integer, Long or String, was " + id);
    }
  }

  private static Object readGroupId(DataInputStream in) throws IOException {
    byte kind = in.readByte();
    switch (kind) {
      case GROUP_INT:
        return in.readInt();
      case GROUP_LONG:
        return in.readLong();
      case GROUP_STRING:
        return in.readUTF();
      default:
        throw new IOException("unknown group id kind " + kind);
    }
  }
}
