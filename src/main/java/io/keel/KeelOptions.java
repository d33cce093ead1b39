package io.keel;

import io.keel.bus.OptionsJson;
import io.keel.cluster.EventBusTlsOptions;
import io.keel.map.MapOptions;
import io.keel.recovery.MembershipPlan;
import io.keel.recovery.WalOptions;
import io.keel.routing.PlacementConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The options of one Keel node. Every option has a default ({@code DEFAULT_*}); the JSON form,
 * read by {@link #KeelOptions(JsonObject)}, rejects unknown keys and wrong types, and
 * {@code config/keel.json} lists every key with its default.
 */
public class KeelOptions {
  /** Whether a node hosts data (owns partitions) or only calls Keel. */
  public enum Role {
    /** Owns partitions and serves them. */
    DATA,
    /** Joins the cluster and routes requests; owns nothing. */
    CLIENT;

    /** The lower-case name used in JSON, flags and node metadata. */
    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Parses {@code data} or {@code client}. */
    public static Role parse(String s) {
      for (Role r : values()) {
        if (r.wire().equals(s)) {
          return r;
        }
      }
      throw new IllegalArgumentException("role must be data or client, was " + s);
    }
  }

  public static final String DEFAULT_DATA_DIR = "data";
  public static final String DEFAULT_HTTP_HOST = "127.0.0.1";
  public static final int DEFAULT_HTTP_PORT = 8080;
  public static final int DEFAULT_HTTP_BODY_BYTES_MAX = 64 * 1024;
  public static final String DEFAULT_CLUSTER_HOST = "127.0.0.1";
  public static final int DEFAULT_CLUSTER_PORT = 5701;
  public static final List<String> DEFAULT_JOIN = List.of("127.0.0.1:5701");
  public static final int DEFAULT_BUS_PORT = 0;
  public static final String DEFAULT_CLUSTER_NAME = "keel";
  public static final Role DEFAULT_ROLE = Role.DATA;
  public static final int DEFAULT_WEIGHT = 1;
  public static final int DEFAULT_PARTITIONS = PlacementConfig.DEFAULT_PARTITIONS;
  public static final int DEFAULT_REPLICAS = PlacementConfig.DEFAULT_REPLICAS;
  public static final int DEFAULT_VNODES = PlacementConfig.DEFAULT_VNODES;
  public static final double DEFAULT_LOAD_FACTOR = PlacementConfig.DEFAULT_LOAD_FACTOR;
  public static final long DEFAULT_ROUTE_TIMEOUT_MS = 5_000;
  public static final int DEFAULT_ROUTE_ATTEMPTS_MAX = 12;
  public static final long DEFAULT_RECONCILE_INTERVAL_MS = 1_000;
  public static final long DEFAULT_LOCK_CLOCK_MARGIN_MS = 500;
  /** Event-loop threads: 0 leaves Vert.x's default, twice the cores. */
  public static final int DEFAULT_EVENT_LOOPS = 0;
  /** The shortest HTTP token accepted: 16 characters. */
  public static final int HTTP_TOKEN_CHARS_MIN = 16;
  /** The longest HTTP token accepted: 1024 characters. */
  public static final int HTTP_TOKEN_CHARS_MAX = 1024;
  private static final Pattern HTTP_TOKEN = Pattern.compile("[A-Za-z0-9._~+/-]+=*");

  private static final Set<String> KEYS = Set.of("name", "dataDir", "httpHost", "httpPort",
      "httpBodyBytesMax",
      "httpToken", "clusterHost", "clusterPort", "join", "busPort", "clusterName",
      "clusterConfig", "role", "weight", "partitions", "replicas", "vnodes", "loadFactor",
      "routeTimeoutMs", "routeAttemptsMax", "routeBatching", "reconcileIntervalMs", "lockClockMarginMs",
      "leaseReads", "eventLoops", "wal",
      "map", "eventBusTls");

  private String name;
  private String dataDir = DEFAULT_DATA_DIR;
  private String httpHost = DEFAULT_HTTP_HOST;
  private int httpPort = DEFAULT_HTTP_PORT;
  private int httpBodyBytesMax = DEFAULT_HTTP_BODY_BYTES_MAX;
  private String httpToken;
  private String clusterHost = DEFAULT_CLUSTER_HOST;
  private int clusterPort = DEFAULT_CLUSTER_PORT;
  private List<String> join = DEFAULT_JOIN;
  private int busPort = DEFAULT_BUS_PORT;
  private String clusterName = DEFAULT_CLUSTER_NAME;
  private String clusterConfig;
  private Role role = DEFAULT_ROLE;
  private int weight = DEFAULT_WEIGHT;
  private int partitions = DEFAULT_PARTITIONS;
  private int replicas = DEFAULT_REPLICAS;
  private int vnodes = DEFAULT_VNODES;
  private double loadFactor = DEFAULT_LOAD_FACTOR;
  private long routeTimeoutMs = DEFAULT_ROUTE_TIMEOUT_MS;
  private int routeAttemptsMax = DEFAULT_ROUTE_ATTEMPTS_MAX;
  private long reconcileIntervalMs = DEFAULT_RECONCILE_INTERVAL_MS;
  private long lockClockMarginMs = DEFAULT_LOCK_CLOCK_MARGIN_MS;
  private boolean leaseReads = true;
  private boolean routeBatching = true;
  private int eventLoops = DEFAULT_EVENT_LOOPS;
  private WalOptions wal = new WalOptions();
  private MapOptions map = new MapOptions();
  private EventBusTlsOptions eventBusTls = new EventBusTlsOptions();

  /** All defaults. */
  public KeelOptions() {}

  /** A copy. */
  public KeelOptions(KeelOptions other) {
    this(other.toJson());
  }

  /**
   * Reads options from JSON; absent keys keep their defaults.
   *
   * @throws IllegalArgumentException naming the key, for an unknown key, a wrong type or a value
   *     out of range
   */
  public KeelOptions(JsonObject json) {
    OptionsJson r = OptionsJson.of(json, "option", KEYS);
    setName(r.string("name", null));
    setDataDir(r.string("dataDir", DEFAULT_DATA_DIR));
    setHttpHost(r.string("httpHost", DEFAULT_HTTP_HOST));
    setHttpPort(r.integer("httpPort", DEFAULT_HTTP_PORT));
    setHttpBodyBytesMax(r.integer("httpBodyBytesMax", DEFAULT_HTTP_BODY_BYTES_MAX));
    // Not through r.string: its type error shows the value, and this one is a secret.
    Object token = json.getValue("httpToken");
    if (token != null && !(token instanceof String)) {
      throw new IllegalArgumentException("option key 'httpToken' must be a string, was "
          + io.keel.bus.Json.typeName(token));
    }
    setHttpToken((String) token);
    setClusterHost(r.string("clusterHost", DEFAULT_CLUSTER_HOST));
    setClusterPort(r.integer("clusterPort", DEFAULT_CLUSTER_PORT));
    setJoin(r.strings("join", DEFAULT_JOIN));
    setBusPort(r.integer("busPort", DEFAULT_BUS_PORT));
    setClusterName(r.string("clusterName", DEFAULT_CLUSTER_NAME));
    setClusterConfig(r.string("clusterConfig", null));
    setRole(Role.parse(r.string("role", DEFAULT_ROLE.wire())));
    setWeight(r.integer("weight", DEFAULT_WEIGHT));
    setPartitions(r.integer("partitions", DEFAULT_PARTITIONS));
    setReplicas(r.integer("replicas", DEFAULT_REPLICAS));
    setVnodes(r.integer("vnodes", DEFAULT_VNODES));
    setLoadFactor(r.number("loadFactor", DEFAULT_LOAD_FACTOR));
    setRouteTimeoutMs(r.longValue("routeTimeoutMs", DEFAULT_ROUTE_TIMEOUT_MS));
    setRouteAttemptsMax(r.integer("routeAttemptsMax", DEFAULT_ROUTE_ATTEMPTS_MAX));
    setReconcileIntervalMs(r.longValue("reconcileIntervalMs", DEFAULT_RECONCILE_INTERVAL_MS));
    setLockClockMarginMs(r.longValue("lockClockMarginMs", DEFAULT_LOCK_CLOCK_MARGIN_MS));
    setLeaseReads(r.bool("leaseReads", true));
    setRouteBatching(r.bool("routeBatching", true));
    setEventLoops(r.integer("eventLoops", DEFAULT_EVENT_LOOPS));
    // The map first: setWal checks that the map's largest value fits one log record.
    setMap(new MapOptions(r.object("map")));
    setWal(new WalOptions(r.object("wal")));
    setEventBusTls(new EventBusTlsOptions(r.object("eventBusTls")));
  }

  /**
   * The JSON form; {@code new KeelOptions(o.toJson())} equals {@code o}. It carries the HTTP
   * token when one is set: keep it out of logs ({@link #toString()} hides it).
   */
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    if (name != null) {
      j.put("name", name);
    }
    j.put("dataDir", dataDir).put("httpHost", httpHost).put("httpPort", httpPort)
        .put("httpBodyBytesMax", httpBodyBytesMax);
    if (httpToken != null) {
      j.put("httpToken", httpToken);
    }
    j.put("clusterHost", clusterHost).put("clusterPort", clusterPort)
        .put("join", new JsonArray(join)).put("busPort", busPort).put("clusterName", clusterName);
    if (clusterConfig != null) {
      j.put("clusterConfig", clusterConfig);
    }
    return j.put("role", role.wire()).put("weight", weight).put("partitions", partitions)
        .put("replicas", replicas).put("vnodes", vnodes).put("loadFactor", loadFactor)
        .put("routeTimeoutMs", routeTimeoutMs).put("routeAttemptsMax", routeAttemptsMax)
        .put("routeBatching", routeBatching)
        .put("reconcileIntervalMs", reconcileIntervalMs)
        .put("lockClockMarginMs", lockClockMarginMs).put("leaseReads", leaseReads)
        .put("eventLoops", eventLoops)
        .put("wal", wal.toJson())
        .put("map", map.toJson()).put("eventBusTls", eventBusTls.toJson());
  }

  /** The placement parameters these options describe. */
  public PlacementConfig placement() {
    return new PlacementConfig(partitions, replicas, vnodes, loadFactor);
  }

  /**
   * The stable node name; its ring position derives from it. When null, the name persisted in
   * the data directory is used, or a new one is made and persisted on first start.
   */
  public String getName() {
    return name;
  }

  public KeelOptions setName(String name) {
    if (name != null && !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
      throw new IllegalArgumentException("name must be 1-63 letters, digits, '.', '_' or '-',"
          + " starting with a letter or digit, was '" + name + "'");
    }
    this.name = name;
    return this;
  }

  /** The directory of this node's persistent state (its name now, its log later). */
  public String getDataDir() {
    return dataDir;
  }

  public KeelOptions setDataDir(String dataDir) {
    this.dataDir = requireNonBlank("dataDir", dataDir);
    return this;
  }

  /** The address the HTTP status server binds to. */
  public String getHttpHost() {
    return httpHost;
  }

  public KeelOptions setHttpHost(String httpHost) {
    this.httpHost = requireNonBlank("httpHost", httpHost);
    return this;
  }

  /** The HTTP status port; 0 picks a free one, -1 turns HTTP off. */
  public int getHttpPort() {
    return httpPort;
  }

  public KeelOptions setHttpPort(int httpPort) {
    this.httpPort = requirePort("httpPort", httpPort, true);
    return this;
  }

  /**
   * The largest request body the HTTP API reads (64 KiB by default); a larger one is refused
   * with 413. A map put may carry {@code map.valueBytesMax} more, for its value.
   */
  public int getHttpBodyBytesMax() {
    return httpBodyBytesMax;
  }

  public KeelOptions setHttpBodyBytesMax(int httpBodyBytesMax) {
    if (httpBodyBytesMax < 1024 || httpBodyBytesMax > 64 << 20) {
      throw new IllegalArgumentException("httpBodyBytesMax must be 1024..67108864 bytes, was "
          + httpBodyBytesMax);
    }
    this.httpBodyBytesMax = httpBodyBytesMax;
    return this;
  }

  /**
   * The bearer token every HTTP request and WebSocket upgrade must carry, as
   * {@code Authorization: Bearer TOKEN} or the query parameter {@code access_token} (RFC 6750);
   * null (the default) asks for none. The jar's {@code main} also reads it from the environment
   * variable {@code KEEL_HTTP_TOKEN}. 16 to 1024 characters of RFC 6750's token alphabet:
   * letters, digits and {@code -._~+/}, then optional {@code =} padding.
   */
  public String getHttpToken() {
    return httpToken;
  }

  public KeelOptions setHttpToken(String httpToken) {
    if (httpToken == null) {
      this.httpToken = null;
      return this;
    }
    // The sentence never shows the value: a near miss is most of a secret.
    boolean alphabet = httpToken.isEmpty() || HTTP_TOKEN.matcher(httpToken).matches();
    if (!alphabet || httpToken.length() < HTTP_TOKEN_CHARS_MIN
        || httpToken.length() > HTTP_TOKEN_CHARS_MAX) {
      throw new IllegalArgumentException("httpToken must be " + HTTP_TOKEN_CHARS_MIN + ".."
          + HTTP_TOKEN_CHARS_MAX + " characters of A-Z, a-z, 0-9 and -._~+/ (then '=' padding),"
          + " was " + httpToken.length() + " characters"
          + (alphabet ? "" : ", some of them outside that set"));
    }
    this.httpToken = httpToken;
    return this;
  }

  /** The address Hazelcast and the event bus bind to and announce. */
  public String getClusterHost() {
    return clusterHost;
  }

  public KeelOptions setClusterHost(String clusterHost) {
    this.clusterHost = requireNonBlank("clusterHost", clusterHost);
    return this;
  }

  /** Hazelcast's member port (no auto-increment: a port in use is an error). */
  public int getClusterPort() {
    return clusterPort;
  }

  public KeelOptions setClusterPort(int clusterPort) {
    this.clusterPort = requirePort("clusterPort", clusterPort, false);
    if (clusterPort == 0) {
      throw new IllegalArgumentException("clusterPort must be 1..65535, was 0");
    }
    return this;
  }

  /** The members to join, as {@code host:port}; this node's own address may be among them. */
  public List<String> getJoin() {
    return join;
  }

  public KeelOptions setJoin(List<String> join) {
    Objects.requireNonNull(join, "join");
    for (String hp : join) {
      int colon = hp.lastIndexOf(':');
      if (colon <= 0 || colon == hp.length() - 1) {
        throw new IllegalArgumentException("join entries must be host:port, was '" + hp + "'");
      }
      try {
        requirePort("join port", Integer.parseInt(hp.substring(colon + 1)), false);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("join entries must be host:port, was '" + hp + "'");
      }
    }
    this.join = List.copyOf(join);
    return this;
  }

  /** The event bus's TCP port; 0 picks a free one (set it when a firewall is in the way). */
  public int getBusPort() {
    return busPort;
  }

  public KeelOptions setBusPort(int busPort) {
    this.busPort = requirePort("busPort", busPort, false);
    return this;
  }

  /** Hazelcast's cluster name: members of different names never join each other. */
  public String getClusterName() {
    return clusterName;
  }

  public KeelOptions setClusterName(String clusterName) {
    this.clusterName = requireNonBlank("clusterName", clusterName);
    return this;
  }

  /**
   * A Hazelcast XML file to start from, or null for {@code -Dvertx.hazelcast.config}, then
   * {@code config/cluster.xml} in the working directory, then the one built in. Network and join
   * settings are always taken from these options.
   */
  public String getClusterConfig() {
    return clusterConfig;
  }

  public KeelOptions setClusterConfig(String clusterConfig) {
    this.clusterConfig = clusterConfig;
    return this;
  }

  /** {@code data} nodes own partitions; {@code client} nodes only route. */
  public Role getRole() {
    return role;
  }

  public KeelOptions setRole(Role role) {
    this.role = Objects.requireNonNull(role, "role");
    return this;
  }

  /** This node's share of partitions relative to others (1..100). */
  public int getWeight() {
    return weight;
  }

  public KeelOptions setWeight(int weight) {
    if (weight < 1 || weight > 100) {
      throw new IllegalArgumentException("weight must be 1..100, was " + weight);
    }
    this.weight = weight;
    return this;
  }

  /** The number of partitions P, fixed when the cluster is created. */
  public int getPartitions() {
    return partitions;
  }

  public KeelOptions setPartitions(int partitions) {
    if (partitions < 1 || partitions > 65536) {
      throw new IllegalArgumentException("partitions must be 1..65536, was " + partitions);
    }
    this.partitions = partitions;
    return this;
  }

  /** The replica-set size R. */
  public int getReplicas() {
    return replicas;
  }

  public KeelOptions setReplicas(int replicas) {
    if (replicas < 1 || replicas > MembershipPlan.REPLICAS_MAX) {
      throw new IllegalArgumentException("replicas must be 1.." + MembershipPlan.REPLICAS_MAX
          + ", was " + replicas + " (more replicas would need groups with an even number of"
          + " voters, which MicroRaft 0.7 does not commit safely)");
    }
    this.replicas = replicas;
    return this;
  }

  /** Ring points per unit of weight. */
  public int getVnodes() {
    return vnodes;
  }

  public KeelOptions setVnodes(int vnodes) {
    if (vnodes < 1 || vnodes > 1024) {
      throw new IllegalArgumentException("vnodes must be 1..1024, was " + vnodes);
    }
    this.vnodes = vnodes;
    return this;
  }

  /** The load bound ε: no member holds more than (1+ε) times its fair share. */
  public double getLoadFactor() {
    return loadFactor;
  }

  public KeelOptions setLoadFactor(double loadFactor) {
    if (!(loadFactor >= 0.0 && loadFactor <= 1.0)) {
      throw new IllegalArgumentException("loadFactor must be 0.0..1.0, was " + loadFactor);
    }
    this.loadFactor = loadFactor;
    return this;
  }

  /** How long a routed request may take, retries included. */
  public long getRouteTimeoutMs() {
    return routeTimeoutMs;
  }

  public KeelOptions setRouteTimeoutMs(long routeTimeoutMs) {
    if (routeTimeoutMs < 1 || routeTimeoutMs > 600_000) {
      throw new IllegalArgumentException("routeTimeoutMs must be 1..600000, was " + routeTimeoutMs);
    }
    this.routeTimeoutMs = routeTimeoutMs;
    return this;
  }

  /** How many times a routed request is sent at most before it fails. */
  public int getRouteAttemptsMax() {
    return routeAttemptsMax;
  }

  public KeelOptions setRouteAttemptsMax(int routeAttemptsMax) {
    if (routeAttemptsMax < 1 || routeAttemptsMax > 100) {
      throw new IllegalArgumentException("routeAttemptsMax must be 1..100, was "
          + routeAttemptsMax);
    }
    this.routeAttemptsMax = routeAttemptsMax;
    return this;
  }

  /**
   * How far a leader's clock may jump forward during a lease without ending it before its
   * holder's own count of the lease: the leader keeps every lease this much longer than granted.
   */
  public long getLockClockMarginMs() {
    return lockClockMarginMs;
  }

  public KeelOptions setLockClockMarginMs(long lockClockMarginMs) {
    if (lockClockMarginMs < 0 || lockClockMarginMs > 60_000) {
      throw new IllegalArgumentException("lockClockMarginMs must be 0..60000, was "
          + lockClockMarginMs);
    }
    this.lockClockMarginMs = lockClockMarginMs;
    return this;
  }

  /**
   * Whether this node's partition leaders answer linearizable reads from their own state while
   * they hold a leader lease, rather than after a round of heartbeats to a majority each time.
   * Leases assume that clocks run at nearly the same rate and that a machine is never
   * suspended with its monotonic clock stopped (a paused virtual machine); turn them off where
   * that may happen. Followers keep the promise leases rely on either way, so nodes may differ.
   */
  public boolean isLeaseReads() {
    return leaseReads;
  }

  public KeelOptions setLeaseReads(boolean leaseReads) {
    this.leaseReads = leaseReads;
    return this;
  }

  /**
   * Whether requests to replicated services (the map, locks, counters) that this node routes
   * in one turn of an event loop to one node leave together as one event-bus message, rather
   * than one message each. Fewer messages cost both ends less; every request still gets its own
   * answer, as soon as it has one. Nodes take both forms either way, so nodes may differ.
   */
  public boolean isRouteBatching() {
    return routeBatching;
  }

  public KeelOptions setRouteBatching(boolean routeBatching) {
    this.routeBatching = routeBatching;
    return this;
  }

  /**
   * The node's event-loop threads; 0 leaves Vert.x's default (twice the cores). Its partition
   * groups, Raft transport and services all run on event loops, so fewer threads mean fewer
   * hand-offs between them: with several nodes sharing a small machine, 1 is fastest.
   */
  public int getEventLoops() {
    return eventLoops;
  }

  public KeelOptions setEventLoops(int eventLoops) {
    if (eventLoops < 0 || eventLoops > 1024) {
      throw new IllegalArgumentException("eventLoops must be 0..1024 (0: Vert.x's default),"
          + " was " + eventLoops);
    }
    this.eventLoops = eventLoops;
    return this;
  }

  /** How often membership is recomputed in full, besides on every membership event. */
  public long getReconcileIntervalMs() {
    return reconcileIntervalMs;
  }

  public KeelOptions setReconcileIntervalMs(long reconcileIntervalMs) {
    if (reconcileIntervalMs < 10 || reconcileIntervalMs > 60_000) {
      throw new IllegalArgumentException(
          "reconcileIntervalMs must be 10..60000, was " + reconcileIntervalMs);
    }
    this.reconcileIntervalMs = reconcileIntervalMs;
    return this;
  }

  /** The write-ahead log's options (fsync policy, segment size, group commit). */
  public WalOptions getWal() {
    return new WalOptions(wal);
  }

  public KeelOptions setWal(WalOptions wal) {
    WalOptions w = new WalOptions(Objects.requireNonNull(wal, "wal")).validate();
    requireFits(map, w);
    this.wal = w;
    return this;
  }

  /** The replicated map's limits (key and value size, memory budget). */
  public MapOptions getMap() {
    return new MapOptions(map);
  }

  public KeelOptions setMap(MapOptions map) {
    MapOptions m = new MapOptions(Objects.requireNonNull(map, "map"));
    requireFits(m, wal);
    this.map = m;
    return this;
  }

  /**
   * TLS for the clustered event bus (key, certificate and trusted certificates as PEM files);
   * off by default. The files are read when the node starts.
   */
  public EventBusTlsOptions getEventBusTls() {
    return new EventBusTlsOptions(eventBusTls);
  }

  public KeelOptions setEventBusTls(EventBusTlsOptions eventBusTls) {
    this.eventBusTls = new EventBusTlsOptions(Objects.requireNonNull(eventBusTls, "eventBusTls"))
        .validate();
    return this;
  }

  /** A put command carries the value, the key, the map name and a few fields in one record. */
  private static void requireFits(MapOptions map, WalOptions wal) {
    if ((long) map.getValueBytesMax() + map.getKeyBytesMax() + 4096 > wal.getRecordBytesMax()) {
      throw new IllegalArgumentException("map.valueBytesMax + map.keyBytesMax + 4096 must be <="
          + " wal.recordBytesMax (" + wal.getRecordBytesMax() + ")");
    }
  }

  private static String requireNonBlank(String key, String v) {
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException(key + " must not be empty");
    }
    return v;
  }

  private static int requirePort(String key, int port, boolean allowOff) {
    if (port < (allowOff ? -1 : 0) || port > 65535) {
      throw new IllegalArgumentException(key + " must be 0..65535, was " + port);
    }
    return port;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeelOptions && toJson().equals(((KeelOptions) o).toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  /** The JSON form, with the HTTP token (if any) replaced by {@code "(hidden)"}. */
  @Override
  public String toString() {
    JsonObject j = toJson();
    if (j.containsKey("httpToken")) {
      j.put("httpToken", "(hidden)");
    }
    return j.encode();
  }
}
