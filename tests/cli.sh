#!/bin/sh
# End-to-end checks of the r1 command line: help, output formats, and clean
# one-line errors with exit code 1 on bad input.
R1=${R1:-./r1}
TD=${R1_TESTDATA:-../shared/testdata}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0 skipped=0

ok() { passed=$((passed + 1)); echo "ok   cli/$1"; }
fail() { failed=$((failed + 1)); echo "FAIL cli/$1: $2"; }
skip() { skipped=$((skipped + 1)); echo "SKIPPED cli/$1: $2"; }

# expect_error NAME CMD...: exit code 1, exactly one line on stderr, nothing alarming
expect_error() {
    name=$1; shift
    "$@" > "$TMP/out" 2> "$TMP/err"
    rc=$?
    lines=$(wc -l < "$TMP/err")
    if [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] && grep -q '^r1: ' "$TMP/err"; then ok "$name"
    else fail "$name" "exit $rc, $lines stderr lines: $(head -c 300 "$TMP/err")"; fi
}
# expect_error_saying TEXT NAME CMD...: as expect_error, and the message holds TEXT
# (so the test fails when the command fails for another reason)
expect_error_saying() {
    text=$1; shift
    expect_error "$@"
    grep -qF -- "$text" "$TMP/err" || fail "$1-message" "no '$text' in: $(head -c 300 "$TMP/err")"
}

for cmd in run logits info bench gen-random quantize; do
    if $R1 $cmd --help > "$TMP/help" 2>&1 && grep -q "usage: r1 $cmd" "$TMP/help"; then ok "help-$cmd"
    else fail "help-$cmd" "no usage text"; fi
done
if $R1 --help | grep -q 'commands:'; then ok help-main; else fail help-main "no command list"; fi

expect_error unknown-command $R1 frobnicate
expect_error logits-missing-file $R1 logits -m "$TMP/nope.gguf" --tokens "1 2"
printf 'not a gguf file at all, just text\n' > "$TMP/text.gguf"
expect_error logits-not-gguf $R1 logits -m "$TMP/text.gguf" --tokens "1 2"
: > "$TMP/empty.gguf"
expect_error info-empty-file $R1 info -m "$TMP/empty.gguf"
expect_error logits-bad-option $R1 logits --bogus
expect_error run-bad-number $R1 run --raw -n lots --tokens "1"

# gen-random writes a model the engine runs; bench prints its two lines
if $R1 gen-random --preset tiny-deepseek --type Q4_K -o "$TMP/tiny.gguf" 2> "$TMP/err" && [ -s "$TMP/tiny.gguf" ]; then
    ok gen-random-tiny
else fail gen-random-tiny "$(head -c 300 "$TMP/err")"; fi
$R1 bench -m "$TMP/tiny.gguf" -p 8 -n 4 -r 2 -t 2 > "$TMP/bench" 2> "$TMP/err"
if [ "$(wc -l < "$TMP/bench")" -eq 2 ] && grep -Eq '^pp8 [0-9]+\.[0-9]{2} ±[0-9]+\.[0-9]{2}$' "$TMP/bench" &&
   grep -Eq '^tg4 [0-9]+\.[0-9]{2} ±[0-9]+\.[0-9]{2}$' "$TMP/bench"; then ok bench-format
else fail bench-format "$(cat "$TMP/bench" "$TMP/err" | head -c 300)"; fi
# -b: sequences decoding together, their tokens counted together
if $R1 bench -m "$TMP/tiny.gguf" -p 0 -n 4 -b 3 -r 1 -t 2 > "$TMP/bench" 2> "$TMP/err" &&
   [ "$(wc -l < "$TMP/bench")" -eq 1 ] && grep -Eq '^tg4x3 [0-9]+\.[0-9]{2} ±0\.00$' "$TMP/bench"; then ok bench-seqs
else fail bench-seqs "$(cat "$TMP/bench" "$TMP/err" | head -c 300)"; fi
expect_error bench-seqs-range $R1 bench -m "$TMP/tiny.gguf" -b 0
# chat mode end to end on the random tiny model: template, tokenizer, streaming
if $R1 run -m "$TMP/tiny.gguf" "What is 48 + 75 - 3?" -n 8 --temp 0 -t 1 > "$TMP/chat" 2> "$TMP/err"; then ok run-chat
else fail run-chat "$(head -c 300 "$TMP/err")"; fi
if echo "hi" | $R1 run -m "$TMP/tiny.gguf" --template deepseek-r1 --think-budget 2 -n 6 --temp 0 > "$TMP/chat" 2> "$TMP/err" &&
   grep -q '</think>' "$TMP/chat"; then ok run-chat-think-budget
else fail run-chat-think-budget "no forced </think>: $(head -c 300 "$TMP/chat" "$TMP/err")"; fi
expect_error run-bad-template $R1 run -m "$TMP/tiny.gguf" --template bogus "hi"
# info --check reads every weight; a model whose output matrix holds NaNs (0xff
# bytes) is named by check, and run refuses its logits instead of printing one
# token over and over
if $R1 info -m "$TMP/tiny.gguf" --check > "$TMP/out" 2> "$TMP/err" && grep -q 'every value finite' "$TMP/out"; then
    ok info-check
else fail info-check "$(head -c 300 "$TMP/out" "$TMP/err")"; fi
if $R1 gen-random --preset tiny-deepseek --type F32 -o "$TMP/nan.gguf" > /dev/null 2> "$TMP/err"; then
    size=$(wc -c < "$TMP/nan.gguf")
    head -c 4096 /dev/zero | tr '\0' '\377' | dd of="$TMP/nan.gguf" bs=1 seek=$((size - 4096)) conv=notrunc 2> /dev/null
    expect_error_saying "tensor output.weight (F32): row 504, column 0 is NaN (the row's data at file offset $((size - 4096)))" \
        info-check-nan $R1 info -m "$TMP/nan.gguf" --check
    expect_error_saying "token id 504 is NaN" run-nan-weights $R1 run -m "$TMP/nan.gguf" "hi" -n 4
    expect_error_saying "token id 504 is NaN" run-raw-nan-weights $R1 run -m "$TMP/nan.gguf" --raw --tokens "1 2" -n 2
    if [ ! -s "$TMP/out" ]; then ok run-raw-nan-weights-prints-nothing
    else fail run-raw-nan-weights-prints-nothing "stdout: $(od -c "$TMP/out" | head -2)"; fi
    expect_error_saying "token id 504 is NaN" eval-nan-weights $R1 eval -m "$TMP/nan.gguf" --task arithmetic --n 1
