#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# End to end for the Debian packages: build twofactord and libpam-twofactor from a clean clone,
# run lintian (no error, no warning), install them, check files, modes, the system user, the key
# and the state directory, run the installed daemon the way its unit does, reinstall (the key must
# survive), remove, check what stays, purge, check what goes. The machine is left as it was found:
# the packages are purged and the _twofactord user, which purge keeps on purpose, is deleted if
# this test created it.
#
# Usage: test_packages.sh [REPOSITORY]   (default: the repository holding this script; its
#                                          committed HEAD is what gets built)
# With TWOFACTOR_PACKAGES_DIR set, the packages are not built here: the .changes, .buildinfo and
# .debs are copied from that directory (tests/packaging/build_packages.sh leaves them there;
# ctest's fixture "debs" runs it once for every test that needs the packages).
# Exit status: 0 pass, 1 fail, 77 skipped (not root, a tool missing, or twofactor already on
# this machine, which this test will not touch).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=${1:-$(git -C "$here" rev-parse --show-toplevel)}
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
packages=(twofactord libpam-twofactor)
user=_twofactord

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (installs packages)"
for tool in git dpkg-buildpackage lintian apt-get setpriv; do
    command -v "$tool" >/dev/null || skip "$tool is missing"
done
for package in "${packages[@]}"; do
    if dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qv '^not-installed$'; then
        skip "$package is already on this machine"
    fi
done
for path in /etc/twofactord /var/lib/twofactord /usr/sbin/twofactord /usr/share/pam-configs/twofactor; do
    [ ! -e "$path" ] || skip "$path already exists"
done
user_existed=no
getent passwd "$user" >/dev/null && user_existed=yes

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

work=$(mktemp -d /tmp/twofactor-packages.XXXXXX)
chmod 0755 "$work"  # the daemon's user must reach its socket and credentials below
daemon_pid=
cleanup() {
    set +e
    if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; fi
    for package in "${packages[@]}"; do
        if dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qv '^not-installed$'; then
            DEBIAN_FRONTEND=noninteractive timeout 600 apt-get purge -y -q "$package" >/dev/null 2>&1
        fi
    done
    if [ "$user_existed" = no ] && getent passwd "$user" >/dev/null; then
        userdel "$user"
        getent group "$user" >/dev/null && groupdel "$user"
    fi
    rm -rf "$work"
}
trap cleanup EXIT

