package io.keel.recovery;

import io.microraft.MembershipChangeMode;
import io.microraft.RaftEndpoint;
import io.microraft.impl.RaftNodeImpl;
import io.microraft.RaftNodeStatus;
import io.microraft.report.RaftGroupMembers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Moves the group between replica sets as placement would: now and then the wanted set
 * changes by one node, and the leader walks toward it with {@link MembershipPlan}, one
 * membership change at a time (add a learner, promote it once caught up, remove an unwanted
 * member, hand leadership over before removing itself), while the chaos goes on.
 *
 * <p>The group never has an even number of voters above two ({@link MembershipPlan}):
 * MicroRaft 0.7 commits with half of an even voter set ({@code RaftState
 * .logReplicationQuorumSize}, the "improved majority quorum"), and that half need not intersect
 * the majority of the one-member-different configuration an older leader left uncommitted in
 * another node's log; that node can then win an election and overwrite committed entries
 * (membership seed 3140; {@code SimRaftDirectedTest
 * .microraft_commits_with_half_of_four_voters_and_a_stale_removal_overwrites_it}). So a replica
 * is replaced as 3 voters, 2 voters (the outgoing one removed once the incoming learner has
 * caught up), 3 voters: with 1, 2 or 3 voters MicroRaft's commit quorum is a majority.
 *
 * <p>As {@code PartitionGroups} does, replicas that are stuck ({@link CatchUpWatch}) are
 * removed, and fresh ones take their place; a replica that is being removed cannot campaign
 * ({@link CampaignGuard}). The moves stop before the cluster settles; the stepping does not,
 * as the driver of a real node never stops.
 */
final class SimReconfig {
  /** Virtual time without progress after which a replica is stuck. */
  static final long STUCK_AFTER_MS = 5_000;

  private final SimCluster cluster;
  private final SplittableRandom random;
  private final int replicas;
  private TreeSet<String> wanted = new TreeSet<>();
  private boolean inFlight;
  // The leader process (and its incarnation) a change in flight was given to: a crash drops
  // the Raft node, whose futures then never complete, so the change is over with it.
  private SimNode inFlightAt;
  private int inFlightIncarnation;
  private int lastProcess;
  boolean active = true;
  // False once the cluster settles: the wanted set stays, the walk toward it goes on.
  boolean moving = true;
  private final CatchUpWatch leaderWatch = new CatchUpWatch(STUCK_AFTER_MS);
  private String watchedLeader;
  private long leaderSince;
  long stuckReplaced;
  // True: follow MembershipPlan as is, through 4 voters (unsafe with MicroRaft 0.7, see above),
  // as the simulation did when the seeds that replay only so were found: no stuck replicas,
  // a change in flight on a crashed leader blocks the walk, and no campaign guard.
  boolean allowEvenVoterCount;
  long changes;
  long wantedChanges;

  SimReconfig(SimCluster cluster, SplittableRandom random, int replicas) {
    this.cluster = cluster;
    this.random = random;
    this.replicas = replicas;
    this.lastProcess = cluster.nodes().size();
    for (int i = 1; i <= replicas; i++) {
      wanted.add("n" + i);
    }
  }

  void start() {
    cluster.queue.schedule(1_000 + random.nextInt(2_000), this::moveWanted);
    cluster.queue.schedule(100, this::step);
  }

  /** The partition table changes: one wanted replica is replaced by another process. */
  private void moveWanted() {
    if (!active || !moving) {
      return;
    }
    List<String> out = new ArrayList<>(wanted);
    List<String> in = new ArrayList<>();
    for (SimNode n : cluster.nodes()) {
      if (!wanted.contains(n.name)) {
        in.add(n.name);
      }
    }
    if (!in.isEmpty()) {
      TreeSet<String> next = new TreeSet<>(wanted);
      next.remove(out.get(random.nextInt(out.size())));
      next.add(in.get(random.nextInt(in.size())));
      wanted = next;
      wantedChanges++;
    }
    cluster.queue.schedule(2_000 + random.nextInt(4_000), this::moveWanted);
  }

