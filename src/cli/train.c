/* r1 train <stage>: the training recipe of DESIGN §6, one subcommand per stage
 * (the work is in src/train/). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tensor/gemm_bf16.h"
#include "train/distill.h"
#include "train/grpo.h"
#include "train/init_weights.h"
#include "train/pretrain.h"
#include "train/sft.h"
#include "train/train_bench.h"

static const char *train_usage =
    "usage: r1 train <stage> [options]     (r1 train <stage> --help for its options)\n"
    "The DeepSeek-R1 recipe on a tiny deepseek2 model (DESIGN §6).\n"
    "stages:\n"
    "  pretrain   next-token training on solver search traces: the base model\n"
    "  grpo       reinforcement learning with rule-based rewards (R1-Zero)\n"
    "  bench      the trainer's speed: tokens/s of forward + backward + AdamW\n"
    "  sft        supervised fine-tuning on a file of traces (cold start, or the correct\n"
    "             samples of `r1 sample --filter correct`)\n"
    "  distill    a teacher's correct traces fine-tune a smaller student\n";

/* The option lines the next-token stages share; each stage's text gives its defaults. */
static const char *lm_usage =
    "  --out DIR               run directory\n"
    "  --resume                continue DIR's run with its saved settings (training options\n"
    "                          are not accepted then); a finished run is left as it is\n"
    "  --steps N               optimizer steps\n"
    "  --batch B               sequences per step (default 8)\n"
    "  --seq T                 tokens per sequence (default 512)\n"
    "  --lr X                  peak learning rate\n"
    "  --lr-min X              end of the cosine decay (default lr/10)\n"
    "  --warmup N              linear warm-up steps (at most steps/10 unless given)\n"
    "  --init PATH             start from these weights and their architecture (the size\n"
    "                          options are refused then): a pretrain/sft/grpo run directory,\n"
    "                          its checkpoint.gguf, or a model.gguf `r1 train` exported\n"
    "  --seed S                seed of the data order and of a from-scratch initialisation\n"
    "                          (default 1)\n"
    "  --mtp X                 weight λ of a multi-token prediction module (DeepSeek-V3 §2.2,\n"
    "                          depth 1: one more block predicts the token after next); it is\n"
    "                          trained and checkpointed, and left out of model.gguf (default\n"
    "                          0: none; with --init from weights without one, it starts new)\n"
    "  --precision P           f32 (default) or bf16: the projections' and FFNs' products\n"
    "                          take bfloat16 operands with float sums (about 1.3x faster\n"
    "                          steps where the CPU has AVX512_BF16, much slower elsewhere;\n"
    "                          it trains weaker models: a Countdown base copied the\n"
    "                          problem's numbers wrong, RESULTS.md)\n"
    "  --set KEY=VALUE         any other setting by its config.txt name (e.g. --set ffn_dim=512)\n"
    "  --checkpoint-every N    steps between checkpoints (default 100; 0: only at the end)\n"
    "  --log-every N           steps between metrics rows (default 1)\n"
    "  --quiet                 no progress bar\n"
    "  -t, --threads N         threads (default: all cores; the results are the same)\n";

static const char *size_usage =
    "  --dim D                 model width\n"
    "  --layers L              layers (the first dense, the others MoE)\n"
    "  --heads H               attention heads (default 4)\n"
    "  --experts E             routed experts (default 8)\n"
    "  --top-k K               experts per token (default 2)\n";