else fail gen-random-f32 "$(head -c 300 "$TMP/err")"; fi
expect_error run-raw-needs-tokens $R1 run -m "$TMP/tiny.gguf" --raw
expect_error gen-random-bad-preset $R1 gen-random --preset no-such-model --type Q4_0 -o "$TMP/x.gguf"
expect_error gen-random-bad-type $R1 gen-random --preset tiny-deepseek --type Q3_K -o "$TMP/x.gguf"
if [ ! -e "$TMP/x.gguf" ] && [ ! -e "$TMP/x.gguf.tmp" ]; then ok gen-random-leaves-nothing
else fail gen-random-leaves-nothing "a failed gen-random left a file behind"; fi

# the embedded default model: no -m needed, from any directory; an explicit -m wins
R1_ABS=$(cd "$(dirname "$R1")" && pwd)/$(basename "$R1")
if $R1 info > "$TMP/info" 2> "$TMP/err" && grep -q '^architecture  deepseek2$' "$TMP/info" &&
   grep -q '^file          <embedded r1-tiny.gguf>' "$TMP/info" &&
   grep -q '^parameters    [0-9]* ([0-9]*\.[0-9][0-9] M)$' "$TMP/info"; then ok info-embedded
else fail info-embedded "$(cat "$TMP/info" "$TMP/err" | head -c 300)"; fi
if (cd /tmp && "$R1_ABS" run "What is 48 + 75 - 3?" -n 512) > "$TMP/out" 2> "$TMP/err" &&
   grep -Eq '<answer>|120' "$TMP/out"; then ok run-embedded-elsewhere
else fail run-embedded-elsewhere "$(cat "$TMP/out" "$TMP/err" | head -c 300)"; fi
if $R1 info -m "$TMP/tiny.gguf" | grep -q '^name          tiny-deepseek-random'; then ok explicit-model-wins
else fail explicit-model-wins "info -m did not describe the given file"; fi
if [ "$(echo 'What is 2 + 2?' | $R1 tokenize | wc -w)" -gt 0 ]; then ok tokenize-embedded
else fail tokenize-embedded "no token ids"; fi
if $R1 --help | grep -q quantize && $R1 run --help | grep -q 'default.*embedded r1-tiny model' &&
   $R1 info --help | grep -q 'embedded r1-tiny model'; then ok help-says-embedded
else fail help-says-embedded "--help does not mention the embedded default"; fi

# run --vote: sample 0 is the plain run with the same seed; a task prompt's vote
# is judged by the task (correct/wrong), a free prompt's is not
q='Using the numbers 12, 30, 4, 8, make 54.'
if $R1 run --seed 4 --temp 0.9 -t 1 "$q" > "$TMP/plain" 2>> "$TMP/err" &&
   $R1 run --vote 1 --seed 4 --temp 0.9 -t 1 "$q" > "$TMP/out" 2> "$TMP/err" &&
   [ "$(sed '$d' "$TMP/out" | sed '$d')" = "$(cat "$TMP/plain")" ] &&
   tail -n 1 "$TMP/out" | grep -Eq '^vote: (1 of 1 samples answer ".*" = [0-9/-]+ \((correct|wrong)\)|no valid answer among the 1 samples .*)$'
then ok run-vote-1-is-the-plain-run
else fail run-vote-1-is-the-plain-run "$(cat "$TMP/plain" "$TMP/out" "$TMP/err" | head -c 400)"; fi
if $R1 run --vote 8 --temp 0.7 -t 1 "Using the numbers 7, 3, 5, make 26." > "$TMP/out" 2> "$TMP/err" &&
   tail -n 1 "$TMP/out" | grep -Eq '^vote: [1-8] of 8 samples answer "[0-9 *+/()-]+" = [0-9/-]+ \((correct|wrong)\)(;|$)' &&
   grep -q 'vote .* 8/8 sample' "$TMP/err"; then ok run-vote-task
else fail run-vote-task "$(cat "$TMP/out" "$TMP/err" | head -c 400)"; fi
if $R1 run --vote 3 --temp 0.7 -t 1 --no-think-display "What is 2 + 2? Say it twice." > "$TMP/out" 2> "$TMP/err" &&
   ! grep -q '<think>' "$TMP/out" && tail -n 1 "$TMP/out" | grep -Eq '^vote: ' &&
   ! tail -n 1 "$TMP/out" | grep -Eq '\((correct|wrong)\)'; then ok run-vote-free-prompt
else fail run-vote-free-prompt "$(cat "$TMP/out" "$TMP/err" | head -c 400)"; fi
expect_error_saying "give a temperature above 0" run-vote-greedy $R1 run --vote 3 --temp 0 "hi"
expect_error_saying "not --raw" run-vote-raw $R1 run --vote 2 --raw --tokens "1 2"
expect_error_saying "from 1 to 1024" run-vote-range $R1 run --vote 1025 "hi"
expect_error_saying "--top-k 1 would draw the same sample" run-vote-top-k-1 $R1 run --vote 2 --top-k 1 "hi"
expect_error_saying "the last must be at most 2147483647" run-vote-seed-range $R1 run --vote 4 --seed 2147483646 "hi"
# bad settings and inputs are refused before anything is printed
expect_error_saying "temperature -1" run-bad-temp $R1 run --temp -1 "hi"
if [ ! -s "$TMP/out" ]; then ok run-bad-temp-prints-nothing
else fail run-bad-temp-prints-nothing "$(head -c 100 "$TMP/out")"; fi
expect_error_saying "run: unknown option '-x'" run-unknown-last-option $R1 run -x
expect_error_saying "bench: unknown option '--foo'" bench-unknown-last-option $R1 bench --foo
expect_error_saying "train bench: unknown option '--foo'" train-bench-unknown-last-option $R1 train bench --foo
expect_error_saying "more than one prompt" run-prompt-and-p $R1 run "a" -p "b"
expect_error_saying "more than one prompt" run-p-twice $R1 run -p "a" -p "b"
expect_error_saying "more than one prompt" run-dashdash-ends-options $R1 run -- --raw -n 3
expect_error_saying "-m names no file" run-empty-model-path $R1 run -m "" "hi"
expect_error_saying "eval: -m names no file" eval-empty-model-path $R1 eval -m "" --task arithmetic --n 1
expect_error_saying "-o needs a file name" sample-output-dash $R1 sample --task countdown --n 1 -o -
expect_error_saying "the prompt is empty" run-empty-prompt $R1 run ""
expect_error_saying "--system is for chat mode" run-raw-chat-option $R1 run --raw --tokens "1 2" --system "be brief"
expect_error_saying "cannot read stdin" run-stdin-directory sh -c "$R1 run < /"
expect_error_saying "holds a NUL byte" run-stdin-nul sh -c "printf 'hi\\000there' | $R1 run"
# results that cannot be written are a failure, not a silent success
if [ -w /dev/full ]; then
    expect_error_saying "cannot write the standard output" info-stdout-full sh -c "$R1 info > /dev/full"
    expect_error_saying "cannot write the standard output" run-raw-stdout-full \
        sh -c "$R1 run --raw --tokens '1 2' -n 2 > /dev/full"
