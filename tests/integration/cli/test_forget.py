# SPDX-License-Identifier: BSD-2-Clause
"""Trust: `twofactorctl forget USER` ends a user's trusts (root, or the user), and
`status` lists them. Trusts themselves are made through the PAM module (pam_trust); here the
command's own contract: who may run it, what it prints, and `status` with no trust."""

from cli_support import CliTestCase, main


class ForgetTest(CliTestCase):
    def test_forget_without_trusts_forgets_none(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        self.assertEqual(self.ok("forget", user), f"{user}: 0 trusts forgotten.\n")
        self.assertEqual(self.ok_json("forget", user), {"user": user, "forgotten": 0})

    def test_status_lists_no_trust(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        self.assertEqual(self.status(user)["trusts"], [])
        self.assertIn("trusted: none\n", self.ok("status", user))

    def test_a_user_forgets_only_their_own_trusts(self):
        user = self.h.create_user()
        other = self.h.create_user()
        self.enroll_texted(user)
        self.ok("forget", user, as_user=user)
        self.refused_json("forget", user, as_user=other, error="PermissionDenied")

    def test_forget_needs_a_user(self):
        rc, out, err = self.h.ctl("forget")
        self.assertEqual(rc, 2, err)
        self.assertIn("forget needs a user name", err)


if __name__ == "__main__":
    main()
