#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The README's main command: installs what is needed, builds, and shows an SSH login with a
# password and a texted code, on loopback, against the local Twilio-compatible endpoint.
# It builds in its own tree, build-demo, without the tests: scripts/test.sh never sees it.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh"
"$here/scripts/build.sh" "$here/build-demo" -DTWOFACTOR_TESTS=OFF -DTWOFACTOR_SANITIZE=OFF \
    -DTWOFACTOR_FUZZ=OFF
exec /usr/bin/python3 "$here/tests/e2e/demo.py" "$here/build-demo"