static const char *pretrain_usage =
    "usage: r1 train pretrain [--out DIR] [--steps N] [--batch B] [--seq T] [--lr X] [--seed S]\n"
    "                         [--dim D --layers L ... | --init RUN] [--checkpoint-every N]\n"
    "                         [--resume]\n"
    "Trains the tiny deepseek2 model on synthetic search traces (Countdown and arithmetic:\n"
    "try, check, backtrack, answer) on all cores. DIR receives config.txt, vocab.gguf,\n"
    "checkpoint.gguf (atomic, every N steps and at the end), metrics.csv, loss.svg and, at\n"
    "the end, model.gguf for `r1 run -m DIR/model.gguf`. Ctrl-C saves a checkpoint and stops.\n"
    "Defaults: --out runs/pretrain, 2000 steps, lr 2e-3 (3e-4 with --init: more training of\n"
    "a model), warm-up 100; the model dim 256, 4 layers. Traces are ~150-450 bytes, one\n"
    "token a byte.\n"
    "  --countdown-share X     share of Countdown problems, the rest arithmetic (default 0.5)\n"
    "  --chain-share X         share of the arithmetic made chains, `What is 48 + 75 - 3?`\n"
    "                          (default 0; the eval split has none)\n"
    "  --small-share X         share of the arithmetic given a one-digit operand (or two),\n"
    "                          `What is 7 * 8?` (default 0; the eval split has none)\n"
    "  --small-countdown-share X  share of the Countdown problems given one or two\n"
    "                          one-digit numbers, `Using the numbers 7, 63, 5, make 65.`\n"
    "                          (default 0: one number in eleven has one digit)\n"
    "  --all-small-countdown-share X  share of the Countdown problems whose numbers\n"
    "                          all have one digit, `Using the numbers 7, 3, 5, make 26.`\n"
    "                          (default 0: the generator almost never poses one)\n"
    "  --hasty-share X         share of Countdown traces by a hasty solver that gives up\n"
    "                          after one or two failed lines and guesses (default 0;\n"
    "                          --set trace_hasty_lines=N: after 1..N, 0: at once)\n"
    "The other trace settings go by --set: trace_max_think_bytes (400), trace_max_dead_ends\n"
    "(8), trace_wrong_share (0.25), trace_marked_rest (0; 1 writes each Countdown rest\n"
    "list whole, the numbers taken marked: `3 from 65, 25, 93, 48 used`), trace_compare\n"
    "(0; 1 writes the need beside each result: `93 - 65 = 28 vs 22. No.`),\n"
    "trace_slip_on_hit (1; 0 never writes the result that meets the need off by one\n"
    "first, as in `65 + 25 = 91, wait, 65 + 25 = 90. Yes.`) and trace_give_up (0; 1\n"
    "tells a search too long for the budget from its start and then guesses, where 0\n"
    "drops its oldest failed branches), trace_difference (0; 1 writes each result's\n"
    "distance from the need: `93 - 65 = 28, 28 - 22 = 6. No.`), trace_remainders (0;\n"
    "1 also tries the divisions of a need that fail: `73 / 7 = 10 r 3. No.`) and\n"
    "trace_multiply_back (0; 1 checks every division of a need by multiplying back and\n"
    "tries those that fail too: `73 / 7 = 10, 10 * 7 = 70. No.`).\n";

static const char *sft_usage =
    "usage: r1 train sft --data TRACES.jsonl [--init RUN_OR_MODEL] [--out DIR] [--steps N]\n"
    "                    [--batch B] [--seq T] [--lr X] [--checkpoint-every N] [--resume]\n"
    "Supervised fine-tuning (DeepSeek-R1's cold start, and its SFT on rejection-sampled\n"
    "traces) on a JSONL file of traces, one {\"prompt\": ..., \"completion\": ...} object a\n"
    "line, as `r1 sample` writes them (\"reward\" and \"task\" optional). Each trace is trained\n"
    "as the model sees it when asked: the prompt through the deepseek-r1 chat template, the\n"
    "completion after `<think>\\n`, then end-of-sentence; the loss is on the completion alone.\n"
    "Traces longer than --seq tokens are left out (and counted). The model starts from\n"
    "--init (its architecture too); without --init it is trained from scratch with the size\n"
    "options. DIR receives config.txt, vocab.gguf, checkpoint.gguf, metrics.csv, loss.svg\n"
    "and, at the end, model.gguf. Ctrl-C saves a checkpoint and stops.\n"
    "Defaults: --out runs/sft, 500 steps, lr 3e-4 (2e-3 without --init), warm-up 20;\n"
    "without --init, the model dim 256, 4 layers.\n"
    "  --data FILE             the traces (required)\n";

static const char *distill_usage =
    "usage: r1 train distill --teacher MODEL.gguf [--out DIR] [--init STUDENT] [--task T]\n"
    "                        [--n N] [--k K] [--dim D --layers L ...] [--steps N --lr X ...]\n"
    "                        [--resume]\n"
    "Distillation (DeepSeek-R1 §2.4): the teacher answers N train-split problems K times\n"
    "each; its correct answers (DIR/teacher-traces.jsonl, as `r1 sample --filter correct`\n"
    "writes them) fine-tune a student as `r1 train sft` does, into DIR. The student starts\n"
    "from --init, or from scratch with the size options; by default it is smaller than\n"
    "the default model: dim 128, 2 layers (1 dense, 1 MoE: 8 experts of width 64, top-2),\n"
    "4 heads, q/kv latent ranks 48/32. DIR/distill.txt keeps the settings; --resume\n"
    "continues the unfinished phase (the sampling again from its start, which gives the\n"
    "same traces, or the student's training from its checkpoint).\n"
    "Defaults: --out runs/distill, countdown, 256 problems x 4 samples of at most 512 tokens\n"
    "at temperature 0.6, top-p 0.95; the student 1000 steps, lr 2e-3 (3e-4 with --init),\n"
    "warm-up 50. --seed also seeds the problems and the samples (default 0 for them).\n"
    "  --teacher F.gguf        the teacher model (required)\n"
    "  --task T                countdown | arithmetic | mix\n"
    "  --n N                   problems\n"
    "  --k K                   samples per problem\n"
    "  --temp X                teacher's sampling temperature\n"
    "  --top-p P               teacher's nucleus sampling\n"
    "  --max-tokens M          tokens per sample at most\n";

