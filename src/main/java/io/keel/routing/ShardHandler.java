package io.keel.routing;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * Serves the requests of a sharded service on the primary of each key. A handler may be called
 * more than once for one request (delivery is best-effort and callers retry): make it
 * idempotent. Fail with a {@link io.keel.bus.Failure} exception to send that code to the caller.
 */
@FunctionalInterface
public interface ShardHandler {
  /** Handles one request; the reply is the future's JSON. */
  Future<JsonObject> handle(ShardRequest request);
}