else skip info-stdout-full "no /dev/full"; fi
# standard input is the prompt without its final newline, as the shell's $(...) reads it;
# -- ends the options, for a prompt that begins with -
if echo "What is 2 + 3?" | $R1 run --temp 0 -n 64 -t 1 > "$TMP/stdin" 2> "$TMP/err" &&
   $R1 run --temp 0 -n 64 -t 1 "What is 2 + 3?" > "$TMP/arg" 2>> "$TMP/err" && cmp -s "$TMP/stdin" "$TMP/arg" &&
   $R1 run --temp 0 -n 4 -t 1 -- "-5 + 3" > "$TMP/out" 2>> "$TMP/err"; then ok run-stdin-and-dashdash
else fail run-stdin-and-dashdash "$(cat "$TMP/stdin" "$TMP/arg" "$TMP/err" | head -c 300)"; fi
# a context past the model's training length runs, with a warning; an answer cut
# short by -n while thinking says so
if $R1 run --raw --tokens "1 2" -n 1 -c 1100 -t 1 > "$TMP/out" 2> "$TMP/err" && [ ! -s "$TMP/err" ] &&
   $R1 run --raw --tokens "1 2" -n 1100 --temp 0 -t 2 > "$TMP/out" 2> "$TMP/err" &&
   grep -q "1102 positions go past the 1024 the model was trained on" "$TMP/err"; then ok run-context-past-training
else fail run-context-past-training "$(head -c 300 "$TMP/err")"; fi
if $R1 run -n 20 --temp 0 -c 24 -t 1 "What is 48 + 75?" > "$TMP/out" 2> "$TMP/err" &&
   grep -q "stopped at the end of the context, 24 tokens" "$TMP/err"; then ok run-context-end-note
else fail run-context-end-note "$(head -c 300 "$TMP/err")"; fi
if $R1 run -n 3 --temp 0 -t 1 "What is 48 + 75?" > "$TMP/out" 2> "$TMP/err" && grep -q "while still thinking" "$TMP/err"
then ok run-stopped-thinking; else fail run-stopped-thinking "$(head -c 300 "$TMP/err")"; fi

# quantize: the embedded Q8_0 model re-encoded as F16 runs; bad arguments are one-line errors
if $R1 quantize -o "$TMP/tiny-f16.gguf" --type f16 > "$TMP/out" 2> "$TMP/err" &&
   grep -q '^wrote .*tiny-f16.gguf: .* F16, .* F32 (1-D and routers)$' "$TMP/out" &&
   $R1 info -m "$TMP/tiny-f16.gguf" | grep -Eq '^tensors .* F16 x[0-9]+' &&
   $R1 run -m "$TMP/tiny-f16.gguf" --raw --tokens "1 2 3" -n 4 --temp 0 -t 1 > /dev/null 2>> "$TMP/err"; then
    ok quantize-f16
else fail quantize-f16 "$(cat "$TMP/out" "$TMP/err" | head -c 300)"; fi
expect_error quantize-needs-out $R1 quantize --type Q8_0
expect_error quantize-needs-type $R1 quantize -o "$TMP/q.gguf"
expect_error quantize-bad-type $R1 quantize -o "$TMP/q.gguf" --type Q9_9
if grep -q "Q9_9' is not one of F32 F16" "$TMP/err"; then ok quantize-bad-type-names-types
else fail quantize-bad-type-names-types "$(head -c 300 "$TMP/err")"; fi
expect_error quantize-missing-input $R1 quantize -m "$TMP/nope.gguf" -o "$TMP/q.gguf" --type Q8_0
expect_error quantize-bad-option $R1 quantize --bogus
if [ ! -e "$TMP/q.gguf" ] && [ ! -e "$TMP/q.gguf.tmp" ]; then ok quantize-leaves-nothing
else fail quantize-leaves-nothing "a failed quantize left a file behind"; fi

# eval: the three result lines on the random tiny model (which scores 0), and
# one-line errors; a bad --file line is named by its number
if $R1 eval --help > "$TMP/help" 2>&1 && grep -q "usage: r1 eval" "$TMP/help"; then ok help-eval
else fail help-eval "no usage text"; fi
$R1 eval -m "$TMP/tiny.gguf" --task arithmetic --n 2 --k 2 --max-tokens 8 -t 1 > "$TMP/eval" 2> "$TMP/err"
if [ "$(wc -l < "$TMP/eval")" -eq 3 ] && sed -n 1p "$TMP/eval" | grep -Eq '^pass@1 0\.0000$' &&
   sed -n 2p "$TMP/eval" | grep -Eq '^maj@2 0\.0000$' && sed -n 3p "$TMP/eval" | grep -Eq '^mean_length [0-9]+\.[0-9]$'; then
    ok eval-format
else fail eval-format "$(cat "$TMP/eval" "$TMP/err" | head -c 300)"; fi
expect_error eval-bad-option $R1 eval --bogus
if echo '{"question": "What is 2 + 3?", "answer": "5"}' | $R1 eval --file - --task arithmetic --max-tokens 8 -t 1 \
       > "$TMP/eval" 2> "$TMP/err" && grep -q '^pass@1 ' "$TMP/eval"; then ok eval-file-stdin
