/* Decoding several sequences at once (r1_forward_seqs, r1_generate_many): each
 * sequence's logits match decoding it alone, on MLA (deepseek2) and on dense
 * grouped-query attention (qwen2), for sequences at different positions; a
 * copied prompt cache decodes as the original; and generation over a batch gives
 * one sample's text per seed. */
#include <unistd.h>

#include "test.h"

#include "infer/generate.h"
#include "model/gen_random.h"
#include "model/model.h"
#include "model/state.h"
#include "tokenizer/tokenizer.h"

/* A random model file of the preset (1 layer for the big ones, a small vocabulary). */
static int make_model(const char *preset, r1_type type, int n_layers, char *path, size_t size) {
    snprintf(path, size, "/tmp/r1_test_batch_%s_%d.gguf", preset, (int)getpid());
    r1_gen_config cfg = {.preset = preset, .type = type, .n_layers = n_layers, .n_vocab = 300, .seed = 3, .path = path};
    r1_err err;
    if (r1_gen_random_model(&cfg, NULL, &err) != R1_OK) return printf("  gen-random: %s\n", err.msg), 0;
    return 1;
}

enum { N_SEQ = 3, CTX = 40 };

/* Three prompts of different lengths, each prefilled into its own state; then two
 * steps of all three through r1_forward_seqs against each alone through r1_forward.
 * tolerance: of the logits, relative to the largest; float and half-float products
 * sum in one order for one token and for several, so they must give the same bits
 * (tolerance 0); quantized ones round as prefill against decoding does. */