/* ---- the options of the next-token stages (pretrain, sft, distill) ---- */

typedef struct {
    const char *stage;          /* for messages: "train pretrain" */
    r1_pretrain_options run;
    const char *setting;        /* a training option given, refused with --resume */
    const char *size_option;    /* a model-size option given, refused with --init */
    int lr_given, lr_min_given, warmup_given;
} lm_options;

/* A path option into a settings string. */
static int path_value(int argc, char **argv, int *i, char *out, size_t size) {
    const char *v = cli_value(argc, argv, i);
    if (!v) return R1_ERR;
    if (strlen(v) >= size) return cli_error("%s: '%.40s...' is too long", argv[*i - 1], v), R1_ERR;
    memcpy(out, v, strlen(v) + 1);
    return R1_OK;
}

/* --precision P: the setting, and a note where this machine would run it slowly. */
static int precision_option(const char *stage, const char *value, r1_pretrain_config *cfg) {
    char key_value[64];
    r1_err err;
    snprintf(key_value, sizeof key_value, "precision=%s", value);
    if (strcmp(value, "f32") && strcmp(value, "bf16"))
        return cli_error("%s: --precision: '%s' is not f32 or bf16", stage, value);
    if (r1_pretrain_config_set(cfg, key_value, &err) != R1_OK) return cli_error("%s: --precision: %s", stage, err.msg);
    if (cfg->model.precision == R1_LINEAR_BF16 && r1_gemm_bf16_kernel() == r1_gemm_bf16_scalar)
        fprintf(stderr, "%s: note: bf16 products run on the scalar reference here (no AVX512_BF16, or a lower "
                        "kernel level chosen), many times slower than f32\n", stage);
    return 0;
}

/* The run options and the training settings the stages share, into cfg and o:
 * 1 when argv[*i] was one (its value taken), 0 when not, -1 on a bad value. */
static int lm_option(int argc, char **argv, int *i, r1_pretrain_config *cfg, lm_options *o) {
    const char *arg = argv[*i], *v;
    long n;
    float x;
    r1_err err;
    if (!strcmp(arg, "--out")) return (o->run.out_dir = cli_value(argc, argv, i)) ? 1 : -1;
    if (!strcmp(arg, "--init")) {
        if (path_value(argc, argv, i, cfg->init, sizeof cfg->init) != R1_OK) return -1;
        return o->setting = arg, 1;
    }
    if (!strcmp(arg, "--resume")) return o->run.resume = 1;
    if (!strcmp(arg, "--quiet")) return o->run.quiet = 1;
    if (!strcmp(arg, "-t") || !strcmp(arg, "--threads")) {
        if (!(v = cli_value(argc, argv, i)) || cli_parse_long(arg, v, 0, 256, &n) != R1_OK) return -1;
        return o->run.threads = (int)n, 1;
    }
    if (!strcmp(arg, "--checkpoint-every")) {
        if (!(v = cli_value(argc, argv, i)) || cli_parse_long(arg, v, 0, INT_MAX, &n) != R1_OK) return -1;
        return o->run.checkpoint_every = (int)n, 1;
    }
    struct { const char *flag; int *field; long min, max; int size; } ints[] = {
        {"--steps", &cfg->steps, 1, INT_MAX, 0},         {"--batch", &cfg->model.batch, 1, 4096, 0},
        {"--seq", &cfg->model.seq_len, 8, 65536, 0},     {"--dim", &cfg->model.dim, 1, 65536, 1},
        {"--layers", &cfg->model.n_layers, 1, 1024, 1},  {"--heads", &cfg->model.n_heads, 1, 1024, 1},
        {"--experts", &cfg->model.n_experts, 1, 256, 1}, {"--top-k", &cfg->model.top_k, 1, 256, 1},
        {"--warmup", &cfg->warmup, 0, INT_MAX, 0},       {"--log-every", &cfg->log_every, 1, INT_MAX, 0},
    };
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        if (!strcmp(arg, ints[k].flag)) {
            if (!(v = cli_value(argc, argv, i)) || cli_parse_long(arg, v, ints[k].min, ints[k].max, &n) != R1_OK)
                return -1;
            *ints[k].field = (int)n;
            o->setting = arg;
            if (ints[k].size) o->size_option = arg;
            o->warmup_given |= ints[k].field == &cfg->warmup;
            return 1;
        }
    if (!strcmp(arg, "--lr") || !strcmp(arg, "--lr-min") || !strcmp(arg, "--mtp")) {
        if (!(v = cli_value(argc, argv, i)) || cli_parse_float(arg, v, &x) != R1_OK) return -1;
        if (!strcmp(arg, "--lr")) cfg->opt.lr = x, o->lr_given = 1;
        else if (!strcmp(arg, "--lr-min")) cfg->lr_min = x, o->lr_min_given = 1;
        else cfg->model.mtp_weight = x;
    } else if (!strcmp(arg, "--seed")) {
        if (!(v = cli_value(argc, argv, i)) || cli_parse_long(arg, v, 0, LONG_MAX, &n) != R1_OK) return -1;
        cfg->data.seed = (uint64_t)n;
    } else if (!strcmp(arg, "--precision")) {
        if (!(v = cli_value(argc, argv, i)) || precision_option(o->stage, v, cfg)) return -1;
    } else if (!strcmp(arg, "--set")) {
        if (!(v = cli_value(argc, argv, i))) return -1;
        if (r1_pretrain_config_set(cfg, v, &err) != R1_OK) return cli_error("%s: --set: %s", o->stage, err.msg), -1;
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)strcspn(v, "="), v);
        if (r1_init_weights_decides(key)) o->size_option = v;
        o->lr_min_given |= !strncmp(v, "lr_min=", 7);
        o->warmup_given |= !strncmp(v, "warmup=", 7);
        o->lr_given |= !strncmp(v, "lr=", 3);
    } else return 0;
    o->setting = arg;
    return 1;
}