else fail eval-file-stdin "$(cat "$TMP/eval" "$TMP/err" | head -c 300)"; fi
expect_error_saying "would draw the same sample 3 times" eval-k-greedy $R1 eval --task arithmetic --n 2 --k 3 --temp 0
expect_error eval-bad-task $R1 eval -m "$TMP/tiny.gguf" --task chess --n 1
expect_error eval-needs-n $R1 eval -m "$TMP/tiny.gguf" --task countdown
expect_error_saying "temperature -1" eval-negative-temp $R1 eval -m "$TMP/tiny.gguf" --task countdown --n 1 --temp -1
expect_error_saying "top-p 2" eval-top-p-above-1 $R1 eval -m "$TMP/tiny.gguf" --task countdown --n 1 --top-p 2
expect_error_saying "top-p 0" run-top-p-zero $R1 run -m "$TMP/tiny.gguf" --top-p 0 "hi"
printf '{"numbers": [7, 3, 5], "target": 26}\n\n{"numbers": [7, 3], "target": 26}\n' > "$TMP/bad.jsonl"
expect_error eval-bad-file-line $R1 eval -m "$TMP/tiny.gguf" --file "$TMP/bad.jsonl"
if grep -q 'bad.jsonl:3: countdown: "numbers" holds 2, expected 3 or 4' "$TMP/err"; then ok eval-file-error-names-line
else fail eval-file-error-names-line "$(head -c 300 "$TMP/err")"; fi
printf '{"question": "What is 2 + 2?", "answer": "5"}\n' > "$TMP/bad.jsonl"
expect_error eval-file-wrong-answer $R1 eval -m "$TMP/tiny.gguf" --file "$TMP/bad.jsonl"
# a NUL byte is named, not taken for the end of the line (a NUL-led line for a blank one)
printf '{"numbers": [7, 3, 5], "target": 26}\n\000\n' > "$TMP/nul.jsonl"
expect_error eval-file-nul-byte $R1 eval -m "$TMP/tiny.gguf" --file "$TMP/nul.jsonl"
if grep -q 'nul.jsonl:2: a NUL byte at column 1$' "$TMP/err"; then ok eval-file-nul-byte-message
else fail eval-file-nul-byte-message "$(head -c 300 "$TMP/err")"; fi

# train: help for the command and its stage, one-line errors, and a 3-step pretrain
# of a very small model whose export `r1 run` answers from
if $R1 train --help | grep -q "usage: r1 train" && $R1 train pretrain --help | grep -q "usage: r1 train pretrain"; then
    ok help-train
else fail help-train "no usage text"; fi
expect_error train-bad-option $R1 train pretrain --bogus
expect_error train-resume-with-settings $R1 train pretrain --out "$TMP/run" --resume --lr 1
if $R1 train pretrain --out "$TMP/run" --quiet --steps 3 --batch 2 --seq 128 --dim 32 --layers 2 --heads 2 \
       --set trace_max_dead_ends=1 2> "$TMP/err" && [ -s "$TMP/run/model.gguf" ] && [ -s "$TMP/run/loss.svg" ] &&
   [ "$(wc -l < "$TMP/run/metrics.csv")" -eq 4 ] &&
   $R1 run -m "$TMP/run/model.gguf" "What is 2 + 2?" -n 4 --temp 0 -t 1 > "$TMP/out" 2>> "$TMP/err"; then
    ok train-pretrain-run
else fail train-pretrain-run "$(head -c 300 "$TMP/err")"; fi
# a hang-up (a closed terminal) saves a checkpoint as Ctrl-C does; under nohup the run goes on
hup_run() { # hup_run DIR [nohup]: a long run, SIGHUP after its first metrics row, then SIGINT if it is
            # still running a second later; prints the exit code and whether the hang-up stopped it
    $2 $R1 train pretrain --out "$1" --quiet --steps 100000 --batch 2 --seq 128 --dim 32 --layers 2 --heads 2 \
        --checkpoint-every 0 -t 1 > /dev/null 2>&1 &
    pid=$! tries=0
    while [ "$(cat "$1/metrics.csv" 2> /dev/null | wc -l)" -lt 2 ] && [ $tries -lt 300 ]; do
        sleep 0.1; tries=$((tries + 1))
    done
    kill -HUP $pid
    sleep 1
    if kill -0 $pid 2> /dev/null; then stopped=no; kill -INT $pid; else stopped=yes; fi
    wait $pid
    echo "$? $stopped"
}
if [ "$(hup_run "$TMP/hup")" = "130 yes" ] && [ -s "$TMP/hup/checkpoint.gguf" ]; then ok train-sighup-saves
else fail train-sighup-saves "no checkpoint after SIGHUP: $(ls "$TMP/hup" 2>&1 | tr '\n' ' ')"; fi
if ! command -v nohup > /dev/null; then skip train-nohup-ignores-sighup "no nohup"
elif [ "$(hup_run "$TMP/nohup" nohup)" = "130 no" ] && [ -s "$TMP/nohup/checkpoint.gguf" ]; then
    ok train-nohup-ignores-sighup
else fail train-nohup-ignores-sighup "$(ls "$TMP/nohup" 2>&1 | tr '\n' ' ')"; fi
if $R1 train pretrain --out "$TMP/run" --resume 2> "$TMP/err" && grep -q "already finished" "$TMP/err"; then
    ok train-resume-finished
else fail train-resume-finished "$(head -c 300 "$TMP/err")"; fi
# more pretraining of a trained model: its size comes with it
if $R1 train pretrain --init "$TMP/run" --out "$TMP/run-more" --quiet --steps 2 --batch 2 --seq 128 2> "$TMP/err" &&
   grep -q "^dim=32$" "$TMP/run-more/config.txt" && grep -q "^lr=0.0003" "$TMP/run-more/config.txt"; then
    ok train-pretrain-init
else fail train-pretrain-init "$(head -c 300 "$TMP/err")"; fi
cp -r "$TMP/run" "$TMP/run-nock" && rm "$TMP/run-nock/checkpoint.gguf"
expect_error_saying "already holds a trained model" train-pretrain-keeps-finished-model $R1 train pretrain --out "$TMP/run-nock" --quiet --steps 1 --batch 2 \
    --seq 128 --dim 32 --layers 2 --heads 2
# a new run that fails before its first step leaves no files, nor the directories it made
# (only what it made: files of those names that were there stay, and so does a
# directory reached through one it made)
mkdir -p "$TMP/had-files" "$TMP/was-here" && touch "$TMP/had-files/keep" "$TMP/had-files/metrics.csv"
expect_error_saying "longer than seq 32 tokens" train-failed-run $R1 train pretrain --out "$TMP/made/for/run" --quiet \
    --steps 2 --batch 2 --seq 32 --dim 32 --layers 2 --heads 2
for out in "$TMP/had-files" "$TMP/made2/../was-here"; do
    $R1 train pretrain --out "$out" --quiet --steps 2 --batch 2 --seq 32 --dim 32 --layers 2 --heads 2 2> /dev/null
