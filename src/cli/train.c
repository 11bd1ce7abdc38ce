/* r1 train <stage>: the training recipe of DESIGN §6, one subcommand per stage
 * (the work is in src/train/). */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "train/grpo.h"
#include "train/pretrain.h"
#include "train/train_bench.h"

static const char *train_usage =
    "usage: r1 train <stage> [options]     (r1 train <stage> --help for its options)\n"
    "The DeepSeek-R1 recipe on a tiny deepseek2 model (DESIGN §6).\n"
    "stages:\n"
    "  pretrain   next-token training on solver search traces: the base model\n"
    "  grpo       reinforcement learning with rule-based rewards (R1-Zero)\n"
    "  bench      the trainer's speed: tokens/s of forward + backward + AdamW\n"
    "  sft        cold-start fine-tuning on rejection-sampled traces        [not yet implemented]\n"
    "  distill    teacher traces into a smaller student                     [not yet implemented]\n";

static const char *pretrain_usage =
    "usage: r1 train pretrain [--out DIR] [--steps N] [--batch B] [--seq T] [--lr X] [--seed S]\n"
    "                         [--dim D --layers L ...] [--checkpoint-every N] [--resume]\n"
    "Trains the tiny deepseek2 model on synthetic search traces (Countdown and arithmetic:\n"
    "try, check, backtrack, answer) on all cores. DIR receives config.txt, vocab.gguf,\n"
    "checkpoint.gguf (atomic, every N steps and at the end), metrics.csv, loss.svg and, at\n"
    "the end, model.gguf for `r1 run -m DIR/model.gguf`. Ctrl-C saves a checkpoint and stops.\n"
    "  --out DIR               run directory (default runs/pretrain)\n"
    "  --resume                continue DIR's run with its saved settings (training options\n"
    "                          are not accepted then); a finished run is left as it is\n"
    "  --steps N               optimizer steps (default 2000)\n"
    "  --batch B               sequences per step (default 8)\n"
    "  --seq T                 tokens per sequence (default 512; traces are ~150-450 bytes)\n"
    "  --lr X                  peak learning rate (default 2e-3)\n"
    "  --lr-min X              end of the cosine decay (default lr/10)\n"
    "  --warmup N              linear warm-up steps (default 100, at most steps/10)\n"
    "  --seed S                data and initialisation seed (default 1)\n"
    "  --dim D                 model width (default 256)\n"
    "  --layers L              layers (default 4, the first dense)\n"
    "  --heads H               attention heads (default 4)\n"
    "  --experts E             routed experts (default 8)\n"
    "  --top-k K               experts per token (default 2)\n"
    "  --countdown-share X     share of Countdown problems, the rest arithmetic (default 0.5)\n"
    "  --set KEY=VALUE         any other setting by its config.txt name (e.g. --set ffn_dim=512)\n"
    "  --checkpoint-every N    steps between checkpoints (default 100; 0: only at the end)\n"
    "  --log-every N           steps between metrics rows (default 1)\n"
    "  --quiet                 no progress bar\n";

static volatile sig_atomic_t interrupted;
static void on_interrupt(int sig) {
    (void)sig;
    interrupted = 1;
}