/* What the options leave implicit; an error for settings given with --resume, and
 * for size options with --init (the size comes with the weights), which also sets
 * the lower rate of further training. */
static int lm_options_finish(r1_pretrain_config *cfg, lm_options *o) {
    if (o->run.resume && o->setting)
        return cli_error("%s: --resume takes the settings from %s; drop %s", o->stage, o->run.out_dir, o->setting),
               R1_ERR;
    if (cfg->init[0] && o->size_option)
        return cli_error("%s: %s: the model's size comes from --init", o->stage, o->size_option), R1_ERR;
    if (cfg->init[0] && !o->lr_given) cfg->opt.lr = 3e-4f;
    if (!o->lr_min_given) cfg->lr_min = cfg->opt.lr / 10;
    if (!o->warmup_given && cfg->warmup > cfg->steps / 10) cfg->warmup = cfg->steps / 10;
    cli_catch_interrupts();
    return R1_OK;
}

/* The closing lines of a next-token run; the exit code. */
static int lm_report(const char *stage, const r1_pretrain_options *o, const r1_pretrain_result *res) {
    if (res->was_finished) {
        fprintf(stderr, "r1: %s: the run is already finished (%llu/%llu steps); model in %s/model.gguf\n", o->out_dir,
                (unsigned long long)res->steps_done, (unsigned long long)res->total_steps, o->out_dir);
        return 0;
    }
    fprintf(stderr, "%s: %llu/%llu steps, %.2fM params, loss %.4f -> %.4f, %.0f tokens/s, %.1f s\n", stage,
            (unsigned long long)res->steps_done, (unsigned long long)res->total_steps, res->n_params / 1e6,
            res->first_loss, res->last_loss, res->tokens_per_s, res->seconds);
    if (res->finished) fprintf(stderr, "%s: wrote %s/model.gguf\n", stage, o->out_dir);
    else fprintf(stderr, "%s: stopped; continue with: r1 train %s --out %s --resume\n", stage, stage, o->out_dir);
    return cli_interrupted ? 130 : 0;
}

static int cmd_pretrain(int argc, char **argv) {
    r1_pretrain_config cfg = r1_pretrain_default_config();
    lm_options o = {.stage = "train pretrain",
                    .run = {.out_dir = "runs/pretrain", .checkpoint_every = 100, .interrupted = &cli_interrupted}};
    const struct {
        const char *option;
        double *share;
    } shares[] = {{"--countdown-share", &cfg.data.countdown_share},
                  {"--chain-share", &cfg.data.chain_share},
                  {"--small-share", &cfg.data.small_share},
                  {"--small-countdown-share", &cfg.data.small_countdown_share},
                  {"--all-small-countdown-share", &cfg.data.all_small_countdown_share},
                  {"--hasty-share", &cfg.data.trace.hasty_share}};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v;
        if (cli_is_help(arg)) return printf("%s%s%s", pretrain_usage, lm_usage, size_usage), 0;
        int taken = lm_option(argc, argv, &i, &cfg, &o);
        if (taken < 0) return 1;
        if (taken) continue;
        size_t k = 0;
        while (k < sizeof shares / sizeof shares[0] && strcmp(arg, shares[k].option)) k++;
        if (k == sizeof shares / sizeof shares[0])
            return cli_error("train pretrain: unknown option '%s' (see r1 train pretrain --help)", arg);
        float share;
        if (!(v = cli_value(argc, argv, &i)) || cli_parse_float(arg, v, &share) != R1_OK) return 1;
        *shares[k].share = share;
        o.setting = arg;
    }
    if (lm_options_finish(&cfg, &o) != R1_OK) return 1;
    r1_pretrain_result res;
    r1_err err;
    if (r1_pretrain(&cfg, &o.run, &res, &err) != R1_OK) return cli_error("%s", err.msg);
    return lm_report("pretrain", &o.run, &res);
}

