package io.keel.routing;

/**
 * A partition's preference walk over members, nearest first. A cursor is an opaque position;
 * a full walk from {@link #start} visits {@link #length} positions and then wraps.
 */
interface Preference {

  /** Returns the first position of partition {@code p}'s walk. */
  int start(int p);

  /** Returns the position after {@code cursor}. */
  int next(int cursor);

  /** Returns the member index at a position of {@code p}'s walk. */
  int member(int p, int cursor);

  /** Returns how far the position is from {@code p}, as an unsigned 64-bit number. */
  long cost(int p, int cursor);

  /** Returns the number of positions in a full walk. */
  int length();
}
