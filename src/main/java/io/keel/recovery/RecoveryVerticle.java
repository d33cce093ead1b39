package io.keel.recovery;

import io.keel.bus.Addresses;
import io.microraft.model.RaftModelFactory;
import io.microraft.model.impl.DefaultRaftModelFactory;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the node's write-ahead log at start and replays it: a torn tail is cut (and logged),
 * a corrupt record stops the node with the file and offset, and every Raft group's state is
 * rebuilt from its records. Phases ({@code replaying}, then {@code active}) go to the status
 * feed as {@code recovery-phase} events and to {@code /status}.
 *
 * <p>This is the first stage of recovery: the rebuilt groups are kept, ready for the partition
 * groups that will run on them; catching up from peers comes with those groups. All disk access
 * runs on worker threads.
 */
public final class RecoveryVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(RecoveryVerticle.class);
  /** The log's directory under the node's data directory. */
  public static final String LOG_DIR = "wal";

  private final String nodeName;
  private final Path logDir;
  private final WalOptions walOptions;
  private final RaftModelFactory factory = new DefaultRaftModelFactory();
  private volatile String phase = "starting";
  private volatile JsonObject logStatus = new JsonObject();
  private volatile int groups;
  private WriteAheadLog wal;
  private Map<Integer, GroupImage> images = Map.of();

  /** Recovery of node {@code nodeName} whose data directory is {@code dataDir}. */
  public RecoveryVerticle(String nodeName, Path dataDir, WalOptions walOptions) {
    this.nodeName = nodeName;
    this.logDir = dataDir.resolve(LOG_DIR);
    this.walOptions = new WalOptions(walOptions);
  }

  @Override
  public Future<?> start() {
    enter("replaying", new JsonObject());
    RaftLogReplay replay = new RaftLogReplay(RaftCodec.forKeel(factory), factory);
    long t0 = System.nanoTime();
    return context.executeBlocking(() -> {
      try {
        // One pass: the scan that checks the log also rebuilds the groups.
        return WriteAheadLog.open(logDir, walOptions, replay);
      } catch (WalCorruptionException e) {
        throw e.in(logDir);
      }
    }, false).map(opened -> {
      wal = opened;
      images = replay.images();
      groups = images.size();
      WriteAheadLog.Recovery r = wal.recovery();
      JsonObject cut = r.cutFile() == null ? null : new JsonObject().put("file", r.cutFile())
          .put("offset", r.cutOffset()).put("bytes", r.bytesCut());
      logStatus = new JsonObject().put("dir", logDir.toString()).put("firstLsn", r.firstLsn())
          .put("lastLsn", r.lastLsn()).put("segments", r.segments()).put("cut", cut);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      log.info("node {}: write-ahead log {} replayed in {} ms: LSN {}..{}, {} group(s){}",
          nodeName, logDir, ms, r.firstLsn(), r.lastLsn(), groups,
          cut == null ? "" : ", torn tail of " + r.bytesCut() + " bytes cut");
      enter("active", new JsonObject().put("replayMs", ms).put("groups", groups)
          .put("lastLsn", r.lastLsn()).put("cut", cut));
      return null;
    });
  }

  @Override
  public Future<?> stop() {
    WriteAheadLog w = wal;
    return w == null ? Future.succeededFuture() : context.executeBlocking(() -> {
      w.close();
      return null;
    }, false);
  }

  /** Whether replay has finished. */
  public boolean active() {
    return "active".equals(phase);
  }

  /** The {@code recovery} part of {@code /status}. */
  public JsonObject status() {
    return new JsonObject().put("phase", phase).put("groups", groups).put("log", logStatus);
  }

  private void enter(String next, JsonObject fields) {
    phase = next;
    vertx.eventBus().publish(Addresses.EVENTS, fields.put("type", "recovery-phase")
        .put("node", nodeName).put("phase", next));
  }
}