static void report_traces(const r1_sft_result *res) {
    if (res->n_too_long)
        fprintf(stderr, "sft: %zu of %zu traces are longer than seq %d tokens and were left out\n", res->n_too_long,
                res->n_traces, res->seq_len);
}

static int cmd_sft(int argc, char **argv) {
    r1_sft_config cfg = r1_sft_default_config();
    cfg.base.opt.lr = 2e-3f; /* from scratch; 3e-4 with --init */
    lm_options o = {.stage = "train sft",
                    .run = {.out_dir = "runs/sft", .checkpoint_every = 100, .interrupted = &cli_interrupted}};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (cli_is_help(arg)) return printf("%s%s%s", sft_usage, lm_usage, size_usage), 0;
        int taken = lm_option(argc, argv, &i, &cfg.base, &o);
        if (taken < 0) return 1;
        if (taken) continue;
        if (strcmp(arg, "--data"))
            return cli_error("train sft: unknown option '%s' (see r1 train sft --help)", arg);
        if (path_value(argc, argv, &i, cfg.traces, sizeof cfg.traces) != R1_OK) return 1;
        o.setting = arg;
    }
    if (!o.run.resume && !cfg.traces[0])
        return cli_error("train sft: --data TRACES.jsonl is required (`r1 sample` writes such a file)");
    if (lm_options_finish(&cfg.base, &o) != R1_OK) return 1;
    r1_sft_result res;
    r1_err err;
    if (r1_sft(&cfg, &o.run, &res, &err) != R1_OK) return cli_error("%s", err.msg);
    report_traces(&res);
    return lm_report("sft", &o.run, &res.run);
}

static int cmd_distill(int argc, char **argv) {
    r1_distill_config cfg = r1_distill_default_config();
    lm_options o = {.stage = "train distill",
                    .run = {.out_dir = "runs/distill", .checkpoint_every = 100, .interrupted = &cli_interrupted}};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v;
        long n;
        float x;
        if (cli_is_help(arg)) return printf("%s%s%s", distill_usage, lm_usage, size_usage), 0;
        int taken = lm_option(argc, argv, &i, &cfg.student.base, &o);
        if (taken < 0) return 1;
        if (taken) {
            if (!strcmp(arg, "--seed")) cfg.seed = cfg.student.base.data.seed;
            continue;
        }
        o.setting = arg;
        struct { const char *flag; int *field; long min, max; } ints[] = {
            {"--n", &cfg.n, 1, 1 << 24}, {"--k", &cfg.k, 1, 1024}, {"--max-tokens", &cfg.max_tokens, 1, 1 << 24},
        };
        int matched = 0;
        for (size_t k = 0; k < sizeof ints / sizeof ints[0] && !matched; k++)
            if (!strcmp(arg, ints[k].flag)) {
                if (!(v = cli_value(argc, argv, &i)) || cli_parse_long(arg, v, ints[k].min, ints[k].max, &n) != R1_OK)
                    return 1;
                *ints[k].field = (int)n, matched = 1;
            }
        if (matched) continue;
        if (!strcmp(arg, "--temp") || !strcmp(arg, "--top-p")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_parse_float(arg, v, &x) != R1_OK) return 1;
            *(!strcmp(arg, "--temp") ? &cfg.temperature : &cfg.top_p) = x;
        } else if (!strcmp(arg, "--teacher") || !strcmp(arg, "--task")) {
            char *field = !strcmp(arg, "--teacher") ? cfg.teacher : cfg.task;
            size_t size = field == cfg.task ? sizeof cfg.task : sizeof cfg.teacher;
            if (path_value(argc, argv, &i, field, size) != R1_OK) return 1;
        } else return cli_error("train distill: unknown option '%s' (see r1 train distill --help)", arg);
    }
    if (!o.run.resume && !cfg.teacher[0]) return cli_error("train distill: --teacher MODEL.gguf is required");
    if (lm_options_finish(&cfg.student.base, &o) != R1_OK) return 1;
    cfg.threads = o.run.threads; /* -t (lm_option's) serves the teacher's sampling too */
    r1_distill_result res;
    r1_err err;
    if (r1_distill(&cfg, &o.run, &res, &err) != R1_OK) return cli_error("%s", err.msg);
    if (res.sampled)
        fprintf(stderr, "distill: the teacher answered %ld of %ld samples correctly (%ld problems, %.1f s)\n",
                res.sample.correct, res.sample.samples, res.sample.problems, res.sample.seconds);
    if (res.sample.interrupted) {
        fprintf(stderr, "distill: stopped while sampling; continue with: r1 train distill --out %s --resume\n",
                o.run.out_dir);
        return 130;
    }
    report_traces(&res.sft);
    return lm_report("distill", &o.run, &res.sft.run);
}

