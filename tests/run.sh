#!/bin/sh
# Runs each test program given as an argument (and the CLI tests), adds up their
# closing `N passed, N failed, N skipped` lines, and ends with the total line.
passed=0 failed=0 skipped=0 status=0
summary=$(mktemp)
for prog in tests/tokenizer_ref.sh "$@" tests/cli.sh; do
    case "$prog" in
        *.sh) sh "$prog" > "$summary.out" 2>&1 ;;
        *) "$prog" > "$summary.out" 2>&1 ;;
    esac
    rc=$?
    cat "$summary.out"
    line=$(grep -E '^[a-z0-9_-]+: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$summary.out" | tail -n 1)
    if [ -z "$line" ]; then
        echo "FAIL $prog: exited $rc without a summary line"
        failed=$((failed + 1)); status=1; continue
    fi
    counts=$(echo "$line" | sed -E 's/^[^:]+: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/')
    p=${counts%% *}; s=${counts##* }; f=${counts#* }; f=${f% *}
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); echo "FAIL $prog: exit code $rc"; fi
    [ "$rc" -ne 0 ] && status=1
done
rm -f "$summary" "$summary.out"
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
