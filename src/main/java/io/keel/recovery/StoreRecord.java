package io.keel.recovery;

import io.microraft.RaftEndpoint;
import io.microraft.model.log.LogEntry;
import io.microraft.model.log.RaftGroupMembersView;
import io.microraft.model.log.SnapshotChunk;
import io.microraft.model.persistence.RaftEndpointPersistentState;
import io.microraft.model.persistence.RaftTermPersistentState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * One call of MicroRaft's {@code RaftStore} for one group, as the bytes of a write-ahead-log
 * record: {@code [kind][group id][body]}. Replaying a node's records in order through
 * {@link GroupImage} rebuilds every group's restored state.
 *
 * @param kind what the call was
 * @param groupId the group (a partition number)
 * @param body the call's argument, decoded
 */
public record StoreRecord(Kind kind, int groupId, Object body) {
  /** The calls, with their stable on-disk codes. */
  public enum Kind {
    /** {@code persistAndFlushLocalEndpoint}: body is a {@code RaftEndpointPersistentState}. */
    ENDPOINT(1),
    /** {@code persistAndFlushInitialGroupMembers}: body is a {@code RaftGroupMembersView}. */
    INITIAL_MEMBERS(2),
    /** {@code persistAndFlushTerm}: body is a {@code RaftTermPersistentState}. */
    TERM(3),
    /** {@code persistLogEntries}: body is a {@code List<LogEntry>}. */
    ENTRIES(4),
    /** {@code persistSnapshotChunk}: body is a {@code SnapshotChunk}. */
    SNAPSHOT_CHUNK(5),
    /** {@code truncateLogEntriesFrom}: body is the {@code Long} first index removed. */
    TRUNCATE_FROM(6),
    /** {@code truncateLogEntriesUntil}: body is the {@code Long} last index removed. */
    TRUNCATE_UNTIL(7),
    /** {@code deleteSnapshotChunks}: body is a {@code long[]{snapshotIndex, chunkCount}}. */
    DELETE_SNAPSHOT_CHUNKS(8),
    /**
     * Not a MicroRaft call: this node's replica left the group (it was removed, or replaced by a
     * new incarnation); replay forgets every earlier record of the group. Body is null.
     */
    FORGET(9);

    final byte code;

    Kind(int code) {
      this.code = (byte) code;
    }

    static Kind of(byte code) {
      for (Kind k : values()) {
        if (k.code == code) {
          return k;
        }
      }
      throw new IllegalArgumentException("unknown store record kind " + code);
    }
  }

  /** Encodes this record with {@code codec}. */
  public byte[] encode(RaftCodec codec) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(kind.code);
      out.writeInt(groupId);
      writeBody(codec, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  @SuppressWarnings("unchecked")
  private void writeBody(RaftCodec codec, DataOutputStream out) throws IOException {
    switch (kind) {
      case ENDPOINT: {
        RaftEndpointPersistentState s = (RaftEndpointPersistentState) body;
        codec.writeEndpoint(out, s.getLocalEndpoint());
        out.writeBoolean(s.isVoting());
        break;
      }
      case INITIAL_MEMBERS:
        codec.writeMembersView(out, (RaftGroupMembersView) body);
        break;
      case TERM: {
        RaftTermPersistentState s = (RaftTermPersistentState) body;
        out.writeInt(s.getTerm());
        codec.writeEndpoint(out, s.getVotedFor());
        break;
      }
      case ENTRIES:
        codec.writeEntries(out, (List<LogEntry>) body);
        break;
      case SNAPSHOT_CHUNK:
        codec.writeChunk(out, (SnapshotChunk) body);
        break;
      case TRUNCATE_FROM:
      case TRUNCATE_UNTIL:
        out.writeLong((Long) body);
        break;
      case FORGET:
        break;
      case DELETE_SNAPSHOT_CHUNKS: {
        long[] a = (long[]) body;
        out.writeLong(a[0]);
        out.writeLong(a[1]);
        break;
      }
      default:
        throw new IllegalStateException("unhandled kind " + kind);
    }
  }

  /** Decodes a record encoded by {@link #encode}. */
  public static StoreRecord decode(RaftCodec codec, byte[] data) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      Kind kind = Kind.of(in.readByte());
      int group = in.readInt();
      return new StoreRecord(kind, group, readBody(codec, in, kind));
    } catch (IOException e) {
      throw new IllegalArgumentException("not a store record: " + e, e);
    }
  }

  private static Object readBody(RaftCodec codec, DataInputStream in, Kind kind)
      throws IOException {
    switch (kind) {
      case ENDPOINT: {
        RaftEndpoint e = codec.readEndpoint(in);
        return codec.factory().createRaftEndpointPersistentStateBuilder().setLocalEndpoint(e)
            .setVoting(in.readBoolean()).build();
      }
      case INITIAL_MEMBERS:
        return codec.readMembersView(in);
      case TERM: {
        int term = in.readInt();
        return codec.factory().createRaftTermPersistentStateBuilder().setTerm(term)
            .setVotedFor(codec.readEndpoint(in)).build();
      }
      case ENTRIES:
        return codec.readEntries(in);
      case SNAPSHOT_CHUNK:
        return codec.readChunk(in);
      case TRUNCATE_FROM:
      case TRUNCATE_UNTIL:
        return in.readLong();
      case DELETE_SNAPSHOT_CHUNKS:
        return new long[] {in.readLong(), in.readLong()};
      case FORGET:
        return null;
      default:
        throw new IllegalStateException("unhandled kind " + kind);
    }
  }
}
