#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A user who never enrolled, through sshd with the installed module: let in on the password
alone with `nullok`, refused without it; an enrolled user still needs the code under nullok."""

from e2e_case import MODULE, InstalledTestCase, main


def stack(options):
    return [
        "auth     requisite pam_unix.so",
        f"auth     requisite {MODULE} {options}".rstrip(),
        "account  required  pam_unix.so",
        "session  required  pam_unix.so",
    ]


class NeverEnrolled(InstalledTestCase):

    def test_never_enrolled_passes_with_nullok(self):
        user = self.new_user()
        server = self.sshd(stack("nullok"), [user])
        before = len(self.daemon.messages())
        dialogue = self.ssh_login(server, user, [])
        self.assertLoggedIn(dialogue, user)
        self.assertEqual(dialogue.passwords, 1, dialogue)
        self.assertEqual(len(self.daemon.messages()), before)
        self.assertModuleLogged(server.service, user, "not enrolled, nullok (PAM_IGNORE)")

    def test_never_enrolled_is_refused_without_nullok(self):
        user = self.new_user()
        server = self.sshd(stack(""), [user])
        before = len(self.daemon.messages())
        dialogue = self.ssh_login(server, user, [])
        self.assertRefused(dialogue)
        self.assertEqual(dialogue.passwords, 1, dialogue)
        self.assertEqual(len(self.daemon.messages()), before)
        self.assertModuleLogged(server.service, user, "not enrolled (PAM_USER_UNKNOWN)")

    def test_enrolled_user_still_needs_the_code_with_nullok(self):
        user = self.new_user()
        secret = self.enroll(user)
        server = self.sshd(stack("nullok"), [user])
        dialogue = self.ssh_login(server, user, [self.wrong_code(secret)] * 3)
        self.assertRefused(dialogue)
        before = len(self.daemon.messages())
        dialogue = self.ssh_login(server, user, [lambda: self.texted_code(before)])
        self.assertLoggedIn(dialogue, user)


if __name__ == "__main__":
    main()