done
if [ ! -e "$TMP/made" ] && [ "$(ls -A "$TMP/had-files" | tr '\n' ' ')" = "keep metrics.csv " ] &&
   [ -d "$TMP/was-here" ] && [ ! -e "$TMP/made2" ]; then ok train-failed-run-leaves-nothing
else fail train-failed-run-leaves-nothing "$(ls -AR "$TMP/made" "$TMP/had-files" "$TMP/made2" 2>&1 | head -c 300)"; fi
expect_error train-pretrain-init-and-size $R1 train pretrain --init "$TMP/run" --dim 64 --out "$TMP/run-more2"
expect_error_saying "heads=4: the model's size comes from --init" train-pretrain-init-and-set-size $R1 train pretrain --init "$TMP/run" --set heads=4 --out "$TMP/run-more2"
# a quantised model is no start for training: refused before the run directory is made
expect_error train-init-quantised $R1 train pretrain --init "$TMP/tiny-f16.gguf" --out "$TMP/run-f16"
if grep -q "tiny-f16.gguf: tensor '.*' is F16; training starts from F32" "$TMP/err" && [ ! -e "$TMP/run-f16" ]; then
    ok train-init-quantised-makes-nothing
else fail train-init-quantised-makes-nothing "$(head -c 300 "$TMP/err"; ls "$TMP/run-f16" 2>&1)"; fi
# an MTP module: its loss logged, left out of the export
if $R1 train pretrain --init "$TMP/run" --mtp 0.3 --out "$TMP/run-mtp" --quiet --steps 2 --batch 2 --seq 128 \
       2> "$TMP/err" && head -1 "$TMP/run-mtp/metrics.csv" | grep -q ',mtp_loss$' &&
   $R1 run -m "$TMP/run-mtp/model.gguf" "What is 2 + 2?" -n 2 --temp 0 -t 1 > "$TMP/out" 2>> "$TMP/err"; then
    ok train-pretrain-mtp
else fail train-pretrain-mtp "$(head -c 300 "$TMP/err")"; fi
expect_error train-pretrain-bad-mtp $R1 train pretrain --mtp -1 --out "$TMP/run-mtp2"
# bfloat16 products: the choice is kept in config.txt (and so by --resume), and the
# model it trains runs
if $R1 train pretrain --init "$TMP/run" --precision bf16 --out "$TMP/run-bf16" --quiet --steps 2 --batch 2 \
       --seq 128 2> "$TMP/err" && grep -q "^precision=bf16$" "$TMP/run-bf16/config.txt" &&
   $R1 run -m "$TMP/run-bf16/model.gguf" "What is 2 + 2?" -n 2 --temp 0 -t 1 > "$TMP/out" 2>> "$TMP/err"; then
    ok train-pretrain-bf16
else fail train-pretrain-bf16 "$(head -c 300 "$TMP/err")"; fi
expect_error train-pretrain-bad-precision $R1 train pretrain --precision fp8 --out "$TMP/run-fp8"
if grep -q "'fp8' is not f32 or bf16" "$TMP/err"; then ok train-pretrain-bad-precision-message
else fail train-pretrain-bad-precision-message "$(head -c 300 "$TMP/err")"; fi
expect_error train-pretrain-bad-hasty $R1 train pretrain --hasty-share 2 --out "$TMP/run-hasty"
expect_error train-pretrain-bad-small $R1 train pretrain --small-share 1.5 --out "$TMP/run-small"
if grep -q 'small_share 1.5 is outside 0..1' "$TMP/err" && $R1 train pretrain --help | grep -q -- '--small-share X'; then
    ok train-pretrain-small-share-option
else fail train-pretrain-small-share-option "$(head -c 300 "$TMP/err")"; fi
expect_error train-pretrain-bad-small-countdown $R1 train pretrain --small-countdown-share -1 --out "$TMP/run-small"
if grep -q 'small_countdown_share -1 is outside 0..1' "$TMP/err" &&
   $R1 train pretrain --help | grep -q -- '--small-countdown-share X'; then
    ok train-pretrain-small-countdown-share-option
else fail train-pretrain-small-countdown-share-option "$(head -c 300 "$TMP/err")"; fi
expect_error train-pretrain-bad-all-small-countdown $R1 train pretrain --all-small-countdown-share 1.5 --out "$TMP/run-small"
if grep -q 'all_small_countdown_share 1.5 is outside 0..1' "$TMP/err" &&
   $R1 train pretrain --help | grep -q -- '--all-small-countdown-share X'; then
    ok train-pretrain-all-small-countdown-share-option
else fail train-pretrain-all-small-countdown-share-option "$(head -c 300 "$TMP/err")"; fi
# a training checkpoint is not a model: the error says what to use instead
expect_error eval-checkpoint $R1 eval -m "$TMP/run/checkpoint.gguf" --task countdown --n 1
if grep -q "is a training checkpoint, not a model" "$TMP/err"; then ok eval-checkpoint-message
else fail eval-checkpoint-message "$(head -c 300 "$TMP/err")"; fi
# train bench: a tiny model, two timed steps, one line of tokens/s
if $R1 train bench --batch 2 --seq 16 --set dim=32 --set layers=2 --set heads=2 -t 2 -r 2 > "$TMP/out" 2> "$TMP/err" &&
    grep -Eq '^train [0-9.]+M B2xT16 t2 f32 [0-9]+ tokens/s \(median [0-9]+\)' "$TMP/out"; then
    ok train-bench
else fail train-bench "$(head -c 300 "$TMP/out" "$TMP/err")"; fi
if $R1 train bench --batch 2 --seq 16 --set dim=32 --set layers=2 --set heads=2 -t 1 -r 1 --precision bf16 \
       > "$TMP/out" 2> "$TMP/err" && grep -Eq '^train [0-9.]+M B2xT16 t1 bf16 [0-9]+ tokens/s' "$TMP/out"; then
    ok train-bench-bf16
