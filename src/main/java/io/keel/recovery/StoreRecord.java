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
 * <p>A checkpoint rewrites a group's whole image so that the log segments holding its older
 * records can be deleted: {@link Kind#CHECKPOINT_BEGIN}, then the image as records marked
 * {@code copy} (the high bit of the kind byte), then {@link Kind#CHECKPOINT_END}. Replay builds
 * the copies aside and swaps them in only at the end, so a checkpoint cut short by a crash
 * changes nothing.
 *
 * @param kind what the call was
 * @param groupId the group (a partition number)
 * @param body the call's argument, decoded
 * @param copy whether the record is part of a checkpoint's copy of the image
 */
public record StoreRecord(Kind kind, int groupId, Object body, boolean copy) {
  private static final int COPY_BIT = 0x80;

  /** A record of a store call, not a checkpoint copy. */
  public StoreRecord(Kind kind, int groupId, Object body) {
    this(kind, groupId, body, false);
  }

  /** This record as part of a checkpoint's copy of the image. */
  public StoreRecord asCopy() {
    return new StoreRecord(kind, groupId, body, true);
  }

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
    FORGET(9),
    /**
     * Not a MicroRaft call: a checkpoint of the group starts; the copy of its image follows.
     * Body is null.
     */
    CHECKPOINT_BEGIN(10),
    /**
     * Not a MicroRaft call: the checkpoint's copy is complete and replaces every earlier record
     * of the group. Body is null.
     */
    CHECKPOINT_END(11);

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
      out.writeByte(kind.code | (copy ? COPY_BIT : 0));
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
      case CHECKPOINT_BEGIN:
      case CHECKPOINT_END:
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
      int code = in.readByte() & 0xff;
      Kind kind = Kind.of((byte) (code & ~COPY_BIT));
      int group = in.readInt();
      return new StoreRecord(kind, group, readBody(codec, in, kind), (code & COPY_BIT) != 0);
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
      case CHECKPOINT_BEGIN:
      case CHECKPOINT_END:
        return null;
      default:
        throw new IllegalStateException("unhandled kind " + kind);
    }
  }
}
