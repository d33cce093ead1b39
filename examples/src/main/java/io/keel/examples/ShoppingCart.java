package io.keel.examples;

import io.keel.Keel;
import io.keel.KeelOptions;
import io.keel.bus.Failure;
import io.keel.map.KeelMap;
import io.keel.map.MapEntry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * Shopping carts in a replicated map, safe under concurrent updates from any node. A cart is one
 * entry, {@code {"items": {"apple": 2, ...}}}; adding an item reads the cart and writes it back
 * with {@code compareAndSet} on the version it read. If another node changed the cart meanwhile,
 * the write is refused with {@code CONFLICT} and the update starts over from the newer cart: no
 * update is lost, and none is applied twice. A cart survives the crash of any one node of three.
 *
 * <p>Run it on three nodes, each in its own terminal (see the README):
 * <pre>
 * java -cp target/keel.jar:target/test-classes io.keel.examples.ShoppingCart s1 5821 5821
 * java -cp target/keel.jar:target/test-classes io.keel.examples.ShoppingCart s2 5822 5821
 * java -cp target/keel.jar:target/test-classes io.keel.examples.ShoppingCart s3 5823 5821
 * </pre>
 * Arguments: node name, this node's cluster port, the cluster port of a node to join. Each node
 * adds an item to cart {@code demo} every second and prints the cart.
 */
public final class ShoppingCart {
  static final String MAP = "carts";
  /**
   * Each refused attempt means another update of the cart succeeded meanwhile, so n updates
   * racing on one cart need at most n attempts each.
   */
  private static final int ATTEMPTS_MAX = 100;

  private final KeelMap carts;

  ShoppingCart(Keel keel) {
    this.carts = keel.map(MAP);
  }

  /** Adds {@code quantity} of {@code item} to cart {@code cartId}; answers the cart after it. */
  Future<JsonObject> add(String cartId, String item, int quantity) {
    return add(cartId, item, quantity, 1);
  }

  private Future<JsonObject> add(String cartId, String item, int quantity, int attempt) {
    return carts.get(cartId).compose(entry -> {
      JsonObject cart = cart(entry);
      JsonObject items = cart.getJsonObject("items");
      items.put(item, items.getInteger(item, 0) + quantity);
      // Version 0 when the cart does not exist yet: then the write creates it, if still absent.
      return carts.compareAndSet(cartId, entry.version(), cart).map(version -> cart);
    }).recover(t -> Failure.CONFLICT.is(t) && attempt < ATTEMPTS_MAX
        ? add(cartId, item, quantity, attempt + 1)
        : Future.failedFuture(t));
  }

  /** The cart {@code cartId}: empty when it does not exist. */
  Future<JsonObject> cart(String cartId) {
    return carts.get(cartId).map(ShoppingCart::cart);
  }

  private static JsonObject cart(MapEntry entry) {
    return entry.found() ? ((JsonObject) entry.value()).copy()
        : new JsonObject().put("items", new JsonObject());
  }

  /** Starts node {@code args[0]} on port {@code args[1]}, joining {@code args[2]}. */
  public static void main(String[] args) {
    if (args.length != 3) {
      System.err.println("usage: ShoppingCart <name> <cluster-port> <join-port>");
      System.exit(2);
    }
    int port = Integer.parseInt(args[1]);
    KeelOptions options = new KeelOptions().setName(args[0])
        .setDataDir("target/examples/" + args[0]).setClusterName("cart-demo")
        .setClusterPort(port).setJoin(List.of("127.0.0.1:" + args[2], "127.0.0.1:" + port))
        .setHttpPort(port + 1000);
    Keel.start(options).onSuccess(keel -> {
      ShoppingCart shop = new ShoppingCart(keel);
      System.out.println(keel.nodeName() + " adding to cart 'demo'; dashboard "
          + keel.dashboardUrl());
      keel.vertx().setPeriodic(1000, id -> shop.add("demo", "item-from-" + keel.nodeName(), 1)
          .onSuccess(cart -> System.out.println(keel.nodeName() + ": " + cart.encode()))
          .onFailure(t -> System.out.println(keel.nodeName() + ": " + t.getMessage())));
    }).onFailure(t -> {
      System.err.println("cannot start: " + t.getMessage());
      System.exit(1);
    });
  }
}