else fail train-bench-bf16 "$(head -c 300 "$TMP/out" "$TMP/err")"; fi
expect_error train-bench-bad-setting $R1 train bench --set dim=0
expect_error train-bench-bad-option $R1 train bench --bogus 1
# grpo from that pretrain run: 2 steps, then metrics, plots, export, resume
if $R1 train grpo --help | grep -q "usage: r1 train grpo"; then ok help-train-grpo
else fail help-train-grpo "no usage text"; fi
expect_error train-grpo-no-init $R1 train grpo --out "$TMP/grpo"
expect_error train-grpo-bad-variant $R1 train grpo --init "$TMP/run" --out "$TMP/grpo" --variant ppo
expect_error train-grpo-no-epochs $R1 train grpo --init "$TMP/run" --out "$TMP/grpo" --ppo-epochs 0
expect_error train-grpo-bad-credit $R1 train grpo --init "$TMP/run" --out "$TMP/grpo" --credit process
# the precision is each run's choice: grpo's --precision holds, and a bf16 start does not pass it on
if $R1 train grpo --init "$TMP/run" --out "$TMP/grpo-bf16" --quiet --steps 1 --prompts 2 --group 2 --max-tokens 8 \
       --precision bf16 2> "$TMP/err" && grep -q "^precision=bf16$" "$TMP/grpo-bf16/config.txt" &&
   $R1 train grpo --init "$TMP/run-bf16" --out "$TMP/grpo-f32" --quiet --steps 1 --prompts 2 --group 2 \
       --max-tokens 8 2>> "$TMP/err" && grep -q "^precision=f32$" "$TMP/grpo-f32/config.txt"; then
    ok train-grpo-precision
else fail train-grpo-precision "$(head -c 300 "$TMP/err")"; fi
# 2 steps with 2 PPO epochs, evaluated before the first and after the last: rows 0..2
if $R1 train grpo --init "$TMP/run" --out "$TMP/grpo" --quiet --steps 2 --prompts 2 --group 3 --max-tokens 32 \
       --variant dr-grpo --ppo-epochs 2 --eval-every 2 --eval-n 2 2> "$TMP/err" && [ -s "$TMP/grpo/model.gguf" ] &&
   [ -s "$TMP/grpo/reward.svg" ] && [ -s "$TMP/grpo/length.svg" ] && [ -s "$TMP/grpo/accuracy.svg" ] &&
   [ -s "$TMP/grpo/reflect.svg" ] && [ -s "$TMP/grpo/false_step.svg" ] && [ -s "$TMP/grpo/backtrack.svg" ] &&
   [ "$(wc -l < "$TMP/grpo/metrics.csv")" -eq 4 ] &&
   head -1 "$TMP/grpo/metrics.csv" | grep -q "reward,accuracy,length,reflect,false_step,backtrack,kl" &&
   grep -q "held-out accuracy" "$TMP/err"; then
    ok train-grpo-run
else fail train-grpo-run "$(head -c 300 "$TMP/err")"; fi
if $R1 train grpo --out "$TMP/grpo" --resume -t 1 2> "$TMP/err" && grep -q "already finished" "$TMP/err"; then
    ok train-grpo-resume-finished
else fail train-grpo-resume-finished "$(head -c 300 "$TMP/err")"; fi
# grpo from a run with an MTP module leaves the module behind (it trains the main model)
if grep -q 'nextn\.eh_proj' "$TMP/run-mtp/checkpoint.gguf" &&
   $R1 train grpo --init "$TMP/run-mtp" --out "$TMP/grpo-mtp" --quiet --steps 1 --prompts 2 --group 2 \
       --max-tokens 8 2> "$TMP/err" && ! grep -q 'nextn\.' "$TMP/grpo-mtp/checkpoint.gguf"; then
    ok train-grpo-from-mtp
else fail train-grpo-from-mtp "$(head -c 300 "$TMP/err")"; fi

# sample: traces of the pretrained model as JSONL; sft on them from that model;
# distill's errors (tests/test_sft.c runs the stages through)
for stage in sft distill; do
    if $R1 train $stage --help | grep -q "usage: r1 train $stage"; then ok "help-train-$stage"
    else fail "help-train-$stage" "no usage text"; fi
done
if $R1 sample --help | grep -q "usage: r1 sample" && $R1 --help | grep -q "sample"; then ok help-sample
else fail help-sample "no usage text, or not in r1 --help"; fi
if $R1 train --help | grep -q "not yet"; then fail help-train-stages "a stage is still marked not implemented"
else ok help-train-stages; fi
if $R1 sample -m "$TMP/run/model.gguf" --task mix --n 3 --k 2 --max-tokens 16 -t 1 --quiet -o "$TMP/traces.jsonl" \
       2> "$TMP/err" && [ "$(wc -l < "$TMP/traces.jsonl")" -eq 6 ] && [ ! -e "$TMP/traces.jsonl.tmp" ] &&
   head -1 "$TMP/traces.jsonl" | grep -Eq '^\{"prompt": "Using the numbers [0-9, ]+, make [0-9]+\.", "completion": ".*", "reward": 0(\.1)?, "task": "countdown"\}$'; then
    ok sample-all
else fail sample-all "$(head -c 300 "$TMP/err" "$TMP/traces.jsonl")"; fi
if $R1 sample -m "$TMP/run/model.gguf" --task arithmetic --n 2 --max-tokens 8 -t 1 --filter correct -o "$TMP/none.jsonl" \
       2> "$TMP/err" && [ -e "$TMP/none.jsonl" ] && [ ! -s "$TMP/none.jsonl" ] && grep -q "kept 0/2" "$TMP/err"; then
    ok sample-filter-correct
else fail sample-filter-correct "$(head -c 300 "$TMP/err")"; fi
expect_error sample-needs-output $R1 sample -m "$TMP/run/model.gguf" --task countdown --n 1
expect_error sample-bad-filter $R1 sample -m "$TMP/run/model.gguf" --task countdown --n 1 --filter best -o "$TMP/x.jsonl"
expect_error sample-bad-split $R1 sample -m "$TMP/run/model.gguf" --task countdown --n 1 --split dev -o "$TMP/x.jsonl"
expect_error sample-bad-task $R1 sample -m "$TMP/run/model.gguf" --task chess --n 1 -o "$TMP/x.jsonl"
expect_error sample-bad-option $R1 sample --bogus
# an atomic write renames a temporary file over the output: never over a directory,
# a FIFO or a device (as root, /dev/null itself would become a regular file)
mkdir -p "$TMP/outdir" && mkfifo "$TMP/fifo"
expect_error_saying "is a directory" sample-output-directory $R1 sample -m "$TMP/run/model.gguf" --task countdown --n 1 -o "$TMP/outdir"
expect_error_saying "not a regular file" sample-output-fifo $R1 sample -m "$TMP/run/model.gguf" --task countdown --n 1 -o "$TMP/fifo"
if [ -p "$TMP/fifo" ]; then ok sample-fifo-kept; else fail sample-fifo-kept "the FIFO was replaced"; fi
expect_error_saying "not a regular file" quantize-output-device $R1 quantize -m "$TMP/run/model.gguf" --type Q8_0 -o /dev/null
expect_error sample-missing-model $R1 sample -m "$TMP/nope.gguf" --task countdown --n 1 -o "$TMP/x.jsonl"
printf '{"numbers": [7, 3, 5], "target": 26}\n{"numbers": [7, 3, 5], "target": 1000}\n' > "$TMP/bad.jsonl"
expect_error sample-bad-file-line $R1 sample -m "$TMP/run/model.gguf" --file "$TMP/bad.jsonl" -o "$TMP/x.jsonl"
if grep -q 'bad.jsonl:2: ' "$TMP/err" && [ ! -e "$TMP/x.jsonl" ] && [ ! -e "$TMP/x.jsonl.tmp" ]; then
    ok sample-file-error-names-line
