package io.keel.recovery;

import io.keel.bus.Failure;
import io.keel.recovery.SimCounterMachine.Command;
import io.microraft.Ordered;
import io.microraft.QueryPolicy;
import io.microraft.RaftEndpoint;
import io.microraft.impl.RaftNodeImpl;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * A client with one request outstanding at a time: it sends the request to the node it
 * believes leads, follows {@code NOT_OWNER} hints, and retries the same request (same client
 * id and sequence number) after failures and timeouts until it is acknowledged.
 */
final class SimClient {

  static final long ATTEMPT_TIMEOUT_MS = 3_000;
  static final List<String> KEYS = List.of("a", "b", "c", "d", "e");

  private final SimCluster cluster;
  private final long id;
  private final SplittableRandom random;
  private long seq = 1;
  private Command pending;
  private int attempt;
  private String leaderHint;
  boolean active = true;
  long acks;
  long notOwner;
  long unavailable;
  long timeouts;
  long leaseReads;

  SimClient(SimCluster cluster, long id, SplittableRandom random) {
    this.cluster = cluster;
    this.id = id;
    this.random = random;
  }

  void start() {
    cluster.queue.schedule(random.nextInt(50), this::next);
  }

  private void next() {
    if (!active) {
      return;
    }
    if (random.nextInt(5) == 0) {
      read();
      return;
    }
    pending = new Command(id, seq, KEYS.get(random.nextInt(KEYS.size())), 1);
    send(pending);
  }

  private void send(Command command) {
    if (!active || command != pending) {
      return; // stopped, or acknowledged meanwhile
    }
    SimNode target = target();
    if (target == null) {
      cluster.queue.schedule(100, () -> send(command));
      return;
    }
    int thisAttempt = ++attempt;
    cluster.queue.schedule(ATTEMPT_TIMEOUT_MS, () -> {
      if (thisAttempt == attempt && command == pending) {
        timeouts++;
        leaderHint = null;
        send(command);
      }
    });
    target.raft.<Object>replicate(command.encode()).whenComplete((ordered, error) -> {
      if (error == null) {
        target.afterDurable(() -> {
          if (command == pending) { // else an older request, already acknowledged
            onAck(target, command, ordered);
          }
        });
      } else if (command == pending && thisAttempt == attempt) {
        onFailure(command, error);
      }
    });
  }

  /**
   * A linearizable read on the node believed to lead; a failed or slow read is abandoned (reads
   * change nothing), and the client goes on with its next request.
   */
  private void read() {
    SimNode target = target();
    if (target == null) {
      cluster.queue.schedule(100, this::next);
      return;
    }
    String key = KEYS.get(random.nextInt(KEYS.size()));
    int ackedAtSend = cluster.checker.ackedCount(key);
    int thisAttempt = ++attempt;
    cluster.queue.schedule(ATTEMPT_TIMEOUT_MS, () -> {
      if (thisAttempt == attempt) {
        timeouts++;
        leaderHint = null;
        next();
      }
    });
    PartitionStateMachineAdapter.Query query =
        new PartitionStateMachineAdapter.Query(key.getBytes(StandardCharsets.UTF_8));
    CompletableFuture<Ordered<Object>> answer = cluster.leaseReads
        ? LeaseReads.query((RaftNodeImpl) target.raft, target.lease, query, cluster::nanos,
            leased -> {
              if (leased) {
                leaseReads++;
              }
            })
        : target.raft.query(query, QueryPolicy.LINEARIZABLE, Optional.empty(), Optional.empty());
    answer.whenComplete((ordered, error) -> {
          if (error == null) {
            target.afterDurable(() -> onRead(key, ordered, ackedAtSend, thisAttempt));
            return;
          }
          RaftEndpoint leader = RaftFailures.leader(error);
          leaderHint = leader == null ? null : (String) leader.getId();
          if (thisAttempt == attempt) {
            attempt++;
            cluster.queue.schedule(random.nextInt(20), this::next);
          }
        });
  }

  private void onRead(String key, Ordered<Object> ordered, int ackedAtSend, int thisAttempt) {
    cluster.checker.read(key, SimCounterMachine.bytesLong((byte[]) ordered.getResult()),
        ackedAtSend);
    if (thisAttempt == attempt) {
      attempt++;
      cluster.queue.schedule(random.nextInt(20), this::next);
    }
  }

  private void onAck(SimNode target, Command command, Ordered<Object> ordered) {
    long result = SimCounterMachine.bytesLong((byte[]) ordered.getResult());
    cluster.onAck(target, new SimChecker.Ack(id, command.seq(), ordered.getCommitIndex(),
        result));
    acks++;
    seq++;
    pending = null;
    attempt++;
    cluster.queue.schedule(random.nextInt(20), this::next);
  }

  private void onFailure(Command command, Throwable error) {
    Failure failure = RaftFailures.classify(error);
    RaftEndpoint leader = RaftFailures.leader(error);
    leaderHint = leader == null ? null : (String) leader.getId();
    if (failure == Failure.NOT_OWNER) {
      notOwner++;
    } else {
      unavailable++;
    }
    attempt++;
    cluster.queue.schedule(leaderHint != null ? 1 : 20 + random.nextInt(100),
        () -> send(command));
  }

  private SimNode target() {
    if (leaderHint != null) {
      SimNode hinted = cluster.node(leaderHint);
      if (hinted != null && hinted.isUp()) {
        return hinted;
      }
    }
    List<SimNode> up = cluster.upNodes();
    return up.isEmpty() ? null : up.get(random.nextInt(up.size()));
  }
}