static void check_forward_seqs(test_ctx *t, const char *preset, r1_type type, int n_layers, double tolerance) {
    char path[256];
    CHECK(make_model(preset, type, n_layers, path, sizeof path), "cannot write a %s model", preset);
    r1_model model;
    r1_compute compute;
    r1_err err;
    CHECK(r1_model_load(&model, path, &err) == R1_OK, "%s", err.msg);
    remove(path);
    CHECK(r1_compute_init(&compute, 2) == R1_OK, "threads");
    r1_state lead, alone[N_SEQ], together[N_SEQ];
    CHECK(r1_state_init(&lead, &model, &compute, CTX, 8, &err) == R1_OK, "%s", err.msg);
    int n_vocab = model.hp.n_vocab;
    float *expected = calloc((size_t)N_SEQ * n_vocab, sizeof(float)), *got = calloc((size_t)N_SEQ * n_vocab, sizeof(float));
    const int prompts[N_SEQ][7] = {{R1_GEN_BOS, 'a', 'b'}, {R1_GEN_BOS, 'x', 'y', 'z', '1', '2', '3'}, {R1_GEN_BOS}};
    const int lengths[N_SEQ] = {3, 7, 1};
    int next[N_SEQ] = {'c', '4', R1_GEN_THINK}; /* each sequence's next token, step by step */
    for (int i = 0; i < N_SEQ; i++) {
        CHECK(r1_state_init(&alone[i], &model, &compute, CTX, 8, &err) == R1_OK, "%s", err.msg);
        CHECK(r1_state_init(&together[i], &model, &compute, CTX, 1, &err) == R1_OK, "%s", err.msg);
        CHECK(r1_forward(&alone[i], prompts[i], lengths[i], NULL, 0, &err) == R1_OK, "%s", err.msg);
        /* the batch's sequences start from a copy of the prompt's cache */
        CHECK(r1_state_copy_prefix(&together[i], &alone[i], lengths[i], &err) == R1_OK, "%s", err.msg);
        CHECK(r1_forward(&alone[i], &next[i], 1, expected + (size_t)i * n_vocab, 0, &err) == R1_OK, "%s", err.msg);
    }
    r1_state *seqs[N_SEQ] = {&together[0], &together[1], &together[2]};
    /* two steps: the second reads the cache entries the first wrote */
    for (int step = 0; step < 2; step++) {
        CHECK(r1_forward_seqs(&lead, seqs, next, N_SEQ, got, &err) == R1_OK, "%s", err.msg);
        double worst = 0, scale = 0;
        for (size_t i = 0; i < (size_t)N_SEQ * n_vocab; i++) {
            double d = fabs((double)got[i] - expected[i]);
            if (d > worst) worst = d;
            if (fabs(expected[i]) > scale) scale = fabs(expected[i]);
        }
        CHECK(worst <= tolerance * scale, "%s type %d step %d: logits differ by %g (largest %g)", preset, (int)type, step,
              worst, scale);
        for (int i = 0; i < N_SEQ; i++)
            CHECK(together[i].n_past == lengths[i] + 1 + step, "%s: sequence %d at %d", preset, i, together[i].n_past);
        for (int i = 0; i < N_SEQ && step == 0; i++) {
            next[i] = 'q' + i;
            CHECK(r1_forward(&alone[i], &next[i], 1, expected + (size_t)i * n_vocab, 0, &err) == R1_OK, "%s", err.msg);
        }
    }
    CHECK(lead.n_past == 0, "the lending state's own cache moved");
    /* what a step refuses */
    r1_state *twice[2] = {&together[0], &together[0]};
    int tokens[2] = {'a', 'b'};
    CHECK(r1_forward_seqs(&lead, twice, tokens, 2, got, &err) == R1_ERR && strstr(err.msg, "also sequence 0"),
          "one sequence twice: %s", err.msg);
    CHECK(r1_forward_seqs(&together[0], seqs, tokens, 2, got, &err) == R1_ERR && strstr(err.msg, "1..1"),
          "more sequences than the state's batch: %s", err.msg);
    tokens[0] = n_vocab;
    CHECK(r1_forward_seqs(&lead, seqs, tokens, 1, got, &err) == R1_ERR && strstr(err.msg, "outside the vocabulary"),
          "a bad token: %s", err.msg);
    tokens[0] = 'a';
    r1_state full, longer;
    CHECK(r1_state_init(&full, &model, &compute, 1, 1, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_state_init(&longer, &model, &compute, CTX + 1, 1, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_forward(&full, tokens, 1, NULL, 0, &err) == R1_OK, "%s", err.msg);
    r1_state *one[1] = {&full};
    CHECK(r1_forward_seqs(&lead, one, tokens, 1, got, &err) == R1_ERR && strstr(err.msg, "is full"),
          "a full sequence: %s", err.msg);
    one[0] = &longer;
    CHECK(r1_forward_seqs(&lead, one, tokens, 1, got, &err) == R1_ERR && strstr(err.msg, "longer than"),
          "a context longer than the step state's: %s", err.msg);
    CHECK(r1_state_copy_prefix(&longer, &full, 2, &err) == R1_ERR && strstr(err.msg, "1 cached"),
          "copied more tokens than cached: %s", err.msg);
    r1_state_free(&full), r1_state_free(&longer);
    for (int i = 0; i < N_SEQ; i++) r1_state_free(&alone[i]), r1_state_free(&together[i]);
    r1_state_free(&lead);
    free(expected), free(got);
    r1_compute_free(&compute);
    r1_model_free(&model);
}

static void test_forward_seqs_mla(test_ctx *t) {
    check_forward_seqs(t, "tiny-deepseek", R1_TYPE_F32, 0, 0);
    if (!t->failed) check_forward_seqs(t, "tiny-deepseek", R1_TYPE_Q8_0, 0, 3e-3);
}

static void test_forward_seqs_dense(test_ctx *t) {
    check_forward_seqs(t, "r1-distill-qwen-1.5b", R1_TYPE_F16, 1, 0);
    if (!t->failed) check_forward_seqs(t, "r1-distill-qwen-1.5b", R1_TYPE_Q4_0, 1, 3e-3);
}

/* ---- generation ---- */

static void test_generate_many(test_ctx *t) {
    char path[256];
    CHECK(make_model("tiny-deepseek", R1_TYPE_F32, 0, path, sizeof path), "cannot write the model");
    r1_model model;
    r1_compute compute;
    r1_state s;
    r1_tokenizer *tok = NULL;
    r1_err err;
    CHECK(r1_model_load(&model, path, &err) == R1_OK, "%s", err.msg);
    remove(path);
    CHECK(r1_compute_init(&compute, 2) == R1_OK, "threads");
    CHECK(r1_state_init(&s, &model, &compute, 64, 2, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_tokenizer_load_gguf(&tok, &model.gguf, &err) == R1_OK, "%s", err.msg);
    int prompt[] = {R1_GEN_BOS, 'W', 'h', 'y', '?', R1_GEN_THINK};
    r1_prefill pf;
    CHECK(r1_prefill_run(&s, prompt, 6, &pf, &err) == R1_OK, "%s", err.msg);
    r1_generate_params gp = r1_generate_defaults();
    gp.max_tokens = 20;
    gp.sampling.temperature = 1.0f;
    gp.logprobs = 1;
    r1_sequences q = {0};
    enum { K = 5 };
    const uint64_t seeds[K] = {11, 12, 13, 14, 15};
    r1_generation many[K], again[K], one;
    /* five samples, two states' batch at a time: run twice, the same bits */
    CHECK(r1_generate_many(&s, &q, tok, &pf, &gp, seeds, K, many, &err) == R1_OK, "%s", err.msg);
    CHECK(r1_generate_many(&s, &q, tok, &pf, &gp, seeds, K, again, &err) == R1_OK, "%s", err.msg);
    CHECK(q.n == K - 1, "%d sequence states for %d samples", q.n, K);
    int differ = 0;
    for (int j = 0; j < K; j++) {
        CHECK(many[j].n_tokens + many[j].stopped_at_eos >= 1 && many[j].n_tokens <= 20, "sample %d: %d tokens", j,
              many[j].n_tokens);
        CHECK(again[j].len == many[j].len && memcmp(again[j].text, many[j].text, many[j].len) == 0 &&
                  memcmp(again[j].logprobs, many[j].logprobs, (size_t)many[j].n_tokens * sizeof(float)) == 0,
              "sample %d differs between two runs", j);
        differ += j > 0 && (many[j].len != many[0].len || memcmp(many[j].text, many[0].text, many[0].len) != 0);
        /* each sample is its seed's: alone, a float model gives the same bits */
        gp.sampling.seed = seeds[j];
        CHECK(r1_generate_from(&s, tok, &pf, &gp, &one, &err) == R1_OK, "%s", err.msg);
        int n = one.n_tokens + one.stopped_at_eos;
        CHECK(n == many[j].n_tokens + many[j].stopped_at_eos &&
                  memcmp(one.tokens, many[j].tokens, (size_t)n * sizeof(int)) == 0,
              "sample %d: another completion alone than in the batch", j);
        CHECK(memcmp(one.logprobs, many[j].logprobs, (size_t)n * sizeof(float)) == 0,
              "sample %d: other log-probabilities alone than in the batch", j);
        r1_generation_free(&one);
    }
    CHECK(differ > 0, "five seeds gave one text");
    /* one completion through r1_generate_many is r1_generate_from's */
    gp.sampling.seed = seeds[2];
    CHECK(r1_generate_many(&s, &q, tok, &pf, &gp, &seeds[2], 1, &one, &err) == R1_OK, "%s", err.msg);
    CHECK(one.len == many[2].len && memcmp(one.text, many[2].text, one.len) == 0, "k = 1");
    r1_generation_free(&one);
    for (int j = 0; j < K; j++) r1_generation_free(&again[j]);
    CHECK(r1_generate_many(&s, NULL, tok, &pf, &gp, seeds, 2, again, &err) == R1_ERR && strstr(err.msg, "sequences"),
          "two completions without sequences: %s", err.msg);
    /* one token each, and none at all */
    gp.max_tokens = 1;
    CHECK(r1_generate_many(&s, &q, tok, &pf, &gp, seeds, K, again, &err) == R1_OK, "%s", err.msg);
    for (int j = 0; j < K; j++) {
        CHECK(again[j].n_tokens + again[j].stopped_at_eos == 1 && again[j].tokens[0] == many[j].tokens[0],
              "sample %d: %d tokens at max_tokens 1", j, again[j].n_tokens);
        r1_generation_free(&again[j]);
    }
    gp.max_tokens = 0;
    CHECK(r1_generate_many(&s, &q, tok, &pf, &gp, seeds, K, again, &err) == R1_OK && again[K - 1].n_tokens == 0 &&
              again[K - 1].len == 0, "max_tokens 0");
    for (int j = 0; j < K; j++) r1_generation_free(&again[j]);
    /* on_token follows one completion only */
    gp.on_token = (int (*)(void *, int, const char *, size_t))1;
    CHECK(r1_generate_many(&s, &q, tok, &pf, &gp, seeds, 2, again, &err) == R1_ERR && strstr(err.msg, "on_token"),
          "on_token with 2 completions: %s", err.msg);
    for (int j = 0; j < K; j++) r1_generation_free(&many[j]), r1_generation_free(&again[j]);
    r1_sequences_free(&q);
    r1_prefill_free(&pf);
    r1_tokenizer_free(tok);
    r1_state_free(&s);
    r1_compute_free(&compute);
    r1_model_free(&model);
}

TEST_MAIN("batch", T(test_forward_seqs_mla), T(test_forward_seqs_dense), T(test_generate_many))
