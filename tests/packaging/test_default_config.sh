#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# etc/twofactord.conf, the configuration the package installs, against the daemon's parser: the
# file as shipped, and the file with every commented "#key = value" line switched on (so a key
# renamed in the daemon but not in the file shows up here). Each must let twofactord start.
# auth_token and auth_token_file are left out of the second run (they exclude each other and the
# file would have to exist), and so is api_url (edge and region replace it); api_key_secret_file and
# ca_file point at files the test provides.
#
# Usage: test_default_config.sh PATH/TO/twofactord
# Exit status: 0 pass, 1 fail.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
config="$here/../../etc/twofactord.conf"
daemon=$(realpath -e "${1:?usage: test_default_config.sh PATH/TO/twofactord}")

tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
failures=0

# starts CONFIG_FILE DESCRIPTION: the daemon reaches "listening" within 10 s, then stops on TERM.
starts() {
    local dir="$tmp/$2"
    mkdir -p "$dir"
    "$daemon" --config "$1" --socket "$dir/socket" --database "$dir/db" --key-file "$dir/key" \
        >"$dir/log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        [ -S "$dir/socket" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -S "$dir/socket" ]; then
        echo "ok: twofactord starts with the $2 configuration"
    else
        echo "FAIL: twofactord did not start with the $2 configuration:"
        cat "$dir/log"
        failures=$((failures + 1))
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
}

starts "$config" shipped

# The files the example lines name must exist: a secret file the daemon's owner alone may read, and
# a CA bundle every Debian machine has.
install -m 600 /dev/null "$tmp/api-key-secret"
echo "example-api-key-secret" >"$tmp/api-key-secret"
sed -E -e '/^#(auth_token|auth_token_file|api_url) *=/d' -e 's/^#([a-z_]+ = .*)$/\1/' \
    -e "s|^(api_key_secret_file = ).*|\1$tmp/api-key-secret|" \
    -e 's|^(ca_file = ).*|\1/etc/ssl/certs/ca-certificates.crt|' "$config" >"$tmp/all.conf"
enabled=$(grep -cE '^[a-z_]+ = ' "$tmp/all.conf" || true)
if [ "$enabled" -lt 20 ]; then
    echo "FAIL: only $enabled example lines found in $config"
    failures=$((failures + 1))
fi
starts "$tmp/all.conf" "every-example-line-on ($enabled keys)"

[ "$failures" -eq 0 ] && echo "all checks passed" || { echo "$failures check(s) failed"; exit 1; }
