#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""SSH with a password and a texted code, from the installed packages: a real sshd on loopback
whose PAM service stacks pam_unix and the installed pam_twofactor.so, the installed twofactord
started as its systemd units start it, ssh answering the prompts on a pty."""

import hashlib
import os
import pwd
import stat
import subprocess

from e2e_case import MASKED, MODULE, InstalledTestCase, installed, main

STACK = [
    "auth     requisite pam_unix.so",
    f"auth     requisite {MODULE}",
    "account  required  pam_unix.so",
    "session  required  pam_unix.so",
]


class SshPasswordThenCode(InstalledTestCase):

    def setUp(self):
        super().setUp()
        self.user = self.new_user()
        self.secret = self.enroll(self.user)
        self.server = self.sshd(STACK, [self.user])

    def test_right_code_logs_in(self):
        before = len(self.daemon.messages())
        dialogue = self.ssh_login(self.server, self.user, [lambda: self.texted_code(before)])
        self.assertLoggedIn(dialogue, self.user)
        self.assertEqual(dialogue.passwords, 1, dialogue)
        self.assertIn(f"A verification code was texted to {MASKED}. Type resend to get a new "
                      "one.", dialogue.transcript)
        self.assertEqual(len(self.daemon.messages()), before + 1)
        self.assertModuleLogged(self.server.service, self.user, "success (PAM_SUCCESS)")

    def test_wrong_code_is_refused(self):
        wrong = self.wrong_code(self.secret)
        before = len(self.daemon.messages())
        dialogue = self.ssh_login(self.server, self.user, [wrong] * 3)
        self.assertRefused(dialogue)
        self.assertEqual(dialogue.typed_codes, [wrong] * 3)
        self.assertIn("That code is wrong; 2 tries left.", dialogue.transcript)
        self.assertIn("That code is wrong; 1 try left.", dialogue.transcript)
        self.assertEqual(len(self.daemon.messages()), before + 1)  # one challenge, one text
        # sshd does not show the final sentence of a failed conversation; the log has it.
        self.assertModuleLogged(self.server.service, self.user,
                                "too many tries (PAM_MAXTRIES)")

    def test_resend_texts_a_second_code_that_logs_in(self):
        before = len(self.daemon.messages())
        dialogue = self.ssh_login(self.server, self.user,
                                  ["resend", lambda: self.texted_code(before + 1)])
        self.assertLoggedIn(dialogue, self.user)
        self.assertIn(f"A new code was texted to {MASKED}.", dialogue.transcript)
        self.assertEqual(len(self.daemon.messages()), before + 2)
        self.assertEqual(len(dialogue.typed_codes), 2)
        self.assertModuleLogged(self.server.service, self.user, "success (PAM_SUCCESS)")

    def test_served_by_the_installed_daemon_as_its_user(self):
        # What the logins above talked to: the packaged binary, as _twofactord, on the
        # socket at its packaged path, with the shipped configuration file left as it was.
        user, executable = self.daemon.daemon_identity()
        self.assertEqual((user, executable), (installed.DAEMON_USER, installed.DAEMON))
        socket_stat = os.lstat(installed.SOCKET)
        self.assertTrue(stat.S_ISSOCK(socket_stat.st_mode))
        self.assertEqual((socket_stat.st_uid, stat.S_IMODE(socket_stat.st_mode)), (0, 0o666))
        database = os.stat(os.path.join(installed.STATE_DIR, "twofactord.db"))
        self.assertEqual(stat.S_IMODE(database.st_mode), 0o600)
        self.assertEqual(database.st_uid, pwd.getpwnam(installed.DAEMON_USER).pw_uid)
        conffiles = subprocess.run(["dpkg-query", "-W", "-f=${Conffiles}", "twofactord"],
                                   capture_output=True, text=True, timeout=30).stdout
        shipped = dict(line.split()[:2] for line in conffiles.strip().splitlines())
        with open("/etc/twofactord/twofactord.conf", "rb") as f:
            self.assertEqual(hashlib.md5(f.read()).hexdigest(),
                             shipped["/etc/twofactord/twofactord.conf"])


if __name__ == "__main__":
    main()
