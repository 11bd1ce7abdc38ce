/* r1 eval: the self-consistency vote rules, the pass@1 / maj@K / length tallies,
 * generation with a reused prompt cache, and the command end to end on a tiny
 * random-weight model (which must score 0, deterministically). */
#include <unistd.h>

#include "test.h"

#include "infer/generate.h"
#include "infer/vote.h"
#include "model/gen_random.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "train/task.h"

/* ---- the vote ---- */

static r1_problem countdown_7_3_5(void) {
    r1_problem p;
    memset(&p, 0, sizeof p);
    p.kind = R1_TASK_COUNTDOWN;
    p.numbers[0] = 7, p.numbers[1] = 3, p.numbers[2] = 5;
    p.n_numbers = 3;
    p.target = 26;
    return p;
}

static r1_problem arithmetic_123_456(void) {
    r1_problem p;
    memset(&p, 0, sizeof p);
    p.kind = R1_TASK_ARITHMETIC;
    p.lhs = 123, p.rhs = 456, p.op = '*';
    r1_arithmetic_set_answer(&p);
    return p;
}

/* Scores a completion whose answer is `answer` (NULL: a malformed completion). */
static r1_reward reward_of(const r1_problem *p, const char *answer) {
    char completion[512];
    if (answer) snprintf(completion, sizeof completion, "let me think</think>\n<answer>%s</answer>", answer);
    else snprintf(completion, sizeof completion, "no tags at all, just %s", "rambling");
    r1_reward r;
    r1_task_reward(p, completion, &r);
    return r;
}

static r1_vote_result vote_on(const r1_problem *p, const char *const *answers, int k) {
    r1_reward rewards[16];
    for (int i = 0; i < k; i++) rewards[i] = reward_of(p, answers[i]);
    r1_vote_result v;
    r1_vote(p, rewards, k, &v);
    return v;
}

static void test_countdown_votes_by_value(test_ctx *t) {
    r1_problem p = countdown_7_3_5();
    /* 7*3+5, 5 + 3*7 and (3*7)+5 are one answer, 26: it beats two votes for 36 */
    const char *answers[] = {"(7+5)*3", "7*3+5", "3 * (5 + 7)", "5 + 3*7", "(3*7)+5"};
    r1_vote_result v = vote_on(&p, answers, 5);
    CHECK(v.has_majority && v.winner == 1 && v.votes == 3 && v.correct, "winner %d votes %d correct %d", v.winner,
          v.votes, v.correct);
    /* exact rationals: 7/3*5 and 5*7/3 are both 35/3 */
    const char *rational[] = {"7*3+5", "7/3*5", "5*7/3"};
    v = vote_on(&p, rational, 3);
    CHECK(v.winner == 1 && v.votes == 2 && !v.correct, "35/3 should win, wrongly: winner %d votes %d", v.winner,
          v.votes);
    char key[R1_VOTE_KEY_MAX];
    int correct;
    r1_reward r = reward_of(&p, "7/3*5");
    CHECK(r1_vote_key(&p, &r, key, &correct) && strcmp(key, "35/3") == 0 && !correct, "key '%s'", key);
}

static void test_countdown_ties_go_to_the_first(test_ctx *t) {
    r1_problem p = countdown_7_3_5();
    const char *wrong_first[] = {"7+3+5", "7*3+5", "3+5+7", "5+7*3"};
    r1_vote_result v = vote_on(&p, wrong_first, 4);
    CHECK(v.winner == 0 && v.votes == 2 && !v.correct, "tie 15 vs 26: winner %d correct %d", v.winner, v.correct);
    const char *right_first[] = {"7*3+5", "7+3+5", "3+5+7", "5+7*3"};
    v = vote_on(&p, right_first, 4);
    CHECK(v.winner == 0 && v.votes == 2 && v.correct, "tie 26 vs 15: winner %d correct %d", v.winner, v.correct);
}

