package io.keel.cli;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * A node's base URL as an operator gives it to {@code --url}: {@code http} or {@code https}, a
 * host, a port and an optional path prefix (for a node behind a proxy). A URL without a scheme
 * is taken as {@code http://}.
 *
 * @param text the normalized URL, without a trailing slash: what messages show
 * @param ssl whether the scheme is {@code https}
 * @param host the host, without IPv6 brackets
 * @param port the port, the scheme's default when the URL names none
 * @param prefix the path prefix, empty or starting with {@code /}, without a trailing slash
 */
record NodeUrl(String text, boolean ssl, String host, int port, String prefix) {

  /** Parses {@code text}; throws {@link IllegalArgumentException} naming what is wrong. */
  static NodeUrl parse(String text) {
    String t = text.trim();
    if (!t.contains("://")) {
      t = "http://" + t;
    }
    URI uri;
    try {
      uri = new URI(t);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("'" + text + "' is not a URL: " + e.getReason());
    }
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException("'" + text + "' must be http:// or https://");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("'" + text + "' has no host");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException("'" + text + "' must not have a query or fragment");
    }
    boolean ssl = scheme.equals("https");
    int port = uri.getPort() >= 0 ? uri.getPort() : ssl ? 443 : 80;
    String prefix = uri.getRawPath() == null ? "" : uri.getRawPath();
    while (prefix.endsWith("/")) {
      prefix = prefix.substring(0, prefix.length() - 1);
    }
    String host = uri.getHost();
    String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    return new NodeUrl(scheme + "://" + host + ":" + port + prefix, ssl, bare, port, prefix);
  }

  /** The request URI of {@code path} (which starts with {@code /}) on this node. */
  String uri(String path) {
    return prefix + path;
  }

  /** The full URL of {@code path}, for messages. */
  String resolve(String path) {
    return text + path;
  }
}
