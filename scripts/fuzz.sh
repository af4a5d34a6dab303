#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Builds the libFuzzer targets with clang in build-fuzz and fuzzes each one in turn.
#   scripts/fuzz.sh [RUNS] [TARGET...]
# RUNS: executions per target (default 10000000). TARGETs: fuzz_protocol fuzz_config
# fuzz_twilio_answer fuzz_phone (default: all). FUZZ_BUILD_DIR overrides the build directory.
# Each target starts from its seeds (tests/fuzz/corpus/<target>) plus the build tree's work
# corpus, which keeps what earlier runs found. A finding (crash, leak, timeout, out of memory)
# is written to <build>/tests/fuzz/work/artifacts/ and makes the script exit 1 once every
# target has run; copy it into tests/fuzz/corpus/<target>/ as a regression seed once fixed.
# A run stopped by SIGINT/SIGTERM is not a finding: the script then exits 2.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-10000000}
[ $# -gt 0 ] && shift
targets=${*:-fuzz_protocol fuzz_config fuzz_twilio_answer fuzz_phone}
build=${FUZZ_BUILD_DIR:-$here/build-fuzz}

case $runs in
    '' | *[!0-9]*)
        echo "usage: $0 [RUNS] [TARGET...]   (RUNS is a number of executions)" >&2
        exit 2
        ;;
esac

cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWOFACTOR_FUZZ=ON >/dev/null
# shellcheck disable=SC2086 # one argument per target
cmake --build "$build" -j"$(nproc)" --target $targets

fuzz_dir=$build/tests/fuzz
work=$fuzz_dir/work
mkdir -p "$work/artifacts"
failed=""
interrupted=""
for target in $targets; do
    seeds=$here/tests/fuzz/corpus/$target
    run_dir=$work/run-$target
    mkdir -p "$work/$target" "$run_dir"
    rm -f "$run_dir"/fuzz-*.log
    dict=""
    [ -f "$here/tests/fuzz/$target.dict" ] && dict="-dict=$here/tests/fuzz/$target.dict"

    # Keep the work corpus minimal: libFuzzer's per-execution bookkeeping grows with the number
    # of inputs, and a long run leaves thousands that add no coverage.
    if [ -n "$(ls -A "$work/$target")" ]; then
        rm -rf "$work/$target.min"
        mkdir "$work/$target.min"
        if "$fuzz_dir/$target" -merge=1 "$work/$target.min" "$work/$target" \
            >"$run_dir/merge.log" 2>&1; then
            rm -rf "${work:?}/${target:?}"
            mv "$work/$target.min" "$work/$target"
        else
            echo "$target: minimising the work corpus failed (see $run_dir/merge.log); kept it"
            rm -rf "$work/$target.min"
        fi
    fi

    echo "== $target: $runs executions =="
    start=$(date +%s)
    status=0
    # -jobs=1 -workers=1: one fuzzing process whose output goes to $run_dir/fuzz-0.log, and
    # whose failure makes this parent process exit non-zero. malloc_context_size=0: ASan stops
    # recording a stack for every allocation, which costs a tenth of each execution; replay a
    # finding with the default options for full stacks.
    # shellcheck disable=SC2086 # $dict is empty or one word
    (cd "$run_dir" && ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0} \
        "$fuzz_dir/$target" -jobs=1 -workers=1 -runs="$runs" \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/$target-" $dict "$work/$target" "$seeds") \
        >"$run_dir/parent.log" 2>&1 || status=$?
    seconds=$(($(date +%s) - start))

    log=$run_dir/fuzz-0.log
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    per_second=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    final=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 || true)
    coverage=$(echo "$final" | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
    wall=""
    if [ -n "$executions" ] && [ "$seconds" -gt 0 ]; then
        wall=" ($((executions / seconds)) over the wall time)"
    fi
    echo "$target: ${executions:-?} executions, ${per_second:-?} exec/s$wall, ${seconds}s," \
        "${coverage:-no coverage line}"
    if [ "$status" -eq 0 ]; then
        continue
    elif grep -q "run interrupted" "$log" && ! grep -q "Test unit written to" "$log"; then
        # SIGINT or SIGTERM from outside: not a finding, but the run is short of RUNS.
        echo "$target: INTERRUPTED by a signal; run it again"
        interrupted="$interrupted $target"
    else
        echo "$target: FINDING (exit $status); the end of $log:"
        tail -n 40 "$log"
        grep "Test unit written to" "$log" || true
        failed="$failed $target"
    fi
done

if [ -n "$failed" ]; then
    echo "findings in:$failed (inputs in $work/artifacts/)"
    exit 1
fi
if [ -n "$interrupted" ]; then
    echo "interrupted:$interrupted"
    exit 2
fi
echo "no findings"
