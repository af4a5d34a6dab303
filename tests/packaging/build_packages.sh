#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Builds the Debian packages twofactord and libpam-twofactor once, for every test that needs
# them (ctest fixture "debs"): the repository's committed HEAD is cloned into a temporary
# directory, so uncommitted edits and build trees never reach the packages, and
# `dpkg-buildpackage -us -uc -b --jobs=auto` (a job per core) runs there. The .changes, the .buildinfo and the .debs it made
# (with their -dbgsym companions, which the .changes lists) are left in OUTDIR; package files of
# an earlier build in OUTDIR are removed first, so OUTDIR never holds two versions.
#
# Usage: build_packages.sh OUTDIR [REPOSITORY]   (default: the repository holding this script)
# Exit status: 0 built, 1 failed, 2 usage, 77 skipped (a build tool is missing).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: build_packages.sh OUTDIR [REPOSITORY]" >&2
    exit 2
fi
outdir=$1
repo=${2:-$(git -C "$here" rev-parse --show-toplevel)}

for tool in git dpkg-buildpackage; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool is missing (scripts/install-deps.sh installs it)"
        exit 77
    fi
done

work=$(mktemp -d /tmp/twofactor-build.XXXXXX)
trap 'rm -rf "$work"' EXIT

git clone --quiet "$repo" "$work/src"
echo "building $(git -C "$work/src" log -1 --format='%h %s')"
started=$(date +%s)
if ! (cd "$work/src" && timeout 1800 dpkg-buildpackage -us -uc -b --jobs=auto) >"$work/build.log" 2>&1; then
    tail -60 "$work/build.log"
    echo "FAIL: dpkg-buildpackage -us -uc -b failed (the last 60 lines of its log are above)"
    exit 1
fi

shopt -s nullglob
built=("$work"/twofactor_*.changes "$work"/twofactor_*.buildinfo "$work"/*.deb)
debs=("$work"/twofactord_*.deb "$work"/libpam-twofactor_*.deb)
if [ ${#debs[@]} -lt 2 ]; then
    echo "FAIL: dpkg-buildpackage made no twofactord and libpam-twofactor .debs:"
    ls -l "$work"
    exit 1
fi
mkdir -p "$outdir"
rm -f "$outdir"/twofactor_*.changes "$outdir"/twofactor_*.buildinfo "$outdir"/*.deb
cp "${built[@]}" "$outdir"/
echo "built in $(($(date +%s) - started)) s, in $outdir:"
(cd "$outdir" && ls -1 twofactor_*.changes twofactor_*.buildinfo ./*.deb | sed 's|^\./||')
