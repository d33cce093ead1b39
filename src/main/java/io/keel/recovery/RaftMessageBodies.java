package io.keel.recovery;

import io.microraft.RaftEndpoint;
import io.microraft.model.RaftModelFactory;
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
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/** The type-specific part of each Raft message's encoding, after the common header. */
final class RaftMessageBodies {
  private RaftMessageBodies() {}

  static void write(RaftCodec c, DataOutputStream out, byte tag, RaftMessage m)
      throws IOException {
    switch (tag) {
      case RaftCodec.APPEND_REQUEST: {
        AppendEntriesRequest r = (AppendEntriesRequest) m;
        out.writeInt(r.getPreviousLogTerm());
        out.writeLong(r.getPreviousLogIndex());
        out.writeLong(r.getCommitIndex());
        c.writeEntries(out, r.getLogEntries());
        out.writeLong(r.getQuerySequenceNumber());
        out.writeLong(r.getFlowControlSequenceNumber());
        break;
      }
      case RaftCodec.APPEND_SUCCESS: {
        AppendEntriesSuccessResponse r = (AppendEntriesSuccessResponse) m;
        out.writeLong(r.getLastLogIndex());
        out.writeLong(r.getQuerySequenceNumber());
        out.writeLong(r.getFlowControlSequenceNumber());
        break;
      }
      case RaftCodec.APPEND_FAILURE: {
        AppendEntriesFailureResponse r = (AppendEntriesFailureResponse) m;
        out.writeLong(r.getExpectedNextIndex());
        out.writeLong(r.getQuerySequenceNumber());
        out.writeLong(r.getFlowControlSequenceNumber());
        break;
      }
      case RaftCodec.INSTALL_SNAPSHOT_REQUEST: {
        InstallSnapshotRequest r = (InstallSnapshotRequest) m;
        out.writeBoolean(r.isSenderLeader());
        out.writeInt(r.getSnapshotTerm());
        out.writeLong(r.getSnapshotIndex());
        out.writeInt(r.getTotalSnapshotChunkCount());
        c.writeChunk(out, r.getSnapshotChunk());
        c.writeEndpoints(out, r.getSnapshottedMembers());
        c.writeMembersView(out, r.getGroupMembersView());
        out.writeLong(r.getQuerySequenceNumber());
        out.writeLong(r.getFlowControlSequenceNumber());
        break;
      }
      case RaftCodec.INSTALL_SNAPSHOT_RESPONSE: {
        InstallSnapshotResponse r = (InstallSnapshotResponse) m;
        out.writeLong(r.getSnapshotIndex());
        out.writeInt(r.getRequestedSnapshotChunkIndex());
        out.writeLong(r.getQuerySequenceNumber());
        out.writeLong(r.getFlowControlSequenceNumber());
        break;
      }
      case RaftCodec.PRE_VOTE_REQUEST: {
        PreVoteRequest r = (PreVoteRequest) m;
        out.writeInt(r.getLastLogTerm());
        out.writeLong(r.getLastLogIndex());
        break;
      }
      case RaftCodec.PRE_VOTE_RESPONSE:
        out.writeBoolean(((PreVoteResponse) m).isGranted());
        break;
      case RaftCodec.TRIGGER_ELECTION: {
        TriggerLeaderElectionRequest r = (TriggerLeaderElectionRequest) m;
        out.writeInt(r.getLastLogTerm());
        out.writeLong(r.getLastLogIndex());
        break;
      }
      case RaftCodec.VOTE_REQUEST: {
        VoteRequest r = (VoteRequest) m;
        out.writeInt(r.getLastLogTerm());
        out.writeLong(r.getLastLogIndex());
        out.writeBoolean(r.isSticky());
        break;
      }
      case RaftCodec.VOTE_RESPONSE:
        out.writeBoolean(((VoteResponse) m).isGranted());
        break;
      default:
        throw new IllegalArgumentException("unknown message tag " + tag);
    }
  }

  static RaftMessage read(RaftCodec c, DataInputStream in, byte tag, Object group,
      RaftEndpoint sender, int term) throws IOException {
    RaftModelFactory f = c.factory();
    switch (tag) {
      case RaftCodec.APPEND_REQUEST:
        return f.createAppendEntriesRequestBuilder().setGroupId(group).setSender(sender)
            .setTerm(term).setPreviousLogTerm(in.readInt()).setPreviousLogIndex(in.readLong())
            .setCommitIndex(in.readLong()).setLogEntries(c.readEntries(in))
            .setQuerySequenceNumber(in.readLong()).setFlowControlSequenceNumber(in.readLong())
            .build();
      case RaftCodec.APPEND_SUCCESS:
        return f.createAppendEntriesSuccessResponseBuilder().setGroupId(group).setSender(sender)
            .setTerm(term).setLastLogIndex(in.readLong()).setQuerySequenceNumber(in.readLong())
            .setFlowControlSequenceNumber(in.readLong()).build();
      case RaftCodec.APPEND_FAILURE:
        return f.createAppendEntriesFailureResponseBuilder().setGroupId(group).setSender(sender)
            .setTerm(term).setExpectedNextIndex(in.readLong())
            .setQuerySequenceNumber(in.readLong()).setFlowControlSequenceNumber(in.readLong())
            .build();
      case RaftCodec.INSTALL_SNAPSHOT_REQUEST:
        return f.createInstallSnapshotRequestBuilder().setGroupId(group).setSender(sender)
            .setTerm(term).setSenderLeader(in.readBoolean()).setSnapshotTerm(in.readInt())
            .setSnapshotIndex(in.readLong()).setTotalSnapshotChunkCount(in.readInt())
            .setSnapshotChunk(c.readChunk(in)).setSnapshottedMembers(c.readEndpoints(in))
            .setGroupMembersView(c.readMembersView(in)).setQuerySequenceNumber(in.readLong())
            .setFlowControlSequenceNumber(in.readLong()).build();
      case RaftCodec.INSTALL_SNAPSHOT_RESPONSE:
        return f.createInstallSnapshotResponseBuilder().setGroupId(group).setSender(sender)
            .setTerm(term).setSnapshotIndex(in.readLong())
            .setRequestedSnapshotChunkIndex(in.readInt()).setQuerySequenceNumber(in.readLong())
            .setFlowControlSequenceNumber(in.readLong()).build();
      case RaftCodec.PRE_VOTE_REQUEST:
        return f.createPreVoteRequestBuilder().setGroupId(group).setSender(sender).setTerm(term)
            .setLastLogTerm(in.readInt()).setLastLogIndex(in.readLong()).build();
      case RaftCodec.PRE_VOTE_RESPONSE:
        return f.createPreVoteResponseBuilder().setGroupId(group).setSender(sender).setTerm(term)
            .setGranted(in.readBoolean()).build();
      case RaftCodec.TRIGGER_ELECTION:
        return f.createTriggerLeaderElectionRequestBuilder().setGroupId(group).setSender(sender)
            .setTerm(term).setLastLogTerm(in.readInt()).setLastLogIndex(in.readLong()).build();
      case RaftCodec.VOTE_REQUEST:
        return f.createVoteRequestBuilder().setGroupId(group).setSender(sender).setTerm(term)
            .setLastLogTerm(in.readInt()).setLastLogIndex(in.readLong())
            .setSticky(in.readBoolean()).build();
      case RaftCodec.VOTE_RESPONSE:
        return f.createVoteResponseBuilder().setGroupId(group).setSender(sender).setTerm(term)
            .setGranted(in.readBoolean()).build();
      default:
        throw new IOException("unknown message tag " + tag);
    }
  }
}
