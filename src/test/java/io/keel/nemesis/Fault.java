package io.keel.nemesis;

import java.util.List;

/** Something that goes wrong for a while, and is undone. */
interface Fault {
  /** A short name for the report ({@code isolate-leader}, {@code pause}, ...). */
  String name();

  /** Injects the fault; returns the nodes it touched. */
  List<String> inject(NemesisEnv env) throws Exception;

  /**
   * Whether the nodes it touches may leave the cluster meanwhile, so that the lock service may
   * rightly end the leases held through them (partitions, pauses, crashes: yes; clocks: no).
   */
  default boolean endsMembership() {
    return true;
  }

  /** Undoes it (heals the network, resumes or restarts the nodes); returns once done. */
  void undo(NemesisEnv env) throws Exception;
}
