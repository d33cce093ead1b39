package io.keel.routing;

import io.vertx.core.json.JsonObject;

/**
 * A request routed to this node because it is the primary of the key's partition.
 *
 * @param service the service name the handler was registered under
 * @param key the key the request was routed by
 * @param partition the key's partition
 * @param epoch the epoch of the partition table under which this node is the primary
 * @param body the caller's JSON body
 */
public record ShardRequest(String service, String key, int partition, long epoch,
    JsonObject body) {}
