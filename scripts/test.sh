#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The README's test command: installs what is needed, builds, and runs the whole test suite twice,
# once as shipped and once under AddressSanitizer and UBSan, then the fuzzers' smoke runs.
# Its build trees are its own (build-test, build-asan, build-fuzz) and every option it relies on
# is given on the command line, so what the demo or a developer configured never changes what
# runs. Each run must find tests, run every test it lists and skip none.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh"

# Tests that use the whole machine run alone: sshd, sudo and pkexec logins and the installed
# packages (e2e, packaging, and the rest that cannot run under the sanitizers), and the
# benchmark's smoke run. The others start their own daemons, endpoints and servers on free ports
# and wait on them most of the time, so they run two at a time.
SERIAL_LABELS='e2e|packaging|bench|no-sanitizer'
JOBS=2

# run_suite BUILD_DIR [ctest selection...]: runs the selected tests, then checks that ctest ran
# exactly as many as it lists for that selection and skipped none.
run_suite() {
    build=$1
    shift
    listed=$(ctest --test-dir "$build" -N "$@" | sed -n 's/^Total Tests: //p')
    report=$build/ctest-junit.xml
    rm -f "$report"
    ctest --test-dir "$build" --output-on-failure --timeout 600 --no-tests=error \
        --output-junit "$report" "$@"
    ran=$(sed -n 's/^[[:space:]]*tests="\([0-9]*\)"$/\1/p' "$report")
    skipped=$(sed -n 's/^[[:space:]]*skipped="\([0-9]*\)"$/\1/p' "$report")
    if [ -z "$listed" ] || [ "$listed" -eq 0 ] || [ "$ran" != "$listed" ] || [ "$skipped" != 0 ]; then
        echo "test.sh: $build: ctest lists ${listed:-no} tests, ran ${ran:-none}, skipped ${skipped:-?}" >&2
        exit 1
    fi
    echo "test.sh: $build: ran all $ran tests listed, none skipped"
}

# require_labels BUILD_DIR LABEL...: the release suite must hold every kind of test.
require_labels() {
    build=$1
    shift
    for label in "$@"; do
        count=$(ctest --test-dir "$build" -N -L "^$label\$" | sed -n 's/^Total Tests: //p')
        if [ "${count:-0}" -eq 0 ]; then
            echo "test.sh: $build lists no test labelled $label" >&2
            exit 1
        fi
    done
}

echo "== build (release) =="
"$here/scripts/build.sh" "$here/build-test" -DTWOFACTOR_TESTS=ON -DTWOFACTOR_SANITIZE=OFF \
    -DTWOFACTOR_FUZZ=OFF
require_labels "$here/build-test" unit integration e2e packaging
echo "== tests (release) =="
run_suite "$here/build-test" -j "$JOBS" -LE "$SERIAL_LABELS"
run_suite "$here/build-test" -L "$SERIAL_LABELS"

echo "== build (AddressSanitizer + UBSan) =="
"$here/scripts/build.sh" "$here/build-asan" -DTWOFACTOR_TESTS=ON -DTWOFACTOR_SANITIZE=ON \
    -DTWOFACTOR_FUZZ=OFF -DCMAKE_BUILD_TYPE=Debug
echo "== tests (AddressSanitizer + UBSan) =="
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite "$here/build-asan" -j "$JOBS" -LE "$SERIAL_LABELS"
run_suite "$here/build-asan" -L "$SERIAL_LABELS" -LE no-sanitizer

echo "== fuzz smoke (libFuzzer, clang) =="
cmake -S "$here" -B "$here/build-fuzz" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWOFACTOR_FUZZ=ON -DTWOFACTOR_TESTS=ON \
    -DTWOFACTOR_SANITIZE=OFF -DTWOFACTOR_WERROR=ON
cmake --build "$here/build-fuzz" -j"$(nproc)" --target fuzz_protocol fuzz_config \
    fuzz_twilio_answer fuzz_phone
run_suite "$here/build-fuzz" -L '^fuzz$'