static const char *grpo_usage =
    "usage: r1 train grpo --init RUN_DIR --out DIR [--steps N] [--prompts P] [--group G] [--lr X]\n"
    "                     [--beta B] [--eps E] [--variant grpo|dr-grpo|dapo] [--max-tokens M]\n"
    "                     [--ppo-epochs E] [--warmup N] [--eval-every N] [--task T] [--resume]\n"
    "R1-Zero: samples G completions of P training problems per step from the current policy\n"
    "(read in place by the engine), rewards them by rule (1 correct, 0.1 well-formed), and\n"
    "takes clipped policy-gradient steps with group-normalised advantages and a k3 KL penalty\n"
    "to the starting model. DIR receives config.txt, vocab.gguf, checkpoint.gguf, metrics.csv\n"
    "(reward, accuracy, length, reflect = \"wait\"/\"check\" per completion, false_step = share\n"
    "of Countdown samples with a false step, backtrack = candidates ruled out (\". No.\") per\n"
    "completion, kl, clip_fraction, dropped_groups, test_accuracy, ...), reward.svg,\n"
    "accuracy.svg, length.svg, reflect.svg, false_step.svg, backtrack.svg\n"
    "and, at the end, model.gguf. Ctrl-C saves a checkpoint and stops.\n"
    "  --init PATH             the start: a pretrain/sft/grpo run directory, its\n"
    "                          checkpoint.gguf, or a model.gguf `r1 train` exported\n"
    "  --out DIR               run directory (default runs/grpo)\n"
    "  --resume                continue DIR's run with its saved settings (-t may differ)\n"
    "  --steps N               sampling steps (default 200)\n"
    "  --prompts P             problems per step (default 8)\n"
    "  --group G               samples per problem (default 8, at least 2)\n"
    "  --max-tokens M          completion tokens at most (default 256)\n"
    "  --temp X                sampling temperature (default 1.0)\n"
    "  --lr X                  learning rate after warm-up (default 1e-5)\n"
    "  --warmup N              linear warm-up steps of the learning rate (default 0)\n"
    "  --lr-min X              cosine decay from lr to X over the steps after warm-up\n"
    "                          (default: lr, a constant rate)\n"
    "  --ppo-epochs E          passes over each sampled batch (default 1: one step per batch)\n"
    "  --minibatches K         optimizer steps per pass, each on 1/K of the batch (default 1)\n"
    "  --beta B                KL coefficient, 0 = no reference model (default 0.04)\n"
    "  --eps E                 clip range of the ratio (default 0.2)\n"
    "  --eps-high E            dapo's upper clip range (default 0.28)\n"
    "  --bias-gamma G          speed of the experts' routing-bias update (default 0: the\n"
    "                          routing pretraining balanced stays as it is)\n"
    "  --format-reward X       reward of a well-formed wrong answer (default 0.1; 0 does not\n"
    "                          pay a model for ending its search early with a guess)\n"
    "  --variant V             grpo | dr-grpo | dapo (default grpo); dapo drops groups whose\n"
    "                          rewards are all equal and draws more problems in their place\n"
    "  --max-extra N           dapo: problems drawn at most beyond P per step (default 16)\n"
    "  --credit C              outcome | steps (default outcome: every token carries its\n"
    "                          sample's advantage); steps checks each Countdown line by rule\n"
    "                          and gives a wrong answer's blame to its first false step only,\n"
    "                          and a right answer's credit to all but that step (a process\n"
    "                          signal, a departure from R1-Zero; arithmetic keeps outcome)\n"
    "  --task T                countdown | arithmetic | mix (default mix)\n"
    "  --eval-every N          greedy pass@1 on held-out problems every N steps, before the\n"
    "                          first and after the last (default 0: never)\n"
    "  --eval-n M              held-out problems per evaluation (default 100; the first M of\n"
    "                          the test split, as `r1 eval --task T --n M --temp 0` poses them)\n"
    "  --seed S                problems and sampling seed (default 1)\n"
    "  --precision P           f32 (default) or bf16: the update's projection and FFN\n"
    "                          products take bfloat16 operands with float sums; sampling\n"
    "                          stays float, so the PPO ratio also carries bf16's rounding\n"
    "                          (~1e-3, inside the clip range)\n"
    "  -t, --threads N         threads for sampling and training (default: all cores)\n"
    "  --checkpoint-every N    steps between checkpoints (default 10; 0: only at the end)\n"
    "  --quiet                 no progress bar\n";