static void test_countdown_invalid_answers_do_not_vote(test_ctx *t) {
    r1_problem p = countdown_7_3_5();
    /* a number used twice, numbers not given, one unused, a number used twice
     * (and a division by zero), not an expression, empty, malformed: none votes,
     * so the one valid answer wins */
    const char *answers[] = {"7*7+5", "8*3+2", "7*3", "7/(5-5)*3", "twenty-six", "", NULL, "(7+5)*3"};
    r1_vote_result v = vote_on(&p, answers, 8);
    CHECK(v.has_majority && v.winner == 7 && v.votes == 1 && !v.correct, "winner %d votes %d", v.winner, v.votes);
    const char *none[] = {"7*7+5", NULL, ""};
    v = vote_on(&p, none, 3);
    CHECK(!v.has_majority && v.winner == -1 && v.votes == 0 && !v.correct, "no votes must give no majority");
}

static void test_arithmetic_whitespace_normalisation(test_ctx *t) {
    r1_problem p = arithmetic_123_456();
    CHECK(strcmp(p.answer, "56088") == 0, "answer %s", p.answer);
    /* the trimmed " 56088 " and "56088" agree; "56 088" and "56  088" are one
     * (wrong) answer; "56,088" another */
    const char *answers[] = {"56 088", " 56088 ", "56,088", "56\t 088", "56088", "56,088"};
    r1_vote_result v = vote_on(&p, answers, 6);
    CHECK(v.winner == 0 && v.votes == 2 && !v.correct, "the first two-vote answer '56 088' wins: winner %d votes %d",
          v.winner, v.votes);
    const char *right[] = {"56 088", " 56088 ", "56088\n", "56,088"};
    v = vote_on(&p, right, 4);
    CHECK(v.winner == 1 && v.votes == 2 && v.correct, "56088 should win: winner %d votes %d", v.winner, v.votes);
    char key[R1_VOTE_KEY_MAX];
    int correct;
    r1_reward r = reward_of(&p, " 56 \n\t 088 ");
    CHECK(r1_vote_key(&p, &r, key, &correct) && strcmp(key, "56 088") == 0 && !correct, "key '%s'", key);
    r = reward_of(&p, "0");
    CHECK(r1_vote_key(&p, &r, key, &correct) && !correct, "a wrong number still votes");
}

/* ---- free-form answers (r1 run --vote) ---- */

/* The key of a free-form completion that ended with EOS, or "-" when it casts no vote. */
static const char *text_key(const r1_problem *p, const char *completion, int starts_thinking, int *correct) {
    static char key[R1_VOTE_KEY_MAX];
    int right = 0;
    if (!r1_vote_text_key(p, completion, starts_thinking, 1, key, NULL, &right)) strcpy(key, "-");
    if (correct) *correct = right;
    return key;
}

