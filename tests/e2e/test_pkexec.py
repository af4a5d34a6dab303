#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""pkexec (the way PackageKit and GNOME Software install packages) with a password and a texted
code, from the installed packages: a normal user whom a polkit rule makes an administrator runs
`pkexec /bin/sh -c 'id -un > FILE'` on a terminal, with pkttyagent as the authentication agent.
polkit's setuid polkit-agent-helper-1 runs the PAM service polkit-1, which here stacks pam_unix
and the installed pam_twofactor.so. The system bus, polkitd, that PAM file and the rule are the
test's own, in a mount namespace of its own (tests/e2e/polkit.py)."""

import os
import pwd
import shutil
import tempfile
import unittest

import pexpect

from e2e_case import MODULE, InstalledTestCase, converse, main
from installed import USER_PREFIX
from polkit import PKEXEC, PKTTYAGENT, PolkitServices, Skip, enter_private_mount_namespace

SERVICE = "polkit-1"
STACK = [
    "auth     requisite pam_unix.so",
    f"auth     requisite {MODULE}",
    "account  required  pam_unix.so",
    "session  required  pam_unix.so",
]

# Run by the user on the terminal: pkttyagent registers for this shell, which is the process
# pkexec asks polkit about (its parent), and closes the notify descriptor once registered; then
# pkexec runs the command as root. (pkexec's own fallback agent cannot be used: polkit 122, as in
# Debian 12, answers its helper "No session for cookie", polkit-org/polkit#423.)
USER_SCRIPT = f"""
ready="$1"; proof="$2"
{PKTTYAGENT} --process $$ --notify-fd 3 3>"$ready" &
agent=$!
timeout 10 cat "$ready" >/dev/null
{PKEXEC} /bin/sh -c 'id -un > "$1"' pkexec-command "$proof"
status=$?
kill "$agent" 2>/dev/null
wait "$agent" 2>/dev/null
echo "pkexec exited with status $status"
exit "$status"
"""


class PkexecPasswordThenCode(InstalledTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.polkit = PolkitServices(STACK, admin_prefix=USER_PREFIX)
        cls.addClassCleanup(cls.polkit.stop)
        try:
            cls.polkit.start()
        except Skip as e:
            raise unittest.SkipTest(str(e))

    def setUp(self):
        super().setUp()
        self.user = self.new_user()
        self.secret = self.enroll(self.user)
        # Root's directory: only a command run as root can write the proof in it.
        self.dir = tempfile.mkdtemp(prefix="twofactor-e2e-pkexec-")
        os.chmod(self.dir, 0o755)
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.proof = os.path.join(self.dir, "ran-as")

    def pkexec(self, password, codes):
        """USER_SCRIPT typed by the user on a terminal of their own."""
        entry = pwd.getpwnam(self.user.name)
        ready = os.path.join(self.dir, "agent-ready")
        os.mkfifo(ready, 0o600)
        os.chown(ready, entry.pw_uid, entry.pw_gid)
        child = pexpect.spawn(
            "setpriv", [f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups",
                        "--", "/bin/sh", "-c", USER_SCRIPT, "pkexec-test", ready, self.proof],
            timeout=30, encoding="utf-8", codec_errors="replace",
            env={"PATH": "/usr/bin:/bin", "TERM": "dumb", "HOME": entry.pw_dir,
                 "USER": self.user.name, "LOGNAME": self.user.name})
        return converse(child, password, codes)

    def why(self, dialogue):
        """A failure's message: what the user saw, and what polkitd said."""
        return f"{dialogue!r}\n{self.polkit.logs_text()}"

    def ran_as(self):
        try:
            with open(self.proof) as f:
                return f.read().strip()
        except FileNotFoundError:
            return None

    def test_right_password_and_code_run_the_command_as_root(self):
        before = len(self.daemon.messages())
        dialogue = self.pkexec(self.user.password, [lambda: self.texted_code(before)])
        self.assertIn("AUTHENTICATION COMPLETE", dialogue.transcript, self.why(dialogue))
        self.assertIn("pkexec exited with status 0", dialogue.transcript, self.why(dialogue))
        self.assertEqual(dialogue.status, 0, self.why(dialogue))
        self.assertEqual(self.ran_as(), "root", self.why(dialogue))
        self.assertEqual(os.stat(self.proof).st_uid, 0)
        self.assertEqual(dialogue.passwords, 1, self.why(dialogue))
        self.assertEqual(len(dialogue.typed_codes), 1, self.why(dialogue))
        self.assertModuleLogged(SERVICE, self.user, "success (PAM_SUCCESS)")

    def test_wrong_code_is_refused_and_the_command_does_not_run(self):
        wrong = self.wrong_code(self.secret)
        before = len(self.daemon.messages())
        dialogue = self.pkexec(self.user.password, lambda: wrong)
        self.assertIsNone(self.ran_as(), self.why(dialogue))
        self.assertIn("AUTHENTICATION FAILED", dialogue.transcript, self.why(dialogue))
        self.assertIn("Not authorized", dialogue.transcript, self.why(dialogue))
        self.assertIn("pkexec exited with status 127", dialogue.transcript, self.why(dialogue))
        self.assertEqual(dialogue.status, 127, self.why(dialogue))
        self.assertIn("That code is wrong; 2 tries left.", dialogue.transcript, self.why(dialogue))
        self.assertEqual(dialogue.typed_codes, [wrong] * 3, self.why(dialogue))
        self.assertEqual(len(self.daemon.messages()), before + 1)
        self.assertModuleLogged(SERVICE, self.user, "too many tries (PAM_MAXTRIES)")

    def test_wrong_password_texts_nothing(self):
        before = len(self.daemon.messages())
        dialogue = self.pkexec(self.user.password + "-wrong", [])
        self.assertIsNone(self.ran_as(), self.why(dialogue))
        self.assertEqual(dialogue.status, 127, self.why(dialogue))
        self.assertNotIn("Verification code", dialogue.transcript)
        self.assertEqual(len(self.daemon.messages()), before)


if __name__ == "__main__":
    enter_private_mount_namespace()
    main()
