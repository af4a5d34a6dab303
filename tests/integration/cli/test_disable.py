# SPDX-License-Identifier: BSD-2-Clause
"""Issue 2, line 5: `disable` removes the enrollment."""

from cli_support import CliTestCase, main


class DisableTest(CliTestCase):
    def test_disable_removes_the_enrollment(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        out = self.ok("disable", user)
        self.assertIn(user, out)
        status = self.status(user)
        self.assertIs(status["enabled"], False)
        self.assertIsNone(status["mobilePhone"])
        self.refused_json("login", user, error="NotEnrolled")

    def test_disable_json_reply(self):
        user = self.h.create_user()
        self.enroll_app(user)
        self.assertEqual(self.ok_json("disable", user), {"user": user})
        self.assertIs(self.status(user)["enabled"], False)

    def test_user_can_enroll_again_after_disable(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        self.ok("disable", user)
        self.enroll_app(user)
        self.assertEqual(self.status(user)["delivery"], "None")

    def test_disable_of_a_user_never_enrolled_is_refused(self):
        user = self.h.create_user()
        self.refused_json("disable", user, error="NotEnrolled")


if __name__ == "__main__":
    main()
