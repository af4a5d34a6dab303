# SPDX-License-Identifier: BSD-2-Clause
"""Issue 2, line 3: `enable` with a texted or an authenticator code; a wrong code stores nothing."""

from cli_support import MASKED, PHONE, CliTestCase, main, totp, wrong_code


class EnableTest(CliTestCase):
    def test_enable_with_the_texted_code(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        status = self.status(user)
        self.assertEqual(status["user"], user)
        self.assertIs(status["enabled"], True)
        self.assertEqual(status["delivery"], "TextMessage")
        self.assertEqual(status["mobilePhone"], MASKED)
        self.assertIs(status["locked"], False)
        self.assertEqual(status["failures"], 0)

        plain = self.ok("status", user)
        self.assertIn("enabled: yes", plain)
        self.assertIn("delivery: TextMessage", plain)
        self.assertIn(MASKED, plain)
        self.assertIn("locked: no", plain)
        self.assertNotIn(PHONE, plain)

    def test_enable_json_reply(self):
        user = self.h.create_user()
        secret = self.new_secret()
        before = len(self.texts())
        self.ok("send", "--phone", PHONE, "--secret", secret)
        code = self.code_in(self.next_text(before))
        reply = self.ok_json("enable", user, "--secret", secret, "--code", code, "--phone", PHONE,
                             "--delivery", "TextMessage")
        codes = reply.pop("recoveryCodes")
        self.assertEqual(reply, {"user": user, "delivery": "TextMessage", "mobilePhone": MASKED})
        self.assertEqual(len(codes), 10)  # test_recovery_codes checks them

    def test_enable_with_an_authenticator_code(self):
        user = self.h.create_user()
        before = len(self.texts())
        self.enroll_app(user)
        status = self.status(user)
        self.assertIs(status["enabled"], True)
        self.assertEqual(status["delivery"], "None")
        self.assertIsNone(status["mobilePhone"])
        self.assertEqual(len(self.texts()), before, "delivery None must not text anything")

    def test_secret_and_code_from_stdin(self):
        user = self.h.create_user()
        secret = self.new_secret()
        out = self.ok("enable", user, "--delivery", "None", "--secret", "-", "--code", "-",
                      input=f"{secret}\n{totp(secret)}\n")
        self.assertIn("enabled", out)
        self.assertIs(self.status(user)["enabled"], True)

    def test_wrong_code_stores_nothing(self):
        user = self.h.create_user()
        secret = self.new_secret()
        before = len(self.texts())
        self.ok("send", "--phone", PHONE, "--secret", secret)
        texted = self.code_in(self.next_text(before))
        bad = wrong_code(texted, *(totp(secret, None, k) for k in (-1, 0, 1)))
        err = self.refused("enable", user, "--secret", secret, "--code", bad, "--phone", PHONE)
        self.assertIn("invalid code", err.lower())
        status = self.status(user)
        self.assertIs(status["enabled"], False)
        self.assertIn("enabled: no", self.ok("status", user))

    def test_wrong_code_json_error(self):
        user = self.h.create_user()
        secret = self.new_secret()
        bad = wrong_code(*(totp(secret, None, k) for k in (-1, 0, 1)))
        self.refused_json("enable", user, "--delivery", "None", "--secret", secret, "--code", bad,
                          error="InvalidCode")
        self.assertIs(self.status(user)["enabled"], False)

    def test_code_texted_for_another_secret_is_refused(self):
        user = self.h.create_user()
        texted_secret = self.new_secret()
        other_secret = self.new_secret()
        before = len(self.texts())
        self.ok("send", "--phone", PHONE, "--secret", texted_secret)
        code = self.code_in(self.next_text(before))
        if code in {totp(other_secret, None, k) for k in (-1, 0, 1)}:
            self.skipTest("the two secrets share a code right now (one in a million)")
        err = self.refused("enable", user, "--secret", other_secret, "--code", code, "--phone",
                           PHONE)
        self.assertIn("invalid code", err.lower())
        self.assertIs(self.status(user)["enabled"], False)


if __name__ == "__main__":
    main()
