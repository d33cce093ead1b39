package io.keel.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The options every operator command shares: which node ({@code --url}), the bearer token
 * ({@code --token}, else {@code $KEEL_HTTP_TOKEN}, the node's own variable, else
 * {@code $KEEL_TOKEN}) and raw JSON output ({@code --json}); and where the command writes
 * (picocli's streams, which tests replace).
 */
final class OperatorMixin {
  static final String DEFAULT_URL = "http://127.0.0.1:8080";
  static final String TOKEN_ENV = KeelMain.HTTP_TOKEN_ENV;
  static final String TOKEN_ENV_OLD = "KEEL_TOKEN";
  static final int EXIT_FAILED = 1;
  static final String LOG_TARGET_PROPERTY = "keel.log.target";
  static final String LOG_LEVEL_PROPERTY = "keel.log.level";

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  private NodeUrl url = NodeUrl.parse(DEFAULT_URL);

  @Option(names = "--token", paramLabel = "TOKEN", order = 2,
      description = "Sent as 'Authorization: Bearer TOKEN' on every request (default: $"
          + TOKEN_ENV + ", else $" + TOKEN_ENV_OLD + ", else none).")
  String token;

  @Option(names = "--json", order = 3,
      description = "Print the node's JSON instead of a table.")
  boolean json;

  @Option(names = "--url", paramLabel = "URL", order = 1,
      description = "The node's HTTP address (default: " + DEFAULT_URL + ").")
  void setUrl(String text) {
    try {
      url = NodeUrl.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(mixee.commandLine(), "--url: " + e.getMessage());
    }
  }

  /** The node's URL. */
  NodeUrl url() {
    return url;
  }

  /**
   * The token to send: {@code --token}, else {@code $KEEL_HTTP_TOKEN}, else {@code $KEEL_TOKEN},
   * else null; a blank one is none ({@code --token ''} sends none whatever the environment).
   */
  String token() {
    String t = token;
    if (t == null) {
      t = System.getenv(TOKEN_ENV);
      t = t == null || t.isBlank() ? System.getenv(TOKEN_ENV_OLD) : t;
    }
    return t == null || t.isBlank() ? null : t;
  }

  /**
   * A new connection to the node; the caller closes it. Logging, which the connection's Vert.x
   * starts, keeps to errors on stderr (logback.xml reads {@value #LOG_TARGET_PROPERTY} and
   * {@value #LOG_LEVEL_PROPERTY}): stdout is the command's answer, and stderr has one line when
   * the command fails.
   */
  HttpSupport open() {
    if (System.getProperty(LOG_TARGET_PROPERTY) == null) {
      System.setProperty(LOG_TARGET_PROPERTY, "System.err");
      System.setProperty(LOG_LEVEL_PROPERTY, "ERROR");
    }
    return new HttpSupport(url, token());
  }

  /** Where the command's results go. */
  PrintWriter out() {
    return mixee.commandLine().getOut();
  }

  /** Where the command's notices and errors go. */
  PrintWriter err() {
    return mixee.commandLine().getErr();
  }

  /** Prints {@code failure} as {@code keel <command>: <message>} on stderr; answers exit 1. */
  int fail(CliFailure failure) {
    err().println("keel " + mixee.name() + ": " + failure.getMessage());
    err().flush();
    return EXIT_FAILED;
  }
}
