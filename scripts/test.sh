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

echo "== fuzz smoke (libFuzzer, clang) =="
cmake -S "$here" -B "$here/build-fuzz" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWOFACTOR_FUZZ=ON -DTWOFACTOR_WERROR=ON
cmake --build "$here/build-fuzz" -j"$(nproc)" --target fuzz_protocol fuzz_config \
    fuzz_twilio_answer fuzz_phone
ctest --test-dir "$here/build-fuzz" --output-on-failure -L '^fuzz$'
