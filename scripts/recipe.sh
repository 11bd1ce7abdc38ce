#!/bin/sh
# The R1 recipe end to end on Countdown, in one command (`make recipe`), sized for an
# hour on 2 cores: a careful base model pretrained on solver traces, the same base
# made hasty, R1-Zero (GRPO with the rule-based reward) on the hasty base, and a
# smaller student that learns from the RL model's correct answers (distillation)
# against the same student trained by GRPO directly (DeepSeek-R1 §2.2, §2.4, §4.1).
# Every stage is an `r1` command printed before it runs; the scores are greedy
# pass@1 on the first 1000 held-out problems and maj@8 on the first 200, written to
# DIR/summary.md at the end. An interrupted run continues where it stopped when the
# same command is given again (finished stages are kept, the unfinished one resumes
# from its checkpoint). RESULTS.md ("The recipe in one command") has a measured run.
# shellcheck disable=SC2086 # the option strings below are split into words on purpose
set -eu

usage() {
    cat <<'EOF'
usage: scripts/recipe.sh [--out DIR] [-t THREADS] [--quick]
Runs the R1 recipe on Countdown from random weights (about an hour on 2 cores):
  base      careful base, 1.65M parameters, pretrained on solver search traces
  hasty     the base fine-tuned on traces that mostly guess at once, without a search
  zero      R1-Zero: GRPO on the hasty base (rule-based reward, no supervision)
  student   the student's base, 0.53M parameters, pretrained as the base was
  distill   the student fine-tuned on the R1-Zero model's correct answers
  direct    the student trained by the same GRPO directly
then scores each (greedy pass@1 on 1000 held-out problems, maj@8 on 200) into
DIR/summary.md. Given again, it keeps the finished stages and resumes the rest
(so a DIR begun by an earlier version keeps that version's stages: use a new one).
  --out DIR      run directory (default runs/recipe, with --quick runs/recipe-quick)
  -t THREADS     threads (default 2)
  --quick        a few steps of every stage (a minute), with the default model
                 (models/r1-tiny.gguf) as the teacher: checks that the pipeline
                 runs; the scores mean nothing
  R1=PATH        the r1 binary (default ./r1)
EOF
}

out='' threads=2 quick=0
while [ $# -gt 0 ]; do
    case $1 in
    --out) [ $# -ge 2 ] || { echo "recipe: --out needs a directory" >&2; exit 2; }; out=$2; shift 2 ;;
    -t) [ $# -ge 2 ] || { echo "recipe: -t needs a thread count" >&2; exit 2; }; threads=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "recipe: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case $threads in '' | *[!0-9]* | 0) echo "recipe: -t '$threads' is not a positive thread count" >&2; exit 2 ;; esac
R1=${R1:-./r1}
[ -x "$R1" ] || { echo "recipe: no r1 binary at $R1 (run make, or set R1=PATH)" >&2; exit 2; }
[ -n "$out" ] || { [ $quick = 1 ] && out=runs/recipe-quick || out=runs/recipe; }
mkdir -p "$out"
# a directory keeps the stages of one scale: a quick run's models are no full run's
mode=$([ $quick = 1 ] && echo quick || echo full)
if [ -f "$out/recipe.mode" ] && [ "$(cat "$out/recipe.mode")" != $mode ]; then
    echo "recipe: $out holds a $(cat "$out/recipe.mode") run; this one is $mode: choose another --out" >&2
    exit 2
fi
echo $mode >"$out/recipe.mode"

# The sizes and steps. The base is the Countdown student of RESULTS.md (sb); the
# student is `r1 train distill`'s default shape.
BASE="--set dim=192 --set layers=3 --set ffn_dim=576 --set q_lora_rank=64 --set kv_lora_rank=48 --set expert_ffn=96"
STUDENT="--set dim=128 --set layers=2 --set ffn_dim=384 --set q_lora_rank=48 --set kv_lora_rank=32 --set expert_ffn=64"
MIX="--countdown-share 0.7 --chain-share 0.3"
if [ $quick = 1 ]; then
    base_steps=20 hasty_steps=10 student_steps=20 grpo="--steps 2 --warmup 0 --prompts 2 --group 4 --max-tokens 64 --eval-every 1 --eval-n 4"
    distill="--n 8 --k 2 --max-tokens 200 --steps 4" n_eval=6 n_vote=3 eval_tokens=64
    # a few steps teach nothing, so the default model stands in as the teacher
    teacher=$(dirname "$0")/../models/r1-tiny.gguf teacher_name="the default model's"
else
    base_steps=7000 hasty_steps=1000 student_steps=3000
    grpo="--steps 100 --warmup 5 --prompts 16 --group 8 --max-tokens 480 --eval-every 25 --eval-n 100"
    distill="--n 1000 --k 4 --max-tokens 480 --steps 500" n_eval=1000 n_vote=200 eval_tokens=480
    teacher=$out/zero/model.gguf teacher_name="the R1-Zero model's"
fi
GRPO="--task countdown --variant grpo $grpo --temp 0.7 --lr 3e-5 --beta 0 --format-reward 0 \
--ppo-epochs 1 --seed 5"

now() { date +%s; }
start=$(now)

# stage NAME KIND ARGS...: `r1 train KIND --out DIR/NAME ARGS` unless DIR/NAME/done
# says it finished; a started run (its checkpoint.gguf exists) resumes instead.
stage() {
    name=$1 kind=$2
    shift 2
    dir=$out/$name
    if [ -f "$dir/done" ]; then
        echo "== $name: done before ($(cat "$dir/done") s), kept"
        return
    fi
    t0=$(now)
    if [ -f "$dir/checkpoint.gguf" ] || [ -f "$dir/distill.txt" ]; then
        echo "== $name: resuming: $R1 train $kind --out $dir --resume -t $threads"
        "$R1" train "$kind" --out "$dir" --resume -t "$threads"
    else
        echo "== $name: $R1 train $kind --out $dir $* -t $threads"
        "$R1" train "$kind" --out "$dir" "$@" -t "$threads"
    fi
    echo $(($(now) - t0)) >"$dir/done"
}

stage base pretrain --steps $base_steps --batch 8 --lr 3e-3 --warmup 100 --seed 1 $MIX $BASE
stage hasty pretrain --init "$out/base" --steps $hasty_steps --batch 8 --lr 5e-4 --warmup 50 --seed 6 \
    --countdown-share 0.8 --chain-share 0.3 --hasty-share 0.8 --set trace_hasty_lines=0
stage zero grpo --init "$out/hasty" $GRPO
stage student pretrain --steps $student_steps --batch 8 --lr 3e-3 --warmup 100 --seed 1 $MIX $STUDENT
stage distill distill --teacher "$teacher" --init "$out/student" --task countdown $distill \
    --lr 3e-4 --seed 2
stage direct grpo --init "$out/student" $GRPO

# score NAME [K]: greedy pass@1 of DIR/NAME's model on n_eval problems, or with K
# the majority of K samples at T 0.7 on n_vote, as a percentage.
score() {
    if [ $# -eq 2 ]; then
        key=maj@$2 opts="--n $n_vote --k $2 --temp 0.7"
    else
        key=pass@1 opts="--n $n_eval --temp 0"
    fi
    value=$("$R1" eval -m "$out/$1/model.gguf" --task countdown --max-tokens $eval_tokens -t "$threads" $opts |
        awk -v key="$key" '$1 == key { printf "%.1f %%", 100 * $2 }')
    [ -n "$value" ] || { echo "recipe: r1 eval printed no $key for $out/$1/model.gguf" >&2; return 1; }
    echo "$value"
}
minutes() { awk -v s="$(cat "$out/$1/done")" 'BEGIN { printf "%.1f", s / 60 }'; }

echo "== scoring: greedy pass@1 on $n_eval held-out problems, maj@8 on $n_vote"
t0=$(now)
# one assignment a line: set -e sees only the last substitution of a line
base=$(score base)
hasty=$(score hasty)
zero=$(score zero)
student=$(score student)
distilled=$(score distill)
direct=$(score direct)
hasty8=$(score hasty 8)
zero8=$(score zero 8)
scoring=$(($(now) - t0))
gain() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f", b - a }'; }
summary=$out/summary.md
{
    echo "# The R1 recipe on Countdown ($(date -u '+%Y-%m-%d %H:%M'), $threads threads)"
    echo
    echo "| stage | what | minutes | greedy pass@1 (n $n_eval) | maj@8 (T 0.7, n $n_vote) |"
    echo "|---|---|---|---|---|"
    echo "| base | careful base, 1.65M parameters, $base_steps steps of solver traces | $(minutes base) | $base | |"
    echo "| hasty | the base + $hasty_steps steps, 80 % of its Countdown traces a guess without a search | $(minutes hasty) | $hasty | $hasty8 |"
    echo "| zero | R1-Zero: GRPO on the hasty base | $(minutes zero) | $zero | $zero8 |"
    echo "| student | the student's base, 0.53M parameters, $student_steps steps | $(minutes student) | $student | |"
    echo "| distill | the student + $teacher_name correct answers | $(minutes distill) | $distilled | |"
    echo "| direct | the student + the same GRPO directly | $(minutes direct) | $direct | |"
    echo
    echo "- R1-Zero: $(gain "$hasty" "$zero") points greedy, $(gain "$hasty8" "$zero8") by maj@8;" \
        "against the careful base it started from, $(gain "$base" "$zero") greedy."
    echo "- Distillation against GRPO on the student: $(gain "$direct" "$distilled") points."
    echo "- Scoring took $(awk -v s=$scoring 'BEGIN { printf "%.1f", s / 60 }') minutes; this invocation" \
        "$(awk -v s=$(($(now) - start)) 'BEGIN { printf "%.1f", s / 60 }') minutes in all."
    echo "- GRPO's reward, response length and reflective words per step: $out/zero/metrics.csv and its plots."
} >"$summary.tmp"
mv "$summary.tmp" "$summary"
cat "$summary"
