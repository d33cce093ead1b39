package io.keel.status;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/**
 * The HTTP server's bearer token (RFC 6750) and the check of what a request presents.
 *
 * <p>Implementation notes. A request presents a token in its {@code Authorization: Bearer …}
 * header or, for what a browser cannot give a header (a typed URL, a WebSocket), in the query
 * parameter {@code access_token}. When the header is there it alone decides, so a request
 * cannot try two tokens at once. Both sides are hashed with SHA-256 before
 * {@link MessageDigest#isEqual} compares them: that comparison takes the same time for any two
 * digests of equal length, and the digests always have 32 bytes, so the time tells neither the
 * token's length nor how much of a guess matched.
 *
 * <p>Example: for the token {@code s3cret-s3cret-s3cret}, {@code Authorization: Bearer
 * s3cret-s3cret-s3cret} passes, as does {@code ?access_token=s3cret-s3cret-s3cret} without the
 * header; {@code Authorization: Basic …} fails even with the right query parameter.
 */
final class BearerToken {
  /** What a request presented, as far as the answer needs to know. */
  enum Verdict {
    /** The right token. */
    ADMITTED,
    /** No token at all: the answer names no error (RFC 6750 §3.1). */
    MISSING,
    /** A token, but not the right one, or a header of another scheme. */
    INVALID
  }

  private static final String SCHEME = "bearer";

  // Invariant: expected.length == 32 (a SHA-256 digest); the token itself is not kept.
  private final byte[] expected;

  /** A check for {@code token}, which must not be null or empty. */
  BearerToken(String token) {
    if (token == null || token.isEmpty()) {
      throw new IllegalArgumentException("a bearer token must not be empty");
    }
    this.expected = digest(token);
  }

  /**
   * The verdict on a request whose {@code Authorization} header is {@code authorization} and
   * whose {@code access_token} query parameter is {@code accessToken} (either may be null).
   */
  Verdict check(String authorization, String accessToken) {
    String presented;
    if (authorization != null) {
      presented = bearer(authorization);
      if (presented == null) {
        return Verdict.INVALID;
      }
    } else if (accessToken != null) {
      presented = accessToken;
    } else {
      return Verdict.MISSING;
    }
    return MessageDigest.isEqual(expected, digest(presented)) ? Verdict.ADMITTED
        : Verdict.INVALID;
  }

  /** The token of a {@code Bearer} header (the scheme in any case), else null. */
  private static String bearer(String header) {
    String h = header.strip();
    int space = h.indexOf(' ');
    if (space != SCHEME.length()
        || !h.substring(0, space).toLowerCase(Locale.ROOT).equals(SCHEME)) {
      return null;
    }
    String token = h.substring(space + 1).strip();
    return token.isEmpty() ? null : token;
  }

  private static byte[] digest(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