static int cmd_pretrain(int argc, char **argv) {
    r1_pretrain_config cfg = r1_pretrain_default_config();
    r1_pretrain_options opts = {.out_dir = "runs/pretrain", .checkpoint_every = 100, .interrupted = &interrupted};
    const char *setting = NULL; /* a training option given, refused with --resume */
    int lr_min_given = 0, warmup_given = 0;
    r1_err err;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v;
        long n;
        float x;
        if (cli_is_help(arg)) return fputs(pretrain_usage, stdout), 0;
        if (!strcmp(arg, "--out")) {
            if (!(opts.out_dir = cli_value(argc, argv, &i))) return 1;
            continue;
        }
        if (!strcmp(arg, "--resume")) { opts.resume = 1; continue; }
        if (!strcmp(arg, "--quiet")) { opts.quiet = 1; continue; }
        if (!strcmp(arg, "--checkpoint-every")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_parse_long(arg, v, 0, INT_MAX, &n) != R1_OK) return 1;
            opts.checkpoint_every = (int)n;
            continue;
        }
        /* the rest are training settings */
        setting = arg;
        struct { const char *flag; int *field; long min, max; } ints[] = {
            {"--steps", &cfg.steps, 1, INT_MAX},         {"--batch", &cfg.model.batch, 1, 4096},
            {"--seq", &cfg.model.seq_len, 8, 65536},     {"--dim", &cfg.model.dim, 1, 65536},
            {"--layers", &cfg.model.n_layers, 1, 1024},  {"--heads", &cfg.model.n_heads, 1, 1024},
            {"--experts", &cfg.model.n_experts, 1, 256}, {"--top-k", &cfg.model.top_k, 1, 256},
            {"--warmup", &cfg.warmup, 0, INT_MAX},       {"--log-every", &cfg.log_every, 1, INT_MAX},
        };
        int matched = 0;
        for (size_t k = 0; k < sizeof ints / sizeof ints[0] && !matched; k++)
            if (!strcmp(arg, ints[k].flag)) {
                if (!(v = cli_value(argc, argv, &i)) || cli_parse_long(arg, v, ints[k].min, ints[k].max, &n) != R1_OK)
                    return 1;
                *ints[k].field = (int)n;
                warmup_given |= ints[k].field == &cfg.warmup;
                matched = 1;
            }
        if (matched) continue;
        if (!strcmp(arg, "--lr") || !strcmp(arg, "--lr-min") || !strcmp(arg, "--countdown-share")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_parse_float(arg, v, &x) != R1_OK) return 1;
            if (!strcmp(arg, "--lr")) cfg.opt.lr = x;
            else if (!strcmp(arg, "--lr-min")) cfg.lr_min = x, lr_min_given = 1;
            else cfg.data.countdown_share = x;
        } else if (!strcmp(arg, "--seed")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_parse_long(arg, v, 0, LONG_MAX, &n) != R1_OK) return 1;
            cfg.data.seed = (uint64_t)n;
        } else if (!strcmp(arg, "--set")) {
            if (!(v = cli_value(argc, argv, &i))) return 1;
            if (r1_pretrain_config_set(&cfg, v, &err) != R1_OK) return cli_error("train pretrain: --set: %s", err.msg);
            lr_min_given |= !strncmp(v, "lr_min=", 7);
            warmup_given |= !strncmp(v, "warmup=", 7);
        } else return cli_error("train pretrain: unknown option '%s' (see r1 train pretrain --help)", arg);
    }
    if (opts.resume && setting)
        return cli_error("train pretrain: --resume takes the settings from %s/checkpoint.gguf; drop %s", opts.out_dir,
                         setting);
    if (!lr_min_given) cfg.lr_min = cfg.opt.lr / 10;
    if (!warmup_given && cfg.warmup > cfg.steps / 10) cfg.warmup = cfg.steps / 10;

    struct sigaction sa = {.sa_handler = on_interrupt};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    r1_pretrain_result res;
    if (r1_pretrain(&cfg, &opts, &res, &err) != R1_OK) return cli_error("%s", err.msg);
    if (res.was_finished) {
        fprintf(stderr, "r1: %s: the run is already finished (%llu/%llu steps); model in %s/model.gguf\n",
                opts.out_dir, (unsigned long long)res.steps_done, (unsigned long long)res.total_steps, opts.out_dir);
        return 0;
    }
    fprintf(stderr, "pretrain: %llu/%llu steps, %.2fM params, loss %.4f -> %.4f, %.0f tokens/s, %.1f s\n",
            (unsigned long long)res.steps_done, (unsigned long long)res.total_steps, res.n_params / 1e6,
            res.first_loss, res.last_loss, res.tokens_per_s, res.seconds);
    if (res.finished) fprintf(stderr, "pretrain: wrote %s/model.gguf\n", opts.out_dir);
    else fprintf(stderr, "pretrain: stopped; continue with: r1 train pretrain --out %s --resume\n", opts.out_dir);
    return interrupted ? 130 : 0;
}