static void test_free_form_answers(test_ctx *t) {
    static const struct {
        const char *completion;
        int starts_thinking;
        const char *key;
    } cases[] = {
        {"<think>\n48 + 75 = 123\n</think>\n\n<answer> 120 </answer>", 0, "120"},
        {"48 + 75 = 123</think>\n<answer>120</answer>", 1, "120"},   /* the prompt opened <think> */
        {"<think>a</think> b </think>\n  The  answer\tis\n 7. ", 0, "The answer is 7."}, /* after the last </think> */
        {"<think>so x = 2</think>Hence $\\boxed{\\frac{1}{2}}$, or \\boxed{ 3 }.", 0, "3"}, /* the last box */
        {"</think>So \\boxed{\\frac{1}{2}}.", 1, "\\frac{1}{2}"},     /* braces balance */
        {"Forty-two.", 0, "Forty-two."},                            /* a model that never thinks */
        {"<think>still going", 0, "-"},                             /* thinking never closed */
        {"48 + 75 = 123", 1, "-"},
        {"</think><answer>120", 1, "-"},                            /* the answer never closed */
        {"</think>\\boxed{\\frac{1}{2}", 1, "-"},
        {"</think><answer> \n </answer>", 1, "-"},                  /* empty */
        {"</think>   ", 1, "-"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *key = text_key(NULL, cases[i].completion, cases[i].starts_thinking, NULL);
        CHECK(strcmp(key, cases[i].key) == 0, "case %zu: key '%s', expected '%s'", i, key, cases[i].key);
    }
    /* cut off by the token limit: a closed tag or box still votes, bare text does not */
    char key[R1_VOTE_KEY_MAX];
    int correct;
    CHECK(r1_vote_text_key(NULL, "</think><answer>120</answer>", 1, 0, key, NULL, &correct) && !strcmp(key, "120"), "tags");
    CHECK(r1_vote_text_key(NULL, "</think>so \\boxed{120} is", 1, 0, key, NULL, &correct) && !strcmp(key, "120"), "a box");
    CHECK(!r1_vote_text_key(NULL, "</think>The answer is 12", 1, 0, key, NULL, &correct), "bare text cut off votes '%s'", key);
    char long_answer[R1_TASK_ANSWER_MAX + 32];
    snprintf(long_answer, sizeof long_answer, "</think>%0*d", R1_TASK_ANSWER_MAX, 7);
    CHECK(strcmp(text_key(NULL, long_answer, 1, NULL), "-") == 0, "an answer of R1_TASK_ANSWER_MAX bytes may be cut");
    /* a task prompt: Countdown answers are keyed and judged by value */
    r1_problem p = countdown_7_3_5();
    CHECK(strcmp(text_key(&p, "</think>\n<answer>5 + 3 * 7</answer>", 1, &correct), "26/1") == 0 && correct,
          "26 by value");
    CHECK(strcmp(text_key(&p, "</think>\\boxed{7*7+5}", 1, &correct), "-") == 0, "an invalid expression casts no vote");
    char shown[R1_VOTE_KEY_MAX];
    CHECK(r1_vote_text_key(&p, "</think><answer> 5 +  3 * 7 </answer>", 1, 1, key, shown, &correct) &&
              !strcmp(key, "26/1") && !strcmp(shown, "5 + 3 * 7"),
          "the value is the key, the expression is shown: '%s', '%s'", key, shown);
    r1_problem q = arithmetic_123_456();
    CHECK(strcmp(text_key(&q, "</think>The product is \\boxed{56088}.", 1, &correct), "56088") == 0 && correct,
          "a boxed arithmetic answer");
    CHECK(strcmp(text_key(&q, "</think>56 088", 1, &correct), "56 088") == 0 && !correct, "a wrong one");
}

typedef struct {
    const char *const *completions;
    const r1_problem *problem;
} text_votes;

static int text_vote_key(const void *ctx, int i, char key[R1_VOTE_KEY_MAX], int *correct) {
    const text_votes *v = ctx;
    return r1_vote_text_key(v->problem, v->completions[i], 1, 1, key, NULL, correct);
}

static void test_free_form_vote(test_ctx *t) {
    const char *completions[] = {"</think>ten", "</think><answer>7*3+5</answer>", "</think>\\boxed{3}",
                                 "no end", "</think>\\boxed{5 + 3*7}", "</think>ten", "</think><answer>ten</answer>"};
    text_votes v = {completions, NULL};
    r1_vote_result vote;
    r1_vote_by(text_vote_key, &v, 7, &vote);
    CHECK(vote.has_majority && vote.winner == 0 && vote.votes == 3 && !vote.correct, "'ten' x3: winner %d votes %d",
          vote.winner, vote.votes);
    int counts[7];
    for (int i = 0; i < 7; i++) counts[i] = r1_vote_count(text_vote_key, &v, 7, i);
    const int expected[7] = {3, 1, 1, 0, 1, 0, 0};
    CHECK(memcmp(counts, expected, sizeof counts) == 0, "counts %d %d %d %d %d %d %d", counts[0], counts[1],
          counts[2], counts[3], counts[4], counts[5], counts[6]);
    /* the same samples as answers to 7, 3, 5 → 26: the two expressions are one value */
    r1_problem p = countdown_7_3_5();
    v.problem = &p;
    r1_vote_by(text_vote_key, &v, 7, &vote);
    CHECK(vote.has_majority && vote.winner == 1 && vote.votes == 2 && vote.correct, "26 x2: winner %d votes %d",
          vote.winner, vote.votes);
}

/* ---- the tallies ---- */

static void test_tally_on_canned_rewards(test_ctx *t) {
    r1_problem p = countdown_7_3_5(), q = arithmetic_123_456();
    r1_eval_tally tally = {0};
    /* problem 1: 1 of 4 right, the majority (36, two votes) wrong */
    r1_reward r1s[4] = {reward_of(&p, "(7+5)*3"), reward_of(&p, "7*3+5"), reward_of(&p, "3*(7+5)"), reward_of(&p, NULL)};
    int tokens1[4] = {10, 20, 30, 40};
    r1_vote_result v = r1_tally_add(&tally, &p, r1s, tokens1, 4);
    CHECK(!v.correct && v.votes == 2, "problem 1 majority");
    /* problem 2: 3 of 4 right, majority right */
    r1_reward r2s[4] = {reward_of(&q, "56088"), reward_of(&q, "1"), reward_of(&q, "56088"), reward_of(&q, " 56088")};
    int tokens2[4] = {1, 2, 3, 4};
    v = r1_tally_add(&tally, &q, r2s, tokens2, 4);
    CHECK(v.correct && v.votes == 3 && v.winner == 0, "problem 2 majority");
    CHECK(fabs(r1_tally_pass1(&tally) - (0.25 + 0.75) / 2) < 1e-12, "pass@1 %f", r1_tally_pass1(&tally));
    CHECK(fabs(r1_tally_majority(&tally) - 0.5) < 1e-12, "maj@4 %f", r1_tally_majority(&tally));
    CHECK(fabs(r1_tally_mean_length(&tally) - 110.0 / 8) < 1e-12, "mean length %f", r1_tally_mean_length(&tally));
    /* with one sample per problem pass@1 is the accuracy */
    r1_eval_tally single = {0};
    for (int i = 0; i < 4; i++) r1_tally_add(&single, &q, &r2s[i], &tokens2[i], 1);
    CHECK(fabs(r1_tally_pass1(&single) - 0.75) < 1e-12 && fabs(r1_tally_majority(&single) - 0.75) < 1e-12,
          "k=1: pass@1 %f maj %f", r1_tally_pass1(&single), r1_tally_majority(&single));
    r1_eval_tally empty = {0};
    CHECK(r1_tally_pass1(&empty) == 0 && r1_tally_majority(&empty) == 0 && r1_tally_mean_length(&empty) == 0,
          "an empty tally scores 0");
}

/* ---- generation on a tiny random model ---- */

static const char *tiny_model(void) {
    static char path[256];
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/r1_test_eval_%d.gguf", (int)getpid());
        r1_err err;
        if (r1_gen_random("tiny-deepseek", R1_TYPE_Q8_0, 0, 1, path, &err) != R1_OK) {
            printf("  gen-random: %s\n", err.msg);
            path[0] = 0;
            return NULL;
        }
    }
    return path;
}