  private void step() {
    if (!active) {
      return;
    }
    cluster.queue.schedule(100 + random.nextInt(200), this::step);
    SimNode leader = cluster.leader();
    if (inFlight && !allowEvenVoterCount && (inFlightAt == null || !inFlightAt.isUp()
        || inFlightAt.incarnation != inFlightIncarnation)) {
      inFlight = false;
    }
    if (inFlight || leader == null) {
      return;
    }
    RaftGroupMembers members = leader.raft.getCommittedMembers();
    List<String> all = names(members.getMembers());
    List<String> voting = names(members.getVotingMembers());
    List<String> caughtUp = new ArrayList<>();
    for (String m : all) {
      SimNode n = cluster.node(m); // null once retired: a removal this leader has not seen
      if (n != null && n.isUp() && n.machine.lastIndex() >= leader.machine.lastIndex()) {
        caughtUp.add(m);
      }
    }
    if (!allowEvenVoterCount && MembershipPlan.unsafe(voting.size())) {
      throw new AssertionError("the group has " + voting.size() + " voters " + voting
          + "; MicroRaft 0.7 commits with half of them");
    }
    Set<String> stuck = allowEvenVoterCount ? Set.of() : stuck(leader, all);
    MembershipPlan.Step step = MembershipPlan.removeStuck(leader.name, all, voting, caughtUp,
        stuck);
    if (step != null) {
      stuckReplaced++;
    } else {
      step = MembershipPlan.next(leader.name, all, voting, wanted, caughtUp,
          !allowEvenVoterCount);
    }
    switch (step.action()) {
      case ADD_LEARNER:
        change(leader, step.node(), MembershipChangeMode.ADD_LEARNER, members);
        break;
      case PROMOTE:
        change(leader, step.node(), MembershipChangeMode.ADD_OR_PROMOTE_TO_FOLLOWER, members);
        break;
      case REMOVE:
        change(leader, step.node(), MembershipChangeMode.REMOVE_MEMBER, members);
        break;
      case TRANSFER_LEADERSHIP:
        begin(leader);
        LeaseReads.transfer((RaftNodeImpl) leader.raft, leader.lease,
            new NodeEndpoint(step.node())).whenComplete((r, e) -> inFlight = false);
        break;
      default:
        break;
    }
  }

  /**
   * The members the leader would call stuck: retired ones (their replica is gone for good),
   * and live ones whose applied index stays behind the leader's without moving.
   */
  private Set<String> stuck(SimNode leader, List<String> all) {
    long now = cluster.queue.nowMs();
    if (!leader.name.equals(watchedLeader)) {
      watchedLeader = leader.name;
      leaderSince = now;
    }
    Map<String, Long> match = new HashMap<>();
    // A terminated replica stops answering; a leader's report would show it silent since.
    Map<String, Long> answered = new HashMap<>();
    Set<String> reachable = new TreeSet<>();
    Set<String> stuck = new TreeSet<>();
    for (String m : all) {
      SimNode n = cluster.node(m);
      if (m.equals(leader.name)) {
        continue;
      }
      if (n == null) {
        stuck.add(m);
        continue;
      }
      match.put(m, n.isUp() ? n.machine.lastIndex() : 0L);
      answered.put(m, n.isUp() && RaftNodeStatus.isTerminal(n.raft.getStatus()) ? leaderSince
          : now);
      if (n.isUp() && !cluster.network.isCut(leader.name, m)
          && !cluster.network.isCut(m, leader.name)) {
        reachable.add(m);
      }
    }
    stuck.addAll(leaderWatch.stuckMembers(now, match, leader.machine.lastIndex(), answered,
        reachable, leaderSince));
    return stuck;
  }

  private void begin(SimNode leader) {
    inFlight = true;
    inFlightAt = leader;
    inFlightIncarnation = leader.incarnation;
  }

  private void change(SimNode leader, String node, MembershipChangeMode mode,
      RaftGroupMembers members) {
    begin(leader);
    leader.raft.changeMembership(new NodeEndpoint(node), mode, members.getLogIndex())
        .whenComplete((r, e) -> {
          inFlight = false;
          if (e == null) {
            changes++;
            if (mode == MembershipChangeMode.REMOVE_MEMBER) {
              replace(node);
            }
          }
        });
  }

  /**
   * A removed replica's Raft node terminates; its process leaves the simulation and a new
   * process, with a name never used before, becomes available. Keel must likewise never bring
   * a removed replica back under its old identity with its old Raft state (see the report).
   */
  private void replace(String removed) {
    if (cluster.node(removed) == null) {
      return; // already replaced
    }
    cluster.retire(removed);
    String fresh = "n" + (++lastProcess);
    cluster.addNode(fresh);
    if (wanted.remove(removed)) {
      // The table wanted it back meanwhile: a new process takes its place.
      wanted.add(fresh);
    }
  }

  private static List<String> names(Iterable<RaftEndpoint> endpoints) {
    List<String> names = new ArrayList<>();
    for (RaftEndpoint e : endpoints) {
      names.add((String) e.getId());
    }
    return names;
  }
}
