package io.keel.cli;

/**
 * Why an operator command could not do its work, as one line for stderr: it names the URL and
 * the cause. The command prints it and exits 1.
 */
final class CliFailure extends RuntimeException {
  CliFailure(String message) {
    super(message, null, false, false);
  }
}