static int cmd_grpo(int argc, char **argv) {
    r1_grpo_config cfg = r1_grpo_default_config();
    r1_grpo_options opts = {.out_dir = "runs/grpo", .checkpoint_every = 10, .interrupted = &cli_interrupted};
    const char *setting = NULL;
    int lr_min_given = 0;
    r1_err err;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v;
        long n;
        float x;
        if (cli_is_help(arg)) return fputs(grpo_usage, stdout), 0;
        if (!strcmp(arg, "--out") || !strcmp(arg, "--init")) {
            if (!(v = cli_value(argc, argv, &i))) return 1;
            if (!strcmp(arg, "--out")) opts.out_dir = v;
            else opts.init = v, setting = arg;
            continue;
        }
        if (!strcmp(arg, "--resume")) { opts.resume = 1; continue; }
        if (!strcmp(arg, "--quiet")) { opts.quiet = 1; continue; }
        if (!strcmp(arg, "--checkpoint-every")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_parse_long(arg, v, 0, INT_MAX, &n) != R1_OK) return 1;
            opts.checkpoint_every = (int)n;
            continue;
        }
        /* threads change how fast, not what: allowed with --resume (build() keeps them) */
        if (strcmp(arg, "-t") && strcmp(arg, "--threads")) setting = arg;
        struct { const char *flag; int *field; long min, max; } ints[] = {
            {"--steps", &cfg.steps, 1, INT_MAX},       {"--prompts", &cfg.prompts, 1, 4096},
            {"--group", &cfg.group, 2, 4096},          {"--max-tokens", &cfg.max_tokens, 1, 1 << 20},
            {"--threads", &cfg.threads, 1, 1024},     {"-t", &cfg.threads, 1, 1024},
            {"--ppo-epochs", &cfg.ppo_epochs, 1, 1024},
            {"--minibatches", &cfg.minibatches, 1, 65536}, {"--max-extra", &cfg.max_extra, 0, 65536},
            {"--warmup", &cfg.warmup, 0, INT_MAX},     {"--eval-every", &cfg.eval_every, 0, INT_MAX},
            {"--eval-n", &cfg.eval_n, 1, 1 << 20},
        };
        struct { const char *flag; float *field; } floats[] = {
            {"--lr", &cfg.lr}, {"--beta", &cfg.beta}, {"--eps", &cfg.eps}, {"--eps-high", &cfg.eps_high},
            {"--temp", &cfg.temperature}, {"--lr-min", &cfg.lr_min}, {"--bias-gamma", &cfg.bias_gamma},
            {"--format-reward", &cfg.format_reward},
        };
        int matched = 0;
        for (size_t k = 0; k < sizeof ints / sizeof ints[0] && !matched; k++)
            if (!strcmp(arg, ints[k].flag)) {
                if (!(v = cli_value(argc, argv, &i)) || cli_parse_long(arg, v, ints[k].min, ints[k].max, &n) != R1_OK)
                    return 1;
                *ints[k].field = (int)n, matched = 1;
            }
        for (size_t k = 0; k < sizeof floats / sizeof floats[0] && !matched; k++)
            if (!strcmp(arg, floats[k].flag)) {
                if (!(v = cli_value(argc, argv, &i)) || cli_parse_float(arg, v, &x) != R1_OK) return 1;
                *floats[k].field = x, matched = 1;
                lr_min_given |= floats[k].field == &cfg.lr_min;
            }
        if (matched) continue;
        if (!strcmp(arg, "--variant") || !strcmp(arg, "--task") || !strcmp(arg, "--credit")) {
            if (!(v = cli_value(argc, argv, &i))) return 1;
            int rc = !strcmp(arg, "--variant") ? r1_grpo_variant_by_name(v, &cfg.variant, &err)
                     : !strcmp(arg, "--task")  ? r1_grpo_task_by_name(v, &cfg.task, &err)
                                               : r1_grpo_credit_by_name(v, &cfg.credit, &err);
            if (rc != R1_OK) return cli_error("train grpo: %s: %s", arg, err.msg);
        } else if (!strcmp(arg, "--seed")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_parse_long(arg, v, 0, LONG_MAX, &n) != R1_OK) return 1;
            cfg.seed = (uint64_t)n;
        } else if (!strcmp(arg, "--precision")) {
            if (!(v = cli_value(argc, argv, &i)) || precision_option("train grpo", v, &cfg.base)) return 1;
        } else return cli_error("train grpo: unknown option '%s' (see r1 train grpo --help)", arg);
    }
    if (opts.resume && setting)
        return cli_error("train grpo: --resume takes the settings from %s/checkpoint.gguf; drop %s", opts.out_dir,
                         setting);
    if (!opts.resume && !opts.init)
        return cli_error("train grpo: --init RUN_DIR is required (a `r1 train pretrain` run directory)");
    if (!lr_min_given) cfg.lr_min = cfg.lr;

    cli_catch_interrupts();
    r1_grpo_result res;
    if (r1_grpo(&cfg, &opts, &res, &err) != R1_OK) return cli_error("%s", err.msg);
    if (res.was_finished) {
        fprintf(stderr, "r1: %s: the run is already finished (%llu/%llu steps); model in %s/model.gguf\n",
                opts.out_dir, (unsigned long long)res.steps_done, (unsigned long long)res.total_steps, opts.out_dir);
        return 0;
    }
    if (res.steps_done > res.start_step) /* a stop before the first step has no rewards to show */
        fprintf(stderr, "grpo: %llu/%llu steps, reward %.3f -> %.3f, accuracy %.3f, length %.0f, %.1f s\n",
                (unsigned long long)res.steps_done, (unsigned long long)res.total_steps, res.first_reward,
                res.last_reward, res.last_accuracy, res.last_length, res.seconds);
    if (!isnan(res.last_test_accuracy))
        fprintf(stderr, "grpo: held-out accuracy (greedy pass@1) %.3f -> %.3f\n", res.first_test_accuracy,
                res.last_test_accuracy);
    if (res.finished) fprintf(stderr, "grpo: wrote %s/model.gguf\n", opts.out_dir);
    else fprintf(stderr, "grpo: stopped; continue with: r1 train grpo --out %s --resume\n", opts.out_dir);
    return cli_interrupted ? 130 : 0;
}

