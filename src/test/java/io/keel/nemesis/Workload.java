package io.keel.nemesis;

import java.util.List;

/**
 * Clients doing one kind of work against the cluster while faults come and go, and the
 * checker of what they saw. Each operation is recorded in the run's {@link History}.
 */
interface Workload {
  /** A short name for the report ({@code fenced-mutex}, {@code register}, ...). */
  String name();

  /** Starts the clients; returns at once. */
  void start(NemesisEnv env);

  /** Stops the clients and waits until each has finished its operation in progress. */
  void stop() throws InterruptedException;

  /**
   * Reads the final state if the check needs it (the cluster is whole again and settled) and
   * returns every violation found, as sentences: empty when the history is correct.
   */
  List<String> check(NemesisEnv env) throws Exception;

  /** What the clients did, in a few words, for the report. */
  String summary();
}
