package io.keel.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.keel.status.BearerToken.Verdict;
import org.junit.jupiter.api.Test;

class BearerTokenTest {
  private static final String TOKEN = "s3cret-s3cret-s3cret";
  private final BearerToken check = new BearerToken(TOKEN);

  @Test
  void the_header_admits_the_token_with_the_scheme_in_any_case() {
    assertThat(check.check("Bearer " + TOKEN, null)).isEqualTo(Verdict.ADMITTED);
    assertThat(check.check("bearer " + TOKEN, null)).isEqualTo(Verdict.ADMITTED);
    assertThat(check.check("BEARER   " + TOKEN + " ", null)).isEqualTo(Verdict.ADMITTED);
  }

  @Test
  void the_query_parameter_admits_the_token_when_there_is_no_header() {
    assertThat(check.check(null, TOKEN)).isEqualTo(Verdict.ADMITTED);
    assertThat(check.check(null, TOKEN + "x")).isEqualTo(Verdict.INVALID);
    assertThat(check.check(null, "")).isEqualTo(Verdict.INVALID);
  }

  @Test
  void nothing_presented_is_missing() {
    assertThat(check.check(null, null)).isEqualTo(Verdict.MISSING);
  }

  @Test
  void a_wrong_token_or_another_scheme_is_invalid() {
    assertThat(check.check("Bearer " + TOKEN.substring(1), null)).isEqualTo(Verdict.INVALID);
    assertThat(check.check("Bearer " + TOKEN + TOKEN, null)).isEqualTo(Verdict.INVALID);
    assertThat(check.check("Bearer", null)).isEqualTo(Verdict.INVALID);
    assertThat(check.check("Bearer ", null)).isEqualTo(Verdict.INVALID);
    assertThat(check.check("", null)).isEqualTo(Verdict.INVALID);
    assertThat(check.check(TOKEN, null)).isEqualTo(Verdict.INVALID);
    assertThat(check.check("Basic " + TOKEN, null)).isEqualTo(Verdict.INVALID);
    assertThat(check.check("Bearers " + TOKEN, null)).isEqualTo(Verdict.INVALID);
  }

  @Test
  void a_header_decides_even_when_the_query_parameter_is_right() {
    assertThat(check.check("Basic dXNlcjpwYXNz", TOKEN)).isEqualTo(Verdict.INVALID);
    assertThat(check.check("Bearer wrong-wrong-wrong", TOKEN)).isEqualTo(Verdict.INVALID);
    assertThat(check.check("Bearer " + TOKEN, "wrong")).isEqualTo(Verdict.ADMITTED);
  }

  @Test
  void an_empty_token_is_refused() {
    assertThatThrownBy(() -> new BearerToken("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new BearerToken(null)).isInstanceOf(IllegalArgumentException.class);
  }
}
