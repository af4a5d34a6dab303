# SPDX-License-Identifier: BSD-2-Clause
"""A small system tree for `twofactorctl doctor --root`: configured as the README says (the
module in common-auth through pam-auth-update, sshd with password and code, sudo and polkit
through common-auth), for the tests to break one thing at a time."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import binary  # noqa: E402

DOCTOR_TIMEOUT = 30  # seconds; doctor takes well under one

CLEAN = {
    "/etc/pam.d/common-auth": (
        "# as pam-auth-update writes it with the twofactor profile on\n"
        "auth\t[success=1 default=ignore]\tpam_unix.so nullok\n"
        "auth\trequisite\t\t\tpam_deny.so\n"
        "auth\trequired\t\t\tpam_permit.so\n"
        "auth\trequisite\t\t\tpam_twofactor.so nullok\n"),
    "/etc/pam.d/common-account": "account required pam_unix.so\n",
    "/etc/pam.d/common-session": "session required pam_unix.so\n",
    "/etc/pam.d/common-password": "password required pam_unix.so\n",
    "/etc/pam.d/sshd": ("@include common-auth\n"
                        "account required pam_nologin.so\n"
                        "@include common-account\n"
                        "@include common-session\n"
                        "@include common-password\n"),
    "/etc/pam.d/sudo": ("session required pam_limits.so\n"
                        "@include common-auth\n"
                        "@include common-account\n"
                        "@include common-session\n"),
    "/etc/pam.d/sudo-i": "@include sudo\n",
    "/etc/pam.d/su": ("auth sufficient pam_rootok.so\n"
                      "@include common-auth\n"
                      "@include common-account\n"
                      "@include common-session\n"),
    "/etc/pam.d/su-l": "@include su\n",
    "/etc/pam.d/login": ("auth optional pam_faildelay.so delay=3000000\n"
                         "auth requisite pam_nologin.so\n"
                         "@include common-auth\n"
                         "@include common-account\n"
                         "@include common-session\n"),
    "/usr/lib/pam.d/polkit-1": ("@include common-auth\n"
                                "@include common-account\n"
                                "@include common-password\n"
                                "@include common-session\n"),
    "/etc/ssh/sshd_config": ("Include /etc/ssh/sshd_config.d/*.conf\n"
                             "UsePAM yes\n"
                             "KbdInteractiveAuthentication yes\n"
                             "PasswordAuthentication no\n"
                             "AuthenticationMethods keyboard-interactive\n"
                             "Subsystem sftp /usr/lib/openssh/sftp-server\n"),
    "/etc/sudoers": ("Defaults env_reset\n"
                     "Defaults secure_path=\"/usr/sbin:/usr/bin:/sbin:/bin\"\n"
                     "root ALL=(ALL:ALL) ALL\n"
                     "%sudo ALL=(ALL:ALL) ALL\n"
                     "@includedir /etc/sudoers.d\n"),
    "/etc/sudoers.d/README": "# files here are read by sudo\n",
    "/etc/passwd": ("root:x:0:0:root:/root:/bin/bash\n"
                    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                    "_twofactord:x:998:998::/var/lib/twofactord:/usr/sbin/nologin\n"),
    "/etc/group": ("root:x:0:\n"
                   "sudo:x:27:\n"
                   "_twofactord:x:998:\n"),
    "/etc/twofactord/twofactord.conf": ("[twilio]\n"
                                        "account_sid = AC0123456789abcdef0123456789abcdef\n"
                                        "from = +15005550006\n"),
    "/etc/polkit-1/rules.d/50-admin.rules": (
        "polkit.addAdminRule(function(action, subject) {\n"
        "    return [\"unix-group:sudo\"];\n"
        "});\n"),
}
MODES = {"/etc/twofactord/twofactord.conf": 0o644, "/etc/twofactord/key": 0o600,
         "/etc/sudoers": 0o440}


class DoctorTree:
    """A temporary tree with the clean configuration; removed by close()."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="doctor-tree-")
        for path, text in CLEAN.items():
            self.write(path, text)
        self.write("/etc/twofactord/key", "k" * 32)
        for path, mode in MODES.items():
            os.chmod(self.host(path), mode)

    def host(self, path):
        return self.root + path

    def write(self, path, text, mode=0o644):
        host = self.host(path)
        os.makedirs(os.path.dirname(host), exist_ok=True)
        if os.path.lexists(host) and not os.path.isfile(host):
            os.remove(host)
        with open(host, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(host, mode)

    def remove(self, path):
        os.remove(self.host(path))

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def run_doctor(*args, env=None, timeout=DOCTOR_TIMEOUT, preexec_fn=None):
    """Runs `twofactorctl ... doctor --json ARGS`; returns (exit status, report, stderr)."""
    command = [binary("TWOFACTORCTL"), "doctor", "--json", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          check=False, preexec_fn=preexec_fn)
    try:
        report = json.loads(done.stdout) if done.stdout.strip() else None
    except ValueError:
        report = None
    return done.returncode, report, done.stderr


def problems(report):
    """The findings that count (not notes), as (finding, file, line) triples."""
    return [(f["finding"], f["file"], f["line"]) for f in report["findings"]
            if f["severity"] != "note"]