typedef struct {
    r1_model model;
    r1_compute compute;
    r1_state state;
    r1_tokenizer *tok;
} engine;

static int engine_open(engine *e, int n_ctx) {
    r1_err err;
    memset(e, 0, sizeof *e);
    const char *path = tiny_model();
    if (!path || r1_model_load(&e->model, path, &err) != R1_OK) return 0;
    if (r1_compute_init(&e->compute, 1) != R1_OK) return r1_model_free(&e->model), 0;
    if (r1_state_init(&e->state, &e->model, &e->compute, n_ctx, 64, &err) != R1_OK ||
        r1_tokenizer_load_gguf(&e->tok, &e->model.gguf, &err) != R1_OK) {
        printf("  %s\n", err.msg);
        return 0;
    }
    return 1;
}

static void engine_close(engine *e) {
    r1_tokenizer_free(e->tok);
    r1_state_free(&e->state);
    r1_compute_free(&e->compute);
    r1_model_free(&e->model);
}

typedef struct {
    int count;
    size_t bytes;
} token_counter;

static int count_token(void *ctx, int token, const char *text, size_t len) {
    token_counter *c = ctx;
    (void)text;
    c->count += token >= 0;
    c->bytes += len;
    return 1;
}

static void test_generate_reuses_the_prompt(test_ctx *t) {
    engine e;
    CHECK(engine_open(&e, 128), "cannot open the tiny model");
    r1_err err;
    int prompt[] = {R1_GEN_BOS, 'W', 'h', 'a', 't', ' ', 'i', 's', ' ', '2', '?'};
    int n_prompt = (int)(sizeof prompt / sizeof prompt[0]);
    r1_generate_params gp = r1_generate_defaults();
    gp.max_tokens = 24;
    gp.sampling.seed = 7;
    token_counter counter = {0, 0};
    gp.on_token = count_token;
    gp.on_token_ctx = &counter;
    /* a fresh prefill for each sample ... */
    r1_generation fresh[3], reused[3];
    for (int j = 0; j < 3; j++) {
        gp.sampling.seed = 100 + (uint64_t)j;
        CHECK(r1_generate(&e.state, e.tok, prompt, n_prompt, &gp, &fresh[j], &err) == R1_OK, "%s", err.msg);
    }
    CHECK(counter.count == fresh[0].n_tokens + fresh[1].n_tokens + fresh[2].n_tokens &&
              counter.bytes == fresh[0].len + fresh[1].len + fresh[2].len,
          "on_token saw %d tokens, %zu bytes", counter.count, counter.bytes);
    /* ... is what one prefill and rewinding give */
    r1_prefill pf;
    CHECK(r1_prefill_run(&e.state, prompt, n_prompt, &pf, &err) == R1_OK, "%s", err.msg);
    gp.on_token = NULL;
    for (int j = 0; j < 3; j++) {
        gp.sampling.seed = 100 + (uint64_t)j;
        CHECK(r1_generate_from(&e.state, e.tok, &pf, &gp, &reused[j], &err) == R1_OK, "%s", err.msg);
        CHECK(reused[j].n_tokens == fresh[j].n_tokens && reused[j].len == fresh[j].len &&
                  memcmp(reused[j].text, fresh[j].text, fresh[j].len) == 0,
              "sample %d differs after rewinding to the prompt", j);
        CHECK(fresh[j].n_tokens <= 24 && strlen(fresh[j].text) == fresh[j].len, "sample %d: %d tokens", j,
              fresh[j].n_tokens);
        /* random weights: nothing well-formed, reward 0 */
        r1_problem q = arithmetic_123_456();
        CHECK(r1_task_reward(&q, fresh[j].text, NULL) == 0.0f, "a random model earned a reward");
    }
    r1_prefill_free(&pf);
    for (int j = 0; j < 3; j++) r1_generation_free(&fresh[j]), r1_generation_free(&reused[j]);
    engine_close(&e);
}

