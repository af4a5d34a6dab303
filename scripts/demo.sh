#!/bin/sh
# The README's main command: installs what is needed, builds, and shows an SSH login with a
# password and a texted code, on loopback, against the local Twilio-compatible endpoint.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh"
"$here/scripts/build.sh" "$here/build" -DTWOFACTOR_TESTS=OFF
exec /usr/bin/python3 "$here/tests/e2e/demo.py" "$here/build"