static const char *grpo_usage =
    "usage: r1 train grpo --init RUN_DIR --out DIR [--steps N] [--prompts P] [--group G] [--lr X]\n"
    "                     [--beta B] [--eps E] [--variant grpo|dr-grpo|dapo] [--max-tokens M]\n"
    "                     [--task countdown|arithmetic|mix] [--seed S] [--resume]\n"
    "R1-Zero: samples G completions of P training problems per step from the current policy,\n"
    "rewards them by rule (1 correct, 0.1 well-formed), and takes one clipped policy-gradient\n"
    "step with group-normalised advantages and a k3 KL penalty to the starting model.\n"
    "DIR receives config.txt, vocab.gguf, checkpoint.gguf, metrics.csv (reward, accuracy,\n"
    "length, reflect = \"wait\"/\"check\" per completion, kl, ...), reward.svg, length.svg and,\n"
    "at the end, model.gguf. Ctrl-C saves a checkpoint and stops.\n"
    "  --init PATH             pretrain run directory or checkpoint .gguf to start from\n"
    "  --out DIR               run directory (default runs/grpo)\n"
    "  --resume                continue DIR's run with its saved settings\n"
    "  --steps N               optimizer steps (default 200)\n"
    "  --prompts P             problems per step (default 8)\n"
    "  --group G               samples per problem (default 8, at least 2)\n"
    "  --max-tokens M          completion tokens at most (default 256)\n"
    "  --temp X                sampling temperature (default 1.0)\n"
    "  --lr X                  learning rate, constant (default 1e-5)\n"
    "  --beta B                KL coefficient, 0 = no reference model (default 0.04)\n"
    "  --eps E                 clip range of the ratio (default 0.2)\n"
    "  --eps-high E            dapo's upper clip range (default 0.28)\n"
    "  --variant V             grpo | dr-grpo | dapo (default grpo)\n"
    "  --task T                countdown | arithmetic | mix (default mix)\n"
    "  --seed S                problems and sampling seed (default 1)\n"
    "  --threads N             sampling threads (default 1)\n"
    "  --checkpoint-every N    steps between checkpoints (default 10; 0: only at the end)\n"
    "  --quiet                 no progress bar\n";

static int cmd_grpo(int argc, char **argv) {
    r1_grpo_config cfg = r1_grpo_default_config();
    r1_grpo_options opts = {.out_dir = "runs/grpo", .checkpoint_every = 10, .interrupted = &interrupted};
    const char *setting = NULL;
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
        setting = arg;
        struct { const char *flag; int *field; long min, max; } ints[] = {
            {"--steps", &cfg.steps, 1, INT_MAX},       {"--prompts", &cfg.prompts, 1, 4096},
            {"--group", &cfg.group, 2, 4096},          {"--max-tokens", &cfg.max_tokens, 1, 1 << 20},
            {"--threads", &cfg.threads, 1, 1024},
        };
        struct { const char *flag; float *field; } floats[] = {
            {"--lr", &cfg.lr}, {"--beta", &cfg.beta}, {"--eps", &cfg.eps}, {"--eps-high", &cfg.eps_high},
            {"--temp", &cfg.temperature},
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
            }
        if (matched) continue;
        if (!strcmp(arg, "--variant") || !strcmp(arg, "--task")) {
            if (!(v = cli_value(argc, argv, &i))) return 1;
            int rc = !strcmp(arg, "--variant") ? r1_grpo_variant_by_name(v, &cfg.variant, &err)
                                               : r1_grpo_task_by_name(v, &cfg.task, &err);
            if (rc != R1_OK) return cli_error("train grpo: %s: %s", arg, err.msg);
        } else if (!strcmp(arg, "--seed")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_parse_long(arg, v, 0, LONG_MAX, &n) != R1_OK) return 1;
            cfg.seed = (uint64_t)n;
        } else return cli_error("train grpo: unknown option '%s' (see r1 train grpo --help)", arg);
    }
    if (opts.resume && setting)
        return cli_error("train grpo: --resume takes the settings from %s/checkpoint.gguf; drop %s", opts.out_dir,
                         setting);
    if (!opts.resume && !opts.init)
        return cli_error("train grpo: --init RUN_DIR is required (a `r1 train pretrain` run directory)");

    struct sigaction sa = {.sa_handler = on_interrupt};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    r1_grpo_result res;
    if (r1_grpo(&cfg, &opts, &res, &err) != R1_OK) return cli_error("%s", err.msg);
    if (res.was_finished) {
        fprintf(stderr, "r1: %s: the run is already finished (%llu/%llu steps); model in %s/model.gguf\n",
                opts.out_dir, (unsigned long long)res.steps_done, (unsigned long long)res.total_steps, opts.out_dir);
        return 0;
    }
    fprintf(stderr, "grpo: %llu/%llu steps, reward %.3f -> %.3f, accuracy %.3f, length %.0f, %.1f s\n",
            (unsigned long long)res.steps_done, (unsigned long long)res.total_steps, res.first_reward,
            res.last_reward, res.last_accuracy, res.last_length, res.seconds);
    if (res.finished) fprintf(stderr, "grpo: wrote %s/model.gguf\n", opts.out_dir);
    else fprintf(stderr, "grpo: stopped; continue with: r1 train grpo --out %s --resume\n", opts.out_dir);
    return interrupted ? 130 : 0;
}