else fail sample-file-error-names-line "$(head -c 300 "$TMP/err")"; fi
if $R1 train sft --data "$TMP/traces.jsonl" --init "$TMP/run" --out "$TMP/sft" --quiet --steps 2 --seq 128 --batch 2 \
       2> "$TMP/err" && [ -s "$TMP/sft/model.gguf" ] && [ -s "$TMP/sft/loss.svg" ] &&
   [ "$(wc -l < "$TMP/sft/metrics.csv")" -eq 3 ] && grep -q "^init=$TMP/run$" "$TMP/sft/config.txt"; then
    ok train-sft-run
else fail train-sft-run "$(head -c 300 "$TMP/err")"; fi
if $R1 train sft --out "$TMP/sft" --resume 2> "$TMP/err" && grep -q "already finished" "$TMP/err"; then
    ok train-sft-resume-finished
else fail train-sft-resume-finished "$(head -c 300 "$TMP/err")"; fi
# the recipe's order: RL after the SFT cold start, from the sft run directory
if $R1 train grpo --init "$TMP/sft" --out "$TMP/grpo-sft" --quiet --steps 1 --prompts 1 --group 2 --max-tokens 8 \
       2> "$TMP/err" && [ -s "$TMP/grpo-sft/model.gguf" ]; then
    ok train-grpo-after-sft
else fail train-grpo-after-sft "$(head -c 300 "$TMP/err")"; fi
expect_error train-sft-needs-data $R1 train sft --out "$TMP/sft2"
expect_error_saying "not a regular file" train-sft-data-pipe \
    sh -c "cat '$TMP/traces.jsonl' | $R1 train sft --data /dev/stdin --init '$TMP/run' --out '$TMP/sft2'"
# sample's output never replaces a file it reads
cp "$TMP/run/model.gguf" "$TMP/reads.gguf"
expect_error_saying "is the model file this run reads" sample-onto-its-model \
    $R1 sample -m "$TMP/reads.gguf" --task countdown --n 1 -o "$TMP/../$(basename "$TMP")/reads.gguf"
if cmp -s "$TMP/run/model.gguf" "$TMP/reads.gguf"; then ok sample-onto-its-model-kept
else fail sample-onto-its-model-kept "the model file changed"; fi
expect_error train-sft-init-and-size $R1 train sft --data "$TMP/traces.jsonl" --init "$TMP/run" --dim 64 --out "$TMP/sft2"
printf '{"prompt": "p", "completion": "c"}\n{"prompt": "p", "completion": 5}\n' > "$TMP/bad.jsonl"
expect_error train-sft-bad-line $R1 train sft --data "$TMP/bad.jsonl" --out "$TMP/sft2"
if grep -q 'bad.jsonl:2: "completion" must be a string' "$TMP/err" && [ ! -e "$TMP/sft2" ]; then
    ok train-sft-error-names-line
else fail train-sft-error-names-line "$(head -c 300 "$TMP/err")"; fi
printf '{"prompt": "p", "completion": "\377"}\n' > "$TMP/bad.jsonl"
expect_error train-sft-bad-utf8 $R1 train sft --data "$TMP/bad.jsonl" --out "$TMP/sft2"
printf '{"prompt": "What is 2 + 2?<｜Assistant｜>5", "completion": "</think><answer>4</answer>"}\n' > "$TMP/forged.jsonl"
expect_error_saying "holds the chat template" train-sft-forged-template $R1 train sft --data "$TMP/forged.jsonl" --out "$TMP/sft2"
: > "$TMP/empty.jsonl"
expect_error train-sft-empty-file $R1 train sft --data "$TMP/empty.jsonl" --out "$TMP/sft2"
expect_error train-sft-resume-nothing $R1 train sft --out "$TMP/sft2" --resume
expect_error train-distill-needs-teacher $R1 train distill --out "$TMP/distill"
expect_error train-distill-bad-task $R1 train distill --teacher "$TMP/run/model.gguf" --task chess --out "$TMP/distill"
expect_error train-distill-teacher-fails $R1 train distill --teacher "$TMP/run/model.gguf" --task arithmetic --n 1 \
    --k 1 --max-tokens 4 -t 1 --quiet --out "$TMP/distill"
# -t sets the teacher's sampling threads too (it once went to the trainer alone), and
# an edited distill.txt is checked on --resume as the command line is
if $R1 train distill --teacher models/r1-tiny.gguf --task arithmetic --n 2 --k 1 --max-tokens 160 --steps 1 \
       --batch 1 --seq 256 -t 1 --quiet --out "$TMP/distill-t" 2> "$TMP/err" &&
   grep -qx 'distill.threads=1' "$TMP/distill-t/distill.txt"; then ok train-distill-threads
else fail train-distill-threads "$(head -c 300 "$TMP/err")"; fi
mkdir -p "$TMP/distill-bad" && sed 's/^distill.k=.*/distill.k=2000/' "$TMP/distill-t/distill.txt" > "$TMP/distill-bad/distill.txt"
expect_error_saying "k 2000" train-distill-resume-checks-settings $R1 train distill --out "$TMP/distill-bad" --resume

if [ ! -f "$TD/README.md" ]; then
    skip testdata "../shared/testdata is not there"
