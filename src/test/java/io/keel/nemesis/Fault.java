package io.keel.nemesis;

import java.util.List;

/** Something that goes wrong for a while, and is undone. */
interface Fault {
  /** A short name for the report ({@code isolate-leader}, {@code pause}, ...). */
  String name();

  /** Injects the fault; returns the nodes it touched. */
  List<String> inject(NemesisEnv env) throws Exception;

  /** Undoes it (heals the network, resumes or restarts the nodes); returns once done. */
  void undo(NemesisEnv env) throws Exception;
}
