#!/bin/sh
# The README's test command: installs what is needed, builds, and runs the whole test suite twice,
# once as shipped and once under AddressSanitizer and UBSan.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh"

echo "== build (release) =="
"$here/scripts/build.sh" "$here/build"
echo "== tests (release) =="
ctest --test-dir "$here/build" --output-on-failure --timeout 600

echo "== build (AddressSanitizer + UBSan) =="
"$here/scripts/build.sh" "$here/build-asan" -DTWOFACTOR_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
echo "== tests (AddressSanitizer + UBSan) =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$here/build-asan" --output-on-failure --timeout 600 -LE no-sanitizer