static const char *bench_usage =
    "usage: r1 train bench [--batch B] [--seq T] [--set KEY=VALUE ...] [-t THREADS] [-r REPS]\n"
    "Times training steps of the pretraining model (zero_grad, forward, backward, gradient\n"
    "clipping, AdamW) on fixed random tokens: one warm-up step, then REPS steps, and prints\n"
    "  train <params>M B<B>xT<T> t<threads> <best tokens/s> (median <tokens/s>) fwd/bwd/opt <s>/<s>/<s>\n"
    "  --batch B               sequences per step (default 8)\n"
    "  --seq T                 tokens per sequence (default 512)\n"
    "  --set KEY=VALUE         a model setting by its config.txt name (e.g. --set layers=6)\n"
    "  -t THREADS              threads (default: one per core)\n"
    "  -r REPS                 timed steps (default 5)\n";

static int cmd_train_bench(int argc, char **argv) {
    r1_pretrain_config cfg = r1_pretrain_default_config();
    long threads = 0, reps = 5, n;
    r1_err err;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v;
        if (cli_is_help(arg)) return fputs(bench_usage, stdout), 0;
        if (!(v = cli_value(argc, argv, &i))) return 1;
        int rc = R1_OK;
        if (!strcmp(arg, "--batch") || !strcmp(arg, "--seq")) {
            rc = cli_parse_long(arg, v, 1, 65536, &n);
            *(!strcmp(arg, "--batch") ? &cfg.model.batch : &cfg.model.seq_len) = (int)n;
        } else if (!strcmp(arg, "-t")) rc = cli_parse_long(arg, v, 1, 1024, &threads);
        else if (!strcmp(arg, "-r")) rc = cli_parse_long(arg, v, 1, 1000, &reps);
        else if (!strcmp(arg, "--set")) {
            if (r1_pretrain_config_set(&cfg, v, &err) != R1_OK) return cli_error("train bench: --set: %s", err.msg);
        } else return cli_error("train bench: unknown option '%s' (see r1 train bench --help)", arg);
        if (rc != R1_OK) return 1;
    }
    r1_train_bench_result res;
    if (r1_train_bench(&cfg, (int)threads, (int)reps, &res, &err) != R1_OK) return cli_error("%s", err.msg);
    printf("train %.2fM B%dxT%d t%d %.0f tokens/s (median %.0f) fwd/bwd/opt %.3f/%.3f/%.3f s\n", res.n_params / 1e6,
           cfg.model.batch, cfg.model.seq_len, res.threads, res.best_tokens_per_s, res.median_tokens_per_s,
           res.forward_s, res.backward_s, res.optimizer_s);
    return 0;
}

int cmd_train(int argc, char **argv) {
    if (argc < 2) return fputs(train_usage, stderr), 1;
    if (cli_is_help(argv[1])) return fputs(train_usage, stdout), 0;
    if (!strcmp(argv[1], "pretrain")) return cmd_pretrain(argc - 1, argv + 1);
    if (!strcmp(argv[1], "grpo")) return cmd_grpo(argc - 1, argv + 1);
    if (!strcmp(argv[1], "bench")) return cmd_train_bench(argc - 1, argv + 1);
    if (!strcmp(argv[1], "sft") || !strcmp(argv[1], "distill"))
        return cli_error("train %s: not yet implemented (pretrain and grpo exist so far)", argv[1]);
    return cli_error("train: unknown stage '%s' (r1 train --help lists them)", argv[1]);
}