static void test_generate_budget_and_limits(test_ctx *t) {
    engine e;
    CHECK(engine_open(&e, 20), "cannot open the tiny model");
    r1_err err;
    int prompt[] = {R1_GEN_BOS, 'h', 'i', R1_GEN_THINK, '\n'};
    r1_generate_params gp = r1_generate_defaults();
    gp.sampling.temperature = 0;
    gp.starts_thinking = 1;
    gp.think_budget = 3;
    gp.max_tokens = 8;
    r1_generation g;
    CHECK(r1_generate(&e.state, e.tok, prompt, 5, &gp, &g, &err) == R1_OK, "%s", err.msg);
    /* the budget forces </think> as the 4th token unless EOS came first */
    CHECK(g.stopped_at_eos || strstr(g.text, "</think>") != NULL, "no forced </think> in '%s'", g.text);
    CHECK(g.n_tokens <= 8, "%d tokens past max_tokens 8", g.n_tokens);
    r1_generation_free(&g);
    /* the context (20) bounds a completion: 5 prompt tokens leave room for 16 */
    gp.max_tokens = 1000;
    gp.think_budget = -1;
    CHECK(r1_generate(&e.state, e.tok, prompt, 5, &gp, &g, &err) == R1_OK, "%s", err.msg);
    CHECK(g.n_tokens <= 16 && e.state.n_past <= 20, "%d tokens in a context of 20", g.n_tokens);
    r1_generation_free(&g);
    r1_generation_free(&g); /* freeing twice is harmless */
    /* an empty prompt, and sampling before any prompt, are errors */
    CHECK(r1_generate(&e.state, e.tok, prompt, 0, &gp, &g, &err) == R1_ERR && strstr(err.msg, "empty"), "empty prompt");
    r1_prefill none;
    memset(&none, 0, sizeof none);
    CHECK(r1_generate_from(&e.state, e.tok, &none, &gp, &g, &err) == R1_ERR, "sampling without a prompt");
    engine_close(&e);
}