static const char *bench_usage =
    "usage: r1 train bench [--batch B] [--seq T] [--precision P] [--set KEY=VALUE ...]\n"
    "                      [-t THREADS] [-r REPS]\n"
    "Times training steps of the pretraining model (zero_grad, forward, backward, gradient\n"
    "clipping, AdamW) on fixed random tokens: one warm-up step, then REPS steps, and prints\n"
    "  train <params>M B<B>xT<T> t<threads> <f32|bf16> <best tokens/s> (median <tokens/s>)\n"
    "        fwd/bwd/opt <s>/<s>/<s>\n"
    "  --batch B               sequences per step (default 8)\n"
    "  --seq T                 tokens per sequence (default 512)\n"
    "  --precision P           f32 (default) or bf16: the projections' and FFNs' products\n"
    "                          take bfloat16 operands with float sums (about 1.3x faster\n"
    "                          steps where the CPU has AVX512_BF16, much slower elsewhere)\n"
    "  --set KEY=VALUE         a model setting by its config.txt name (e.g. --set layers=6)\n"
    "  -t THREADS              threads (default and 0: one per core)\n"
    "  -r REPS                 timed steps (default 5)\n";

static int cmd_train_bench(int argc, char **argv) {
    r1_pretrain_config cfg = r1_pretrain_default_config();
    long threads = 0, reps = 5, n;
    r1_err err;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v;
        if (cli_is_help(arg)) return fputs(bench_usage, stdout), 0;
        if (!(v = cli_option_value(argc, argv, &i, "train bench", "--batch --seq -t -r --precision --set"))) return 1;
        int rc = R1_OK;
        if (!strcmp(arg, "--batch") || !strcmp(arg, "--seq")) {
            rc = cli_parse_long(arg, v, 1, 65536, &n);
            *(!strcmp(arg, "--batch") ? &cfg.model.batch : &cfg.model.seq_len) = (int)n;
        } else if (!strcmp(arg, "-t")) rc = cli_parse_long(arg, v, 0, 256, &threads);
        else if (!strcmp(arg, "-r")) rc = cli_parse_long(arg, v, 1, 1000, &reps);
        else if (!strcmp(arg, "--precision")) {
            if (precision_option("train bench", v, &cfg)) return 1;
        } else if (!strcmp(arg, "--set")) {
            if (r1_pretrain_config_set(&cfg, v, &err) != R1_OK) return cli_error("train bench: --set: %s", err.msg);
        } else return cli_error("train bench: unknown option '%s' (see r1 train bench --help)", arg);
        if (rc != R1_OK) return 1;
    }
    r1_train_bench_result res;
    if (r1_train_bench(&cfg, (int)threads, (int)reps, &res, &err) != R1_OK) return cli_error("%s", err.msg);
    printf("train %.2fM B%dxT%d t%d %s %.0f tokens/s (median %.0f) fwd/bwd/opt %.3f/%.3f/%.3f s\n",
           res.n_params / 1e6, cfg.model.batch, cfg.model.seq_len, res.threads,
           cfg.model.precision == R1_LINEAR_BF16 ? "bf16" : "f32", res.best_tokens_per_s, res.median_tokens_per_s,
           res.forward_s, res.backward_s, res.optimizer_s);
    return 0;
}

int cmd_train(int argc, char **argv) {
    if (argc < 2) return fputs(train_usage, stderr), 1;
    if (cli_is_help(argv[1])) return fputs(train_usage, stdout), 0;
    if (!strcmp(argv[1], "pretrain")) return cmd_pretrain(argc - 1, argv + 1);
    if (!strcmp(argv[1], "grpo")) return cmd_grpo(argc - 1, argv + 1);
    if (!strcmp(argv[1], "sft")) return cmd_sft(argc - 1, argv + 1);
    if (!strcmp(argv[1], "distill")) return cmd_distill(argc - 1, argv + 1);
    if (!strcmp(argv[1], "bench")) return cmd_train_bench(argc - 1, argv + 1);
    return cli_error("train: unknown stage '%s' (r1 train --help lists them)", argv[1]);
}
