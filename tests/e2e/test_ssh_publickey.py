#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""SSH with a key and a texted code, from the installed packages: sshd requires
`AuthenticationMethods publickey,keyboard-interactive` and its PAM service has no password
module, so the installed pam_twofactor.so is the whole auth stack."""

from e2e_case import MASKED, MODULE, InstalledTestCase, main

STACK = [
    f"auth     requisite {MODULE}",
    "account  required  pam_unix.so",
    "session  required  pam_unix.so",
]


class SshKeyThenCode(InstalledTestCase):

    def setUp(self):
        super().setUp()
        self.user = self.new_user()
        self.secret = self.enroll(self.user)
        self.key = self.new_key()
        self.server = self.sshd(STACK, [self.user], methods="publickey,keyboard-interactive")
        self.server.authorize_key(self.user.name, self.key + ".pub")

    def test_key_and_right_code_log_in(self):
        before = len(self.daemon.messages())
        dialogue = self.ssh_login(self.server, self.user, [lambda: self.texted_code(before)],
                                  identity=self.key)
        self.assertLoggedIn(dialogue, self.user)
        self.assertEqual(dialogue.passwords, 0, dialogue)  # no password module, no password
        self.assertIn(f"A verification code was texted to {MASKED}.", dialogue.transcript)
        log = self.server.read_log()
        self.assertIn(f"Partial publickey for {self.user.name}", log)
        self.assertIn(f"Accepted keyboard-interactive/pam for {self.user.name}", log)
        self.assertModuleLogged(self.server.service, self.user, "success (PAM_SUCCESS)")

    def test_key_and_wrong_code_are_refused(self):
        wrong = self.wrong_code(self.secret)
        dialogue = self.ssh_login(self.server, self.user, [wrong] * 3, identity=self.key)
        self.assertRefused(dialogue)
        self.assertEqual(dialogue.passwords, 0, dialogue)
        self.assertEqual(dialogue.typed_codes, [wrong] * 3)
        self.assertIn("That code is wrong; 1 try left.", dialogue.transcript)
        # The key was accepted as the first of the two methods; the code failed the second.
        log = self.server.read_log()
        self.assertIn(f"Partial publickey for {self.user.name}", log)
        self.assertIn(f"Failed keyboard-interactive/pam for {self.user.name}", log)
        self.assertModuleLogged(self.server.service, self.user,
                                "too many tries (PAM_MAXTRIES)")

    def test_without_the_key_no_code_is_texted(self):
        # keyboard-interactive alone is not a method sshd offers here: the module never runs,
        # so nobody can make the machine text the user by knowing only the user name.
        before = len(self.daemon.messages())
        dialogue = self.ssh_login(self.server, self.user, [])
        self.assertRefused(dialogue)
        self.assertIn("Permission denied (publickey)", dialogue.transcript)
        self.assertEqual(len(self.daemon.messages()), before)


if __name__ == "__main__":
    main()