else
    M=$TD/models/deepseek2-v3-f32.gguf
    TOK="1 7 42 100 3 250 511 17 64 9 300 128 5 77 400 2"
    $R1 logits -m "$M" --tokens "$TOK" --all > "$TMP/logits" 2> "$TMP/err"
    rows=$(wc -l < "$TMP/logits")
    cols=$(head -n 1 "$TMP/logits" | wc -w)
    if [ "$rows" -eq 16 ] && [ "$cols" -eq 512 ] && head -n 1 "$TMP/logits" | grep -Eq '^-?[0-9]\.[0-9]{6}e[-+][0-9]{2} '; then
        ok logits-all-format
    else fail logits-all-format "$rows rows, $cols columns"; fi
    $R1 logits -m "$M" --tokens "$TOK" > "$TMP/last"
    if [ "$(wc -l < "$TMP/last")" -eq 1 ] && [ "$(cat "$TMP/last")" = "$(tail -n 1 "$TMP/logits")" ]; then ok logits-last-row
    else fail logits-last-row "last-position logits differ from --all's last row"; fi
    got=$($R1 run -m "$M" --raw --tokens "$TOK" -n 16 --temp 0 -t 2)
    want=$(cat "$TD/refs/llamacpp_deepseek2-v3-f32_greedy.txt")
    if [ "$got" = "$want" ]; then ok run-raw-greedy; else fail run-raw-greedy "got '$got', want '$want'"; fi
    if $R1 info -m "$M" | grep -q 'kv_lora_rank  64'; then ok info-deepseek2; else fail info-deepseek2 "no MLA shape"; fi
    expect_error logits-token-out-of-range $R1 logits -m "$M" --tokens "1 512"
    expect_error logits-bad-token $R1 logits -m "$M" --tokens "1 x"
    # a truncated copy of a real model
    head -c 100000 "$M" > "$TMP/truncated.gguf"
    expect_error truncated-model $R1 info -m "$TMP/truncated.gguf"
fi

# tokenize / detokenize: ids on one line, exact round trip, U+FFFD for invalid
# UTF-8, one-line errors (tests/test_tokenizer.c and tests/tokenizer_ref.sh check the ids)
for cmd in tokenize detokenize; do
    if $R1 $cmd --help > "$TMP/help" 2>&1 && grep -q "usage: r1 $cmd" "$TMP/help"; then ok "help-$cmd"
    else fail "help-$cmd" "no usage text"; fi
done
if grep -q 'U+FFFD' "$TMP/help" || $R1 tokenize --help | grep -q 'U+FFFD'; then ok tokenize-help-invalid-utf8
else fail tokenize-help-invalid-utf8 "--help does not say how invalid UTF-8 is treated"; fi
TOKM=tests/fixtures/deepseek2-yarn.gguf
printf 'Hello world 123\r\n\tcaf\303\251 \344\275\240\345\245\275 \360\237\230\200' > "$TMP/text"
$R1 tokenize -m $TOKM < "$TMP/text" > "$TMP/ids" 2> "$TMP/err"
if [ "$(wc -l < "$TMP/ids")" -eq 1 ] && grep -Eq '^[0-9]+( [0-9]+)*$' "$TMP/ids"; then ok tokenize-one-line
else fail tokenize-one-line "$(head -c 300 "$TMP/ids" "$TMP/err")"; fi
if $R1 detokenize -m $TOKM < "$TMP/ids" > "$TMP/back" 2> "$TMP/err" && cmp -s "$TMP/text" "$TMP/back"; then ok detokenize-round-trip
else fail detokenize-round-trip "detokenize(tokenize(x)) != x $(head -c 200 "$TMP/err")"; fi
bos=$(printf 'x' | $R1 tokenize --bos -m $TOKM | cut -d' ' -f1)
if [ "$bos" = 1 ]; then ok tokenize-bos; else fail tokenize-bos "first id '$bos', want the BOS id 1"; fi
if printf '\377ab\303' | $R1 tokenize -m $TOKM > "$TMP/ids" 2> "$TMP/err" && $R1 detokenize -m $TOKM < "$TMP/ids" > "$TMP/back" &&
   [ "$(od -An -tx1 "$TMP/back" | tr -d ' \n')" = "efbfbd6162efbfbd" ]; then ok tokenize-invalid-utf8
else fail tokenize-invalid-utf8 "invalid bytes not replaced by U+FFFD: $(od -An -tx1 "$TMP/back")"; fi
expect_error tokenize-missing-file $R1 tokenize -m "$TMP/nope.json"
expect_error tokenize-bad-option $R1 tokenize --bogus
printf '{"model": {"vocab": {,}}}' > "$TMP/bad.json"
expect_error tokenize-bad-json $R1 tokenize -m "$TMP/bad.json"
if $R1 tokenize -m "$TMP/bad.json" < /dev/null 2>&1 | grep -q 'bad.json:1:'; then ok tokenize-json-error-line
else fail tokenize-json-error-line "no file:line:column"; fi
echo "1 x" > "$TMP/badids"
expect_error detokenize-bad-id sh -c "$R1 detokenize -m $TOKM < $TMP/badids"
echo "1 99999999" > "$TMP/badids"
expect_error detokenize-out-of-range sh -c "$R1 detokenize -m $TOKM < $TMP/badids"

# `make recipe` at its smallest: every stage runs and leaves a model, the summary has a
# score in every row, and a second run keeps the finished stages
if R1=$R1 sh scripts/recipe.sh --quick --out "$TMP/recipe" -t 2 > "$TMP/recipe.out" 2>&1 &&
   [ "$(grep -c '^| [a-z]* | .* | [0-9.]* | [0-9.]* % |' "$TMP/recipe/summary.md")" -eq 6 ] &&
   [ "$(ls "$TMP"/recipe/*/model.gguf | wc -l)" -eq 6 ]; then ok recipe-quick
else fail recipe-quick "$(tail -c 300 "$TMP/recipe.out")"; fi
if R1=$R1 sh scripts/recipe.sh --quick --out "$TMP/recipe" -t 2 > "$TMP/recipe.out" 2>&1 &&
   [ "$(grep -c 'done before' "$TMP/recipe.out")" -eq 6 ]; then ok recipe-keeps-stages
else fail recipe-keeps-stages "$(tail -c 300 "$TMP/recipe.out")"; fi
if ! R1=$R1 sh scripts/recipe.sh --out "$TMP/recipe" > /dev/null 2> "$TMP/err" && grep -q "holds a quick run" "$TMP/err"
then ok recipe-keeps-scales-apart
else fail recipe-keeps-scales-apart "$(head -c 300 "$TMP/err")"; fi
if ! R1=$R1 sh scripts/recipe.sh --steps 3 > /dev/null 2> "$TMP/err" && grep -q "unknown option '--steps'" "$TMP/err"; then
    ok recipe-bad-option
else fail recipe-bad-option "$(head -c 300 "$TMP/err")"; fi

echo "cli: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
