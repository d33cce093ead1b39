package io.keel.bus;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.junit.jupiter.api.Test;

class FailureTest {
  @Test
  void codes_are_the_contract_numbers() {
    assertThat(Failure.BAD_REQUEST.code()).isEqualTo(400);
    assertThat(Failure.NOT_FOUND.code()).isEqualTo(404);
    assertThat(Failure.TIMEOUT.code()).isEqualTo(408);
    assertThat(Failure.CONFLICT.code()).isEqualTo(409);
    assertThat(Failure.NOT_OWNER.code()).isEqualTo(421);
    assertThat(Failure.UNAVAILABLE.code()).isEqualTo(503);
    for (Failure f : Failure.values()) {
      assertThat(Failure.fromCode(f.code())).isEqualTo(f);
    }
    assertThat(Failure.fromCode(500)).isNull();
  }

  @Test
  void exceptions_carry_symbol_sentence_and_code() {
    ReplyException e = Failure.CONFLICT.exception("token 3 is stale");
    assertThat(e.getMessage()).isEqualTo("CONFLICT: token 3 is stale");
    assertThat(e.failureCode()).isEqualTo(409);
    assertThat(Failure.of(e)).isEqualTo(Failure.CONFLICT);
    assertThat(Failure.of(new ReplyException(ReplyFailure.TIMEOUT, "t"))).isNull();
    assertThat(Failure.of(new IllegalStateException())).isNull();
  }

  @Test
  void a_refusal_names_the_leader_and_the_caller_reads_it_back() {
    ReplyException e = Failure.notLeader("node a is not the leader of partition 7", "b");
    assertThat(e.getMessage())
        .isEqualTo("NOT_OWNER: node a is not the leader of partition 7; (leader: b)");
    assertThat(Failure.namedLeader(e)).isEqualTo("b");
    assertThat(Failure.namedLeader(Failure.notLeader("no replica here", null))).isNull();
    assertThat(Failure.namedLeader(Failure.UNAVAILABLE.exception("x (leader: b)"))).isNull();
    assertThat(Failure.namedLeader(Failure.NOT_OWNER.exception("not the primary"))).isNull();
  }
}
