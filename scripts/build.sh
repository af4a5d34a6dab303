#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Configures and builds one tree: scripts/build.sh BUILD_DIR [extra cmake options...]
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=$1
shift
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTWOFACTOR_WERROR=ON "$@"
cmake --build "$build" -j"$(nproc)"
