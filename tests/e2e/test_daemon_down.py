#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The installed module with the daemon down and `failmode=secure timeout=5`: a stopped daemon
(socket gone, as stopping its systemd units leaves it) and a frozen one (SIGSTOP: the socket
accepts, nobody answers) each refuse an SSH login and a sudo, within the timeout, and sudo shows
the sentence saying why. With failmode=safe the same sudo goes through and says so."""

import os

from e2e_case import MODULE, InstalledTestCase, installed, main

TIMEOUT = 5      # the module's timeout= option
WELL_UNDER = 15  # a refusal must come sooner than this, in seconds
UNREACHABLE = ("The two-factor service is not answering, so you cannot log in now; please try "
               "again later.")
LET_IN = "The two-factor service is not answering; you are let in without a code."
SECURE_OUTCOME = "daemon unreachable, failmode=secure (PAM_AUTHINFO_UNAVAIL)"


def stack(failmode):
    return [
        "auth     requisite pam_unix.so",
        f"auth     requisite {MODULE} failmode={failmode} timeout={TIMEOUT}",
        "account  required  pam_unix.so",
        "session  required  pam_unix.so",
    ]


class DaemonDown(InstalledTestCase):

    def setUp(self):
        super().setUp()
        self.user = self.new_user()
        self.enroll(self.user)
        # The next test starts the daemon again (setUp); a frozen one is thawed and stopped.
        self.addCleanup(self.daemon.stop_daemon)

    def stop(self):
        self.daemon.stop_daemon()
        self.assertFalse(os.path.lexists(installed.SOCKET))

    def freeze(self):
        self.daemon.freeze_daemon()
        self.assertTrue(os.path.exists(installed.SOCKET))

    def ssh_refused(self):
        server = self.sshd(stack("secure"), [self.user])
        dialogue = self.ssh_login(server, self.user, [])
        self.assertRefused(dialogue)
        self.assertEqual(dialogue.passwords, 1, dialogue)
        seconds = dialogue.seconds_from_last_password_to_end()
        print(f"  ssh refused {seconds:.2f} s after the password", flush=True)
        self.assertLess(seconds, WELL_UNDER)
        # sshd drops the sentence of a failed conversation; the module's log names the outcome.
        self.assertIn(f"Failed keyboard-interactive/pam for {self.user.name}", server.read_log())
        self.assertModuleLogged(server.service, self.user, SECURE_OUTCOME)
        return seconds

    def sudo_refused(self):
        service = self.pam_service(stack("secure"))
        self.sudoers_rule(self.user, service, extra=[f"Defaults:{self.user.name} passwd_tries=1"])
        dialogue = self.sudo(self.user, self.user.password, [])
        self.assertNotRun(dialogue)
        self.assertIn(UNREACHABLE, dialogue.transcript)
        seconds = dialogue.seconds_from_last_password_to_end()
        print(f"  sudo refused {seconds:.2f} s after the password", flush=True)
        self.assertLess(seconds, WELL_UNDER)
        self.assertModuleLogged(service, self.user, SECURE_OUTCOME)
        return seconds

    def test_stopped_daemon_refuses_ssh(self):
        self.stop()
        self.ssh_refused()

    def test_frozen_daemon_refuses_ssh_after_the_timeout(self):
        before = len(self.daemon.messages())
        self.freeze()
        seconds = self.ssh_refused()
        self.assertGreaterEqual(seconds, TIMEOUT - 0.5)  # it was the timeout that ended it
        self.assertEqual(len(self.daemon.messages()), before)

    def test_stopped_daemon_refuses_sudo_and_says_why(self):
        self.stop()
        self.sudo_refused()

    def test_frozen_daemon_refuses_sudo_after_the_timeout_and_says_why(self):
        self.freeze()
        seconds = self.sudo_refused()
        self.assertGreaterEqual(seconds, TIMEOUT - 0.5)

    def test_failmode_safe_lets_sudo_through_and_says_so(self):
        self.stop()
        service = self.pam_service(stack("safe"))
        self.sudoers_rule(self.user, service)
        dialogue = self.sudo(self.user, self.user.password, [])
        self.assertRanAsRoot(dialogue)
        self.assertIn(LET_IN, dialogue.transcript)
        line = self.assertModuleLogged(service, self.user,
                                       "daemon unreachable, failmode=safe (PAM_SUCCESS)")
        if line is not None:
            self.assertIn("letting the user in because failmode=safe", line)


if __name__ == "__main__":
    main()