/* ---- the command ---- */

/* Runs `r1 eval ARGS` (the binary in $R1, else ./r1) and returns its standard output. */
static int run_eval(const char *args, char *out, size_t size) {
    const char *r1 = getenv("R1");
    if (!r1) r1 = "./r1";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s eval -m %s -t 1 %s 2>/dev/null", r1, tiny_model(), args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = 0;
    return pclose(p);
}

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static void test_cli_end_to_end(test_ctx *t) {
    const char *r1 = getenv("R1");
    if (access(r1 ? r1 : "./r1", X_OK) != 0) SKIP("no r1 binary (make builds ./r1; R1=path overrides)");
    CHECK(tiny_model(), "cannot write the tiny model");
    char out[1024], again[1024];
    const char *args = "--task countdown --n 3 --k 3 --max-tokens 24 --seed 5";
    CHECK(run_eval(args, out, sizeof out) == 0, "r1 eval failed: '%s'", out);
    double pass1, maj, length;
    int k, consumed = 0;
    CHECK(sscanf(out, "pass@1 %lf\nmaj@%d %lf\nmean_length %lf\n%n", &pass1, &k, &maj, &length, &consumed) == 4 &&
              out[consumed] == 0,
          "output is not the three lines: '%s'", out);
    CHECK(k == 3 && pass1 == 0 && maj == 0 && length > 0 && length <= 24, "a random model scored: '%s'", out);
    CHECK(starts_with(out, "pass@1 0.0000\nmaj@3 0.0000\nmean_length "), "format: '%s'", out);
    CHECK(run_eval(args, again, sizeof again) == 0 && strcmp(out, again) == 0, "not deterministic: '%s' then '%s'",
          out, again);
    /* without --k: no maj line */
    CHECK(run_eval("--task arithmetic --n 2 --max-tokens 8 --template raw", out, sizeof out) == 0, "arithmetic run");
    CHECK(sscanf(out, "pass@1 %lf\nmean_length %lf\n%n", &pass1, &length, &consumed) == 2 && out[consumed] == 0 &&
              pass1 == 0,
          "output without --k: '%s'", out);
    /* problems from a file */
    char file[256], file_args[512];
    snprintf(file, sizeof file, "/tmp/r1_test_eval_%d.jsonl", (int)getpid());
    FILE *f = fopen(file, "w");
    CHECK(f, "cannot write %s", file);
    fputs("{\"numbers\": [7, 3, 5], \"target\": 26}\n\n{\"question\": \"What is 123 * 456?\", \"answer\": \"56088\"}\n", f);
    fclose(f);
    snprintf(file_args, sizeof file_args, "--file %s --k 2 --max-tokens 8", file);
    int rc = run_eval(file_args, out, sizeof out);
    remove(file);
    CHECK(rc == 0 && starts_with(out, "pass@1 0.0000\nmaj@2 0.0000\nmean_length "), "--file: '%s'", out);
}

static void test_cleanup(test_ctx *t) {
    (void)t;
    const char *path = tiny_model();
    if (path) remove(path);
}

TEST_MAIN("eval", T(test_countdown_votes_by_value), T(test_countdown_ties_go_to_the_first),
          T(test_countdown_invalid_answers_do_not_vote), T(test_arithmetic_whitespace_normalisation),
          T(test_free_form_answers), T(test_free_form_vote),
          T(test_tally_on_canned_rewards), T(test_generate_reuses_the_prompt), T(test_generate_budget_and_limits),
          T(test_cli_end_to_end), T(test_cleanup))
