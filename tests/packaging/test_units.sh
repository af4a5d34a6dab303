#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The systemd integration in systemd/: `systemd-analyze verify` prints nothing for the socket and
# the service, the service's offline security exposure is at most 1.5 (TWOFACTOR_MAX_EXPOSURE),
# and the sysusers.d and tmpfiles.d files create the user and directories they promise (applied
# to a temporary root, never to this system).
#
# verify needs ExecStart= to name an existing executable: the shipped unit says
# /usr/sbin/twofactord, the copy checked here names the given binary (or a stand-in script).
# Man pages named in Documentation= are checked too when they are installed.
#
# Usage: test_units.sh [PATH/TO/twofactord]
# Exit status: 0 pass, 1 fail, 77 skipped (systemd-analyze missing).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
units="$here/../../systemd"
binary=${1:-}
max_exposure=${TWOFACTOR_MAX_EXPOSURE:-1.5}

if ! command -v systemd-analyze >/dev/null; then
    echo "SKIP: systemd-analyze is missing (package systemd)"
    exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

if [ -n "$binary" ]; then
    binary=$(realpath -e "$binary") || { echo "FAIL: no such binary: $1"; exit 1; }
else
    binary="$tmp/twofactord"
    printf '#!/bin/sh\nexit 0\n' >"$binary"
    chmod 0755 "$binary"
fi
mkdir "$tmp/units"
cp "$units/twofactord.socket" "$tmp/units/"
if grep -qx 'ExecStart=/usr/sbin/twofactord' "$units/twofactord.service"; then
    pass "the service starts /usr/sbin/twofactord"
else
    fail "the service's ExecStart= is not /usr/sbin/twofactord"
fi
sed "s#^ExecStart=/usr/sbin/twofactord\$#ExecStart=$binary#" "$units/twofactord.service" \
    >"$tmp/units/twofactord.service"

man_check=no
if man -w twofactord.8 twofactord.conf.5 twofactorctl.1 pam_twofactor.8 >/dev/null 2>&1; then
    man_check=yes
fi
if out=$(systemd-analyze verify --man=$man_check "$tmp/units/twofactord.socket" \
    "$tmp/units/twofactord.service" 2>&1) && [ -z "$out" ]; then
    pass "systemd-analyze verify is clean (man pages checked: $man_check)"
else
    fail "systemd-analyze verify:"
    echo "$out"
fi

security=$(systemd-analyze security --offline=true "$tmp/units/twofactord.service" 2>&1) || true
exposure=$(printf '%s\n' "$security" |
    sed -n 's/^→ Overall exposure level for twofactord\.service: \([0-9.]*\) .*/\1/p')
if [ -z "$exposure" ]; then
    fail "no exposure level in systemd-analyze security output:"
    echo "$security"
elif awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'; then
    pass "security exposure $exposure <= $max_exposure"
else
    fail "security exposure $exposure > $max_exposure; what counts against it:"
    printf '%s\n' "$security" | grep '✗'
fi

# Every credential the daemon reads is loaded by the unit, and every one but the data key has a
# SetCredential= default, so that a host without that file (an agent has no Twilio token, a
# single host no TLS key) still starts.
sources="$here/../../daemon"
names=$(grep -rhoE '(credential_path|read_credential)\("[^"]+"\)|kCredentialName = "[^"]+"' \
    "$sources" | sed -E 's/.*"([^"]+)".*/\1/' | sort -u)
[ -n "$names" ] || fail "found no credential names in $sources"
for name in $names; do
    if ! grep -q "^LoadCredential=$name:" "$units/twofactord.service"; then
        fail "the daemon reads the credential $name, which the unit does not load"
    elif [ "$name" != twofactord.key ] &&
        ! grep -qF "SetCredential=$name:\n" "$units/twofactord.service"; then
        fail "the optional credential $name has no SetCredential= default"
    else
        pass "the unit loads the credential $name"
    fi
done

# sysusers.d and tmpfiles.d, applied to a scratch root seeded with this system's account files
# (systemd-sysusers allocates a uid that is free here).
root="$tmp/root"
mkdir -p "$root/etc" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d"
cp /etc/passwd /etc/group /etc/shadow /etc/gshadow "$root/etc/" 2>/dev/null || true
sed -i '/^_twofactord:/d' "$root/etc/passwd" "$root/etc/group" "$root/etc/shadow" "$root/etc/gshadow"
cp "$units/twofactord.sysusers" "$root/usr/lib/sysusers.d/twofactord.conf"
cp "$units/twofactord.tmpfiles" "$root/usr/lib/tmpfiles.d/twofactord.conf"
if systemd-sysusers --root="$root" twofactord.conf >"$tmp/sysusers.log" 2>&1; then
    entry=$(grep '^_twofactord:' "$root/etc/passwd" || true)
    IFS=: read -r name _ uid gid gecos home shell <<<"$entry"
    if [ "$name" = _twofactord ] && [ "$uid" -lt 1000 ] && [ "$home" = /var/lib/twofactord ] &&
        [ "$shell" = /usr/sbin/nologin ] && grep -q "^_twofactord:x:$gid:" "$root/etc/group"; then
        pass "sysusers.d: system user _twofactord (uid $uid, home $home, shell $shell, own group)"
    else
        fail "sysusers.d: unexpected account '$entry'"
    fi
else
    fail "systemd-sysusers failed: $(cat "$tmp/sysusers.log")"
fi
if systemd-tmpfiles --root="$root" --create twofactord.conf >"$tmp/tmpfiles.log" 2>&1; then
    state=$(stat -c '%a %u %g' "$root/var/lib/twofactord" 2>/dev/null || echo missing)
    run=$(stat -c '%a %u %g' "$root/run/twofactord" 2>/dev/null || echo missing)
    if [ "$state" = "700 ${uid:-?} ${gid:-?}" ]; then
        pass "tmpfiles.d: /var/lib/twofactord is 0700 _twofactord:_twofactord"
    else
        fail "tmpfiles.d: /var/lib/twofactord is '$state', expected '700 ${uid:-?} ${gid:-?}'"
    fi
    if [ "$run" = "755 0 0" ]; then
        pass "tmpfiles.d: /run/twofactord is 0755 root:root"
    else
        fail "tmpfiles.d: /run/twofactord is '$run', expected '755 0 0'"
    fi
else
    fail "systemd-tmpfiles failed: $(cat "$tmp/tmpfiles.log")"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
