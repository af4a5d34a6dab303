# SPDX-License-Identifier: BSD-2-Clause
"""Issue 2, line 7: a user acts on their own account only; root acts on any."""

import time

from cli_support import LIBERAL_LIMITS, PHONE, CliTestCase, main, merged, totp


class PermissionTest(CliTestCase):
    def setUp(self):
        self.alice = self.h.create_user()
        self.bob = self.h.create_user()

    def test_status_of_own_account_without_naming_it(self):
        reply = self.ok_json("status", as_user=self.alice)
        self.assertEqual(reply["user"], self.alice)
        self.assertIs(reply["enabled"], False)

    def test_status_of_another_user_is_denied(self):
        self.enroll_app(self.bob)
        err = self.refused("status", self.bob, as_user=self.alice)
        self.assertIn("permission denied", err.lower())
        self.refused_json("status", self.bob, as_user=self.alice, error="PermissionDenied")

    def test_nothing_on_another_users_account(self):
        self.enroll_app(self.bob)
        secret = self.new_secret(as_user=self.alice)
        for args in (("disable", self.bob),
                     ("login", self.bob),
                     ("enable", self.bob, "--delivery", "None", "--secret", secret, "--code",
                      totp(secret))):
            with self.subTest(command=args[0]):
                self.refused_json(*args, as_user=self.alice, error="PermissionDenied")
        self.assertIs(self.status(self.bob)["enabled"], True)

    def test_unlock_is_for_root_only(self):
        self.enroll_app(self.alice)
        self.refused_json("unlock", self.alice, as_user=self.alice, error="PermissionDenied")
        self.ok("unlock", self.alice)

    def test_self_service_set_up_login_and_disable(self):
        secret = self.new_secret(as_user=self.alice)
        before = len(self.texts())
        self.ok("send", "--phone", PHONE, "--secret", secret, as_user=self.alice)
        code = self.code_in(self.next_text(before))
        self.ok("enable", self.alice, "--secret", secret, "--code", code, "--phone", PHONE,
                as_user=self.alice)
        self.assertIs(self.ok_json("status", as_user=self.alice)["enabled"], True)

        two_factor_id, code = self.login(self.alice, as_user=self.alice)
        # Another user may neither answer nor resend alice's challenge.
        self.refused_json("complete", "--two-factor-id", two_factor_id, "--code", code,
                          as_user=self.bob, error="PermissionDenied")
        before = len(self.texts())
        self.refused_json("send", "--two-factor-id", two_factor_id, as_user=self.bob,
                          error="PermissionDenied")
        time.sleep(0.5)
        self.assertEqual(len(self.texts()), before)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", code, as_user=self.alice)
        # Turning it off takes a code of it (security_factor_change).
        two_factor_id, code = self.login(self.alice, as_user=self.alice)
        self.ok("disable", self.alice, "--two-factor-id", two_factor_id, "--code", code,
                as_user=self.alice)

    def test_enrolled_user_may_not_text_arbitrary_numbers(self):
        self.enroll_app(self.alice)
        secret = self.new_secret(as_user=self.alice)
        before = len(self.texts())
        self.refused_json("send", "--phone", PHONE, "--secret", secret, as_user=self.alice,
                          error="PermissionDenied")
        time.sleep(0.5)
        self.assertEqual(len(self.texts()), before)

    def test_root_acts_on_any_user(self):
        self.enroll_texted(self.alice)
        self.assertIs(self.status(self.alice)["enabled"], True)
        two_factor_id, code = self.login(self.alice)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", code)
        self.ok("unlock", self.alice)
        self.ok("disable", self.alice)


class EnrollmentRateLimitTest(CliTestCase):
    config = merged(LIBERAL_LIMITS, {"sms": {"enroll_texts_per_hour": 2}})

    def test_a_user_cannot_run_up_the_bill(self):
        alice = self.h.create_user()
        secret = self.new_secret(as_user=alice)
        for _ in range(2):
            self.ok("send", "--phone", PHONE, "--secret", secret, as_user=alice)
        before = len(self.texts())
        err = self.refused("send", "--phone", PHONE, "--secret", secret, as_user=alice)
        self.assertIn("try again in", err)
        parameters = self.refused_json("send", "--phone", PHONE, "--secret", secret,
                                       as_user=alice, error="RateLimited")
        self.assertGreater(parameters.get("retryAfter", 0), 0)
        time.sleep(0.5)
        self.assertEqual(len(self.texts()), before)
        # Root is not held to the per-user enrollment limit.
        self.ok("send", "--phone", PHONE, "--secret", secret)


if __name__ == "__main__":
    main()
