#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The pam-auth-update profile debian/pam-configs/twofactor, checked without touching the system:
# pam-auth-update runs on a copy of /etc/pam.d and /var/lib/pam (--root), and the stack it writes
# runs under pam_wrapper with pam_matrix standing in for pam_unix.
#
# The second factor is first a pam_exec stand-in that records each call and answers as told, then
# (when a module path is given) the real pam_twofactor.so with no daemon to talk to.
#
# Usage: test_pam_profile.sh [PATH/TO/pam_twofactor.so]
# Exit status: 0 pass, 1 fail, 77 skipped (a tool is missing).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
profile="$here/../../debian/pam-configs/twofactor"
module=${1:-}
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
pam_wrapper=/usr/lib/$multiarch/libpam_wrapper.so
pam_matrix=/usr/lib/$multiarch/pam_wrapper/pam_matrix.so

for tool in pam-auth-update pamtester "$pam_wrapper" "$pam_matrix"; do
    if ! command -v "$tool" >/dev/null && [ ! -e "$tool" ]; then
        echo "SKIP: $tool is missing (packages libpam-runtime, pamtester, libpam-wrapper)"
        exit 77
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# A private root for pam-auth-update: the system's stock profiles and state plus ours.
root="$tmp/root"
mkdir -p "$root/etc/pam.d" "$root/var/lib/pam" "$root/usr/share/pam-configs"
cp /etc/pam.d/common-* "$root/etc/pam.d/"
cp -r /var/lib/pam/. "$root/var/lib/pam/"
cp /usr/share/pam-configs/* "$root/usr/share/pam-configs/"
rm -f "$root/usr/share/pam-configs/twofactor"
cp "$profile" "$root/usr/share/pam-configs/twofactor"

# pam-auth-update keeps the chosen profiles in debconf even with --root: give it private copies
# of the debconf databases so the system's own choice is never touched.
cp /var/cache/debconf/config.dat /var/cache/debconf/templates.dat "$tmp/"
cat >"$tmp/debconf.conf" <<CONF
Config: configdb
Templates: templatedb

Name: configdb
Driver: File
Filename: $tmp/config.dat

Name: templatedb
Driver: File
Mode: 644
Filename: $tmp/templates.dat
CONF
system_state() { cat /etc/pam.d/common-* /var/lib/pam/* /var/cache/debconf/config.dat | md5sum; }
state_before=$(system_state)
pam_auth_update() {
    HOME=$tmp DEBCONF_SYSTEMRC=$tmp/debconf.conf DEBIAN_FRONTEND=noninteractive \
        pam-auth-update --root "$root" "$@"
}

# What the package's postinst runs: the profile must stay off.
pam_auth_update --package
if grep -q pam_twofactor "$root/etc/pam.d/common-auth"; then
    fail "installing enabled the profile (Default: no expected)"
else
    pass "pam-auth-update --package leaves the profile disabled"
fi

pam_auth_update --enable twofactor
auth="$tmp/common-auth.enabled"
cp "$root/etc/pam.d/common-auth" "$auth"
# The module line must come after pam_permit, i.e. in the Additional block that only a successful
# Primary block reaches, and be requisite so that a refused code ends the stack.
permit_line=$(grep -n '^auth[[:space:]].*pam_permit\.so' "$auth" | head -1 | cut -d: -f1)
module_line=$(grep -n '^auth[[:space:]].*pam_twofactor\.so' "$auth" | head -1 | cut -d: -f1)
if [ -z "$module_line" ]; then
    fail "--enable twofactor did not add pam_twofactor.so to common-auth"
    cat "$auth"
    exit 1
fi
if [ -n "$permit_line" ] && [ "$module_line" -gt "$permit_line" ]; then
    pass "pam_twofactor.so is after pam_permit.so (line $module_line > $permit_line)"
else
    fail "pam_twofactor.so (line $module_line) is not after pam_permit.so (line ${permit_line:-none})"
fi
if grep -Eq '^auth[[:space:]]+requisite[[:space:]]+pam_twofactor\.so nullok$' "$auth"; then
    pass "the line is 'auth requisite pam_twofactor.so nullok'"
else
    fail "unexpected module line: $(sed -n "${module_line}p" "$auth")"
fi

# Turn the generated auth lines into a service file for pam_wrapper.
# $1: what replaces "pam_twofactor.so nullok" (empty: drop that line).
services="$tmp/services"
mkdir -p "$services"
# The module asks NSS for the account (an unknown name is refused before the daemon is asked), so
# the password database names an account every Debian system has.
user=nobody
printf '%s:right-password:twofactor-profile\n' "$user" >"$tmp/passdb"
write_service() {
    local second_factor=$1 source=$2
    {
        grep '^auth[[:space:]]' "$source" |
            sed -E "s#pam_unix\.so.*#$pam_matrix passdb=$tmp/passdb#" |
            if [ -n "$second_factor" ]; then
                sed -E "s#pam_twofactor\.so nullok\$#$second_factor#"
            else
                grep -v pam_twofactor
            fi
        echo "account required pam_permit.so"
    } >"$services/twofactor-profile"
}

# Stand-in second factor: logs each call, answers with the exit status in $tmp/verdict.
cat >"$tmp/second_factor.sh" <<SCRIPT
#!/bin/sh
echo called >>"$tmp/calls"
exit \$(cat "$tmp/verdict")
SCRIPT
chmod +x "$tmp/second_factor.sh"

# login PASSWORD VERDICT -> prints "success" or "failure"; $tmp/calls counts the module's runs.
login() {
    echo "$2" >"$tmp/verdict"
    if printf '%s\n' "$1" |
        LD_PRELOAD=$pam_wrapper PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$services \
            timeout 20 pamtester twofactor-profile "$user" authenticate >"$tmp/pamtester.log" 2>&1; then
        echo success
    else
        echo failure
    fi
}
calls() { if [ -f "$tmp/calls" ]; then wc -l <"$tmp/calls"; else echo 0; fi; }

check() {  # check DESCRIPTION PASSWORD VERDICT EXPECTED_RESULT EXPECTED_CALLS
    rm -f "$tmp/calls"
    local result
    result=$(login "$2" "$3")
    if [ "$result" = "$4" ] && [ "$(calls)" -eq "$5" ]; then
        pass "$1: $result, second factor asked $5 time(s)"
    else
        fail "$1: got $result and $(calls) call(s), expected $4 and $5"
        cat "$tmp/pamtester.log"
    fi
}

write_service "pam_exec.so quiet $tmp/second_factor.sh" "$auth"
check "right password, code accepted" right-password 0 success 1
check "right password, code refused" right-password 1 failure 1
check "wrong password" wrong-password 0 failure 0

pam_auth_update --disable twofactor
if grep -q pam_twofactor "$root/etc/pam.d/common-auth"; then
    fail "--disable twofactor left pam_twofactor.so in common-auth"
else
    pass "--disable twofactor removes the line"
fi
write_service "" "$root/etc/pam.d/common-auth"
check "profile disabled, right password" right-password 1 success 0

if [ -n "$module" ]; then
    # The real module, enabled, with no daemon behind its socket: it must fail closed.
    write_service "$module nullok socket=$tmp/no-daemon.socket timeout=2" "$auth"
    rm -f "$tmp/calls"
    result=$(login right-password 0)
    if [ "$result" = failure ]; then
        pass "real module, daemon unreachable: login refused (fails closed)"
    else
        fail "real module, daemon unreachable: login succeeded"
        cat "$tmp/pamtester.log"
    fi
    # Control: the same line with failmode=safe lets the login through, so the refusal above came
    # from the module's decision, not from libpam failing to load it.
    write_service "$module nullok socket=$tmp/no-daemon.socket timeout=2 failmode=safe" "$auth"
    result=$(login right-password 0)
    if [ "$result" = success ]; then
        pass "real module, daemon unreachable, failmode=safe: login let through (module loads)"
    else
        fail "real module with failmode=safe refused the login: is the module loadable?"
        cat "$tmp/pamtester.log"
    fi
fi

if [ "$(system_state)" = "$state_before" ]; then
    pass "the system's PAM configuration and debconf database are untouched"
else
    fail "the system's PAM configuration or debconf database changed"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