apt() { DEBIAN_FRONTEND=noninteractive timeout 600 apt-get -y -q "$@" >>"$work/apt.log" 2>&1; }
# stat_is PATH "MODE OWNER GROUP"
stat_is() {
    local got
    got=$(stat -c '%a %U %G' "$1" 2>/dev/null || echo missing)
    if [ "$got" = "$2" ]; then pass "$1 is $2"; else fail "$1 is '$got', expected '$2'"; fi
}
gone() { if [ -e "$1" ] || [ -L "$1" ]; then fail "$1 is still there"; else pass "$1 is gone"; fi; }
there() { if [ -e "$1" ]; then pass "$1 is still there"; else fail "$1 is missing"; fi; }
pam_state() { cat /etc/pam.d/common-* /var/lib/pam/* | md5sum; }
pam_before=$(pam_state)

# --- build (or take the packages built for this test run) --------------------------------------
git clone --quiet "$repo" "$work/src"
if [ -n "${TWOFACTOR_PACKAGES_DIR:-}" ]; then
    built=$(ls "$TWOFACTOR_PACKAGES_DIR"/twofactor_*.changes 2>/dev/null || true)
    if [ "$(echo "$built" | grep -c .)" -ne 1 ]; then
        fail "TWOFACTOR_PACKAGES_DIR=$TWOFACTOR_PACKAGES_DIR holds no single twofactor_*.changes" \
            "(run tests/packaging/build_packages.sh $TWOFACTOR_PACKAGES_DIR)"
        exit 1
    fi
    cp "$TWOFACTOR_PACKAGES_DIR"/twofactor_*.changes "$TWOFACTOR_PACKAGES_DIR"/twofactor_*.buildinfo \
        "$TWOFACTOR_PACKAGES_DIR"/*.deb "$work"/
    pass "packages from $TWOFACTOR_PACKAGES_DIR ($(basename "$built"))"
else
    echo "building $(git -C "$work/src" log -1 --format='%h %s')"
    if ! (cd "$work/src" && timeout 1800 dpkg-buildpackage -us -uc -b --jobs=auto) >"$work/build.log" 2>&1; then
        tail -40 "$work/build.log"
        fail "dpkg-buildpackage failed"
        exit 1
    fi
    pass "dpkg-buildpackage -us -uc -b"
fi
changes=$(ls "$work"/twofactor_*.changes)
debs=("$work"/twofactord_*.deb "$work"/libpam-twofactor_*.deb)

if lintian --fail-on error,warning --display-info "$changes" >"$work/lintian.log" 2>&1; then
    pass "lintian: no error, no warning ($(grep -c '^[IP]:' "$work/lintian.log" || true) info/pedantic tags)"
else
    fail "lintian reported errors or warnings:"
fi
grep -E '^[EWIPX]:' "$work/lintian.log" || true

# --- install -----------------------------------------------------------------------------------
if apt install "${debs[@]}"; then
    pass "apt-get install of both packages"
else
    tail -30 "$work/apt.log"
    fail "apt-get install failed"
    exit 1
fi

stat_is /usr/sbin/twofactord "755 root root"
stat_is /usr/bin/twofactorctl "755 root root"
stat_is "/lib/$multiarch/security/pam_twofactor.so" "644 root root"
stat_is /lib/systemd/system/twofactord.service "644 root root"
stat_is /lib/systemd/system/twofactord.socket "644 root root"
stat_is /usr/lib/sysusers.d/twofactord.conf "644 root root"
stat_is /usr/lib/tmpfiles.d/twofactord.conf "644 root root"
stat_is /usr/share/pam-configs/twofactor "644 root root"
stat_is /etc/twofactord/twofactord.conf "644 root root"
if dpkg-query -W -f='${Conffiles}\n' twofactord | grep -q '^ /etc/twofactord/twofactord.conf '; then
    pass "/etc/twofactord/twofactord.conf is a conffile"
else
    fail "/etc/twofactord/twofactord.conf is not a conffile"
fi
for page in twofactord.8 twofactord.conf.5 twofactorctl.1 pam_twofactor.8; do
    if man -w "$page" >/dev/null 2>&1; then pass "man page $page"; else fail "no man page $page"; fi
done

IFS=: read -r _ _ uid _ _ home shell <<<"$(getent passwd "$user" || echo)"
if [ -n "$uid" ] && [ "$uid" -lt 1000 ] && [ "$home" = /var/lib/twofactord ] &&
    [ "$shell" = /usr/sbin/nologin ]; then
    pass "system user $user (uid $uid, home $home, shell $shell)"
else
    fail "user $user: '$(getent passwd "$user" || true)'"
fi
stat_is /etc/twofactord/key "600 root root"
key_size=$(stat -c %s /etc/twofactord/key 2>/dev/null || echo 0)
[ "$key_size" -eq 32 ] && pass "the key holds 32 bytes" || fail "the key holds $key_size bytes"
key_sum=$(sha256sum /etc/twofactord/key | cut -d' ' -f1)
stat_is /var/lib/twofactord "700 $user $user"
if [ -L /etc/systemd/system/sockets.target.wants/twofactord.socket ]; then
    pass "twofactord.socket is enabled"
else
    fail "twofactord.socket is not enabled"
fi
if grep -q pam_twofactor /etc/pam.d/common-auth; then
    fail "installing enabled the PAM profile"
else
    pass "installing left /etc/pam.d/common-auth alone (profile Default: no)"
fi
if out=$(systemd-analyze verify /lib/systemd/system/twofactord.socket \
    /lib/systemd/system/twofactord.service 2>&1) && [ -z "$out" ]; then
    pass "systemd-analyze verify of the installed units (binary and man pages present) is clean"
else
    fail "systemd-analyze verify of the installed units: $out"
fi

# The installed daemon, run the way its unit runs it: as _twofactord, the key handed over as the
# credential twofactord.key, the shipped configuration, the database in /var/lib/twofactord.
credentials="$work/credentials"
install -d -m 0700 -o "$user" -g "$user" "$credentials" "$work/run"
install -m 0400 -o "$user" -g "$user" /etc/twofactord/key "$credentials/twofactord.key"
setpriv --reuid="$user" --regid="$user" --init-groups --inh-caps=-all \
    env CREDENTIALS_DIRECTORY="$credentials" /usr/sbin/twofactord --socket "$work/run/socket" \
    >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
    [ -S "$work/run/socket" ] && break
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -S "$work/run/socket" ]; then
    pass "the installed daemon starts with the shipped configuration"
    status=0
    timeout 20 twofactorctl --socket "$work/run/socket" status root >"$work/ctl.log" 2>&1 || status=$?
    if [ "$status" -eq 0 ] || [ "$status" -eq 1 ]; then
        pass "twofactorctl status reaches the daemon (exit $status)"
    else
        fail "twofactorctl status exited $status: $(cat "$work/ctl.log")"
    fi
    stat_is /var/lib/twofactord/twofactord.db "600 $user $user"
else
    fail "the installed daemon did not start: $(cat "$work/daemon.log")"
fi
kill "$daemon_pid" 2>/dev/null || true
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=

# The installed module, enabled in a private copy of the stack, fails closed without a daemon.
if bash "$work/src/tests/packaging/test_pam_profile.sh" "/lib/$multiarch/security/pam_twofactor.so" \
    >"$work/pam.log" 2>&1; then
    pass "pam-auth-update profile and installed module (test_pam_profile.sh)"
else
    fail "test_pam_profile.sh with the installed module:"
    cat "$work/pam.log"
fi

# --- reinstall: what an upgrade runs; the key must not change -----------------------------------
if apt install --reinstall "${debs[@]}"; then pass "apt-get install --reinstall"; else fail "reinstall failed"; fi
[ "$(sha256sum /etc/twofactord/key | cut -d' ' -f1)" = "$key_sum" ] &&
    pass "the key survives a reinstall unchanged" || fail "reinstalling replaced the key"
there /var/lib/twofactord/twofactord.db

# --- remove ------------------------------------------------------------------------------------
if apt remove "${packages[@]}"; then pass "apt-get remove"; else fail "apt-get remove failed"; fi
for path in /usr/sbin/twofactord /usr/bin/twofactorctl "/lib/$multiarch/security/pam_twofactor.so" \
    /lib/systemd/system/twofactord.service /lib/systemd/system/twofactord.socket \
    /usr/share/pam-configs/twofactor /usr/lib/sysusers.d/twofactord.conf \
    /usr/lib/tmpfiles.d/twofactord.conf; do
    gone "$path"
done
for path in /etc/twofactord/twofactord.conf /etc/twofactord/key /var/lib/twofactord/twofactord.db; do
    there "$path"
done
getent passwd "$user" >/dev/null && pass "user $user kept after remove" || fail "user $user is gone"
grep -q pam_twofactor /etc/pam.d/common-auth && fail "common-auth still names pam_twofactor" ||
    pass "common-auth does not name pam_twofactor"

# --- purge -------------------------------------------------------------------------------------
if apt purge "${packages[@]}"; then pass "apt-get purge"; else fail "apt-get purge failed"; fi
for path in /etc/twofactord /var/lib/twofactord /etc/systemd/system/sockets.target.wants/twofactord.socket; do
    gone "$path"
done
getent passwd "$user" >/dev/null && pass "user $user kept after purge (system users stay)" ||
    fail "purge deleted user $user"
for package in "${packages[@]}"; do
    state=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || echo not-installed)
    [ "$state" = not-installed ] && pass "$package is purged" || fail "$package is '$state'"
done
[ "$(pam_state)" = "$pam_before" ] && pass "/etc/pam.d/common-* and /var/lib/pam are as before" ||
    fail "/etc/pam.d/common-* or /var/lib/pam changed"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
