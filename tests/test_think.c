/* The thinking tracker: phases and budget forcing. */
#include "test.h"

#include "infer/think.h"

enum { OPEN = 5, CLOSE = 6 };

static r1_think make(int starts_thinking, int budget) {
    r1_think th = {OPEN, CLOSE, starts_thinking ? R1_PHASE_THINKING : R1_PHASE_ANSWER, 0, budget};
    return th;
}

static void test_phases_follow_markers(test_ctx *t) {
    r1_think th = make(0, -1);
    CHECK(r1_think_step(&th, 1) == 1 && th.phase == R1_PHASE_ANSWER, "plain token changed the phase");
    CHECK(r1_think_step(&th, OPEN) == OPEN && th.phase == R1_PHASE_THINKING, "<think> did not start thinking");
    CHECK(r1_think_step(&th, 2) == 2 && th.think_tokens == 1, "thinking tokens not counted");
    CHECK(r1_think_step(&th, CLOSE) == CLOSE && th.phase == R1_PHASE_ANSWER, "</think> did not end thinking");
    CHECK(r1_think_is_marker(&th, OPEN) && r1_think_is_marker(&th, CLOSE) && !r1_think_is_marker(&th, 2),
          "markers misreported");
}

static void test_budget_forces_close(test_ctx *t) {
    r1_think th = make(1, 3);
    for (int i = 0; i < 3; i++) CHECK(r1_think_step(&th, 10 + i) == 10 + i, "token %d replaced before the budget", i);
    CHECK(r1_think_step(&th, 42) == CLOSE, "</think> not forced after 3 thinking tokens");
    CHECK(th.phase == R1_PHASE_ANSWER, "still thinking after the forced </think>");
    CHECK(r1_think_step(&th, 42) == 42, "answer tokens must pass through");
}

static void test_zero_budget_and_no_markers(test_ctx *t) {
    r1_think th = make(1, 0);
    CHECK(r1_think_step(&th, 7) == CLOSE, "budget 0 must close at once");
    r1_think none = {-1, -1, R1_PHASE_ANSWER, 0, 2};
    CHECK(r1_think_step(&none, 7) == 7 && none.phase == R1_PHASE_ANSWER, "a vocabulary without markers never thinks");
    CHECK(!r1_think_is_marker(&none, -1), "-1 is not a marker");
}

TEST_MAIN("think", T(test_phases_follow_markers), T(test_budget_forces_close), T(test_zero_budget_and_no_markers))
