package io.keel.cluster;

import io.keel.bus.OptionsJson;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * TLS for the clustered event bus: this node's private key and certificate, and the certificates
 * it trusts, as PEM files. With all three set the event bus runs mutual TLS: every connection
 * between two nodes, in either direction, needs a certificate the other side trusts. With none
 * set (the default) the event bus is plain TCP. Setting some but not all is an error.
 *
 * <p>The JSON form ({@code eventBusTls} in {@code keel.json}) rejects unknown keys and wrong
 * types, and lists only the paths that are set.
 */
public class EventBusTlsOptions {
  /** No private key: TLS off. */
  public static final String DEFAULT_KEY_PATH = null;
  /** No certificate: TLS off. */
  public static final String DEFAULT_CERT_PATH = null;
  /** No trusted certificates: TLS off. */
  public static final String DEFAULT_TRUST_PATH = null;

  private static final Set<String> KEYS = Set.of("keyPath", "certPath", "trustPath");

  private String keyPath = DEFAULT_KEY_PATH;
  private String certPath = DEFAULT_CERT_PATH;
  private String trustPath = DEFAULT_TRUST_PATH;

  /** All defaults: TLS off. */
  public EventBusTlsOptions() {}

  /** A copy. */
  public EventBusTlsOptions(EventBusTlsOptions other) {
    this(other.toJson());
  }

  /**
   * Reads options from JSON; absent keys keep their defaults.
   *
   * @throws IllegalArgumentException naming the key, for an unknown key, a wrong type, an empty
   *     path, or some paths set without the others
   */
  public EventBusTlsOptions(JsonObject json) {
    OptionsJson r = OptionsJson.of(json, "eventBusTls option", KEYS);
    setKeyPath(r.string("keyPath", DEFAULT_KEY_PATH));
    setCertPath(r.string("certPath", DEFAULT_CERT_PATH));
    setTrustPath(r.string("trustPath", DEFAULT_TRUST_PATH));
    validate();
  }

  /**
   * The JSON form, with the paths that are set; {@code new EventBusTlsOptions(o.toJson())}
   * equals {@code o}.
   */
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    if (keyPath != null) {
      j.put("keyPath", keyPath);
    }
    if (certPath != null) {
      j.put("certPath", certPath);
    }
    if (trustPath != null) {
      j.put("trustPath", trustPath);
    }
    return j;
  }

  /**
   * Checks the paths together: all three or none.
   *
   * @throws IllegalArgumentException naming the missing paths
   */
  public EventBusTlsOptions validate() {
    List<String> missing = new ArrayList<>();
    if (keyPath == null) {
      missing.add("keyPath");
    }
    if (certPath == null) {
      missing.add("certPath");
    }
    if (trustPath == null) {
      missing.add("trustPath");
    }
    if (!missing.isEmpty() && missing.size() < KEYS.size()) {
      throw new IllegalArgumentException("eventBusTls needs keyPath, certPath and trustPath"
          + " together, or none of them; missing " + String.join(", ", missing));
    }
    return this;
  }

  /** Whether the event bus runs TLS: all three paths are set. */
  public boolean isEnabled() {
    return keyPath != null && certPath != null && trustPath != null;
  }

  /**
   * This node's private key: a PEM file holding one PKCS#8 ({@code BEGIN PRIVATE KEY}) or
   * PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) key. None by default.
   */
  public String getKeyPath() {
    return keyPath;
  }

  public EventBusTlsOptions setKeyPath(String keyPath) {
    this.keyPath = requirePath("keyPath", keyPath);
    return this;
  }

  /**
   * This node's certificate, which it presents both as a server and as a client: a PEM file
   * with the certificate first, then any intermediates. None by default.
   */
  public String getCertPath() {
    return certPath;
  }

  public EventBusTlsOptions setCertPath(String certPath) {
    this.certPath = requirePath("certPath", certPath);
    return this;
  }

  /**
   * The certificates this node trusts (a CA, or the other nodes' self-signed certificates): a
   * PEM file of one or more certificates. A peer is accepted when its certificate chains to one
   * of them. None by default.
   */
  public String getTrustPath() {
    return trustPath;
  }

  public EventBusTlsOptions setTrustPath(String trustPath) {
    this.trustPath = requirePath("trustPath", trustPath);
    return this;
  }

  private static String requirePath(String key, String path) {
    if (path != null && path.isBlank()) {
      throw new IllegalArgumentException("eventBusTls." + key + " must not be empty; leave it"
          + " out to turn TLS off");
    }
    return path;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EventBusTlsOptions t && t.toJson().equals(toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }

  @Override
  public String toString() {
    return toJson().encode();
  }
}
