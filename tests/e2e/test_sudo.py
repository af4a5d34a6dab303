#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""sudo with a password and a texted code, from the installed packages: a normal user runs
`sudo /usr/bin/id -un` on a terminal; a sudoers drop-in points the user at a PAM service of the
test's own that stacks pam_unix and the installed pam_twofactor.so."""

from e2e_case import MODULE, InstalledTestCase, main

STACK = [
    "auth     requisite pam_unix.so",
    f"auth     requisite {MODULE}",
    "account  required  pam_unix.so",
    "session  required  pam_unix.so",
]


class SudoPasswordThenCode(InstalledTestCase):

    def setUp(self):
        super().setUp()
        self.user = self.new_user()
        self.secret = self.enroll(self.user)
        self.service = self.pam_service(STACK)
        self.sudoers_rule(self.user, self.service)

    def test_right_password_and_code_run_id_as_root(self):
        before = len(self.daemon.messages())
        dialogue = self.sudo(self.user, self.user.password, [lambda: self.texted_code(before)])
        self.assertRanAsRoot(dialogue)
        self.assertEqual(dialogue.passwords, 1, dialogue)
        self.assertEqual(len(dialogue.typed_codes), 1, dialogue)
        self.assertModuleLogged(self.service, self.user, "success (PAM_SUCCESS)")

    def test_wrong_code_does_not_run(self):
        wrong = self.wrong_code(self.secret)
        before = len(self.daemon.messages())
        dialogue = self.sudo(self.user, self.user.password, lambda: wrong)
        self.assertNotRun(dialogue)
        self.assertIn("That code is wrong; 2 tries left.", dialogue.transcript)
        self.assertIn("Too many wrong codes; please log in again.", dialogue.transcript)
        # sudo asks again after a failure (passwd_tries, 3 by default); every round is a new
        # challenge with a text of its own.
        self.assertGreaterEqual(dialogue.passwords, 1)
        self.assertEqual(len(self.daemon.messages()), before + dialogue.passwords)
        self.assertModuleLogged(self.service, self.user, "too many tries (PAM_MAXTRIES)")

    def test_wrong_password_texts_nothing(self):
        before = len(self.daemon.messages())
        dialogue = self.sudo(self.user, self.user.password + "-wrong", [])
        self.assertNotRun(dialogue)
        self.assertNotIn("Verification code", dialogue.transcript)
        self.assertEqual(len(self.daemon.messages()), before)


if __name__ == "__main__":
    main()
