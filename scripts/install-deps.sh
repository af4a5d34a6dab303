#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Installs everything the build, the tests and the demo need (Debian 12, as root).
set -eu
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root (it uses apt-get)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
    build-essential cmake pkg-config git ca-certificates \
    libpam0g-dev libsystemd-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev \
    libcmocka-dev nlohmann-json3-dev libpq-dev postgresql \
    libqrencode-dev qrencode zbar-tools \
    python3 python3-pexpect sqlite3 \
    pamtester libpam-wrapper openssh-server openssh-client sudo expect passwd util-linux \
    dbus-daemon polkitd pkexec \
    valgrind systemd clang libclang-rt-14-dev llvm \
    libpam-google-authenticator libpam-oath \
    debhelper devscripts lintian fakeroot dpkg-dev pandoc man-db
