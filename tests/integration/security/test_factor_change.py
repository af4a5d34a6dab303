# SPDX-License-Identifier: BSD-2-Clause
"""A user removes or swaps their own second factor only with a code of it.

One session as the user (a phished password and one relayed code) must not become permanent
access: for a non-root caller, `disable` and an `enable` over an existing enrollment need a
valid, unused code of the current factor; a wrong one counts towards the lockout like a wrong
login code. Root needs none."""

from security_support import (LIBERAL_LIMITS, SecurityTestCase, error_of, main, require_root,
                              totp, wrong_code)


@require_root
class FactorChangeTest(SecurityTestCase):
    config = LIBERAL_LIMITS

    def setUp(self):
        self.user = self.h.create_user()

    def assertStillEnrolled(self, delivery):
        status = self.status(self.user)
        self.assertIs(status["enabled"], True, status)
        self.assertEqual(status["delivery"], delivery, status)

    def test_disable_without_a_code_is_refused(self):
        self.enroll_texted(self.user)
        reply = self.wire("Disable", {"user": self.user}, as_user=self.user)
        self.assertEqual(error_of(reply), "PermissionDenied", reply)
        self.assertIn("code", reply["parameters"]["message"])
        # twofactorctl asks for the code; with none typed it changes nothing either.
        rc, out, err = self.h.ctl("disable", self.user, as_user=self.user, input="")
        self.assertNotEqual(rc, 0, f"{out!r} {err!r}")
        self.assertIn("--code", err)
        self.assertStillEnrolled("TextMessage")

    def test_swapping_a_texted_factor_for_an_app_without_a_code_is_refused(self):
        self.enroll_texted(self.user)
        secret = self.new_secret(as_user=self.user)
        reply = self.wire("Enable", {"user": self.user, "delivery": "None", "secret": secret,
                                     "code": totp(secret)}, as_user=self.user)
        self.assertEqual(error_of(reply), "PermissionDenied", reply)
        rc, out, err = self.h.ctl("enable", self.user, "--delivery", "None", "--secret", secret,
                                  "--code", totp(secret), as_user=self.user, input="")
        self.assertNotEqual(rc, 0, f"{out!r} {err!r}")
        self.assertStillEnrolled("TextMessage")

    def test_a_wrong_code_is_refused_and_counts_as_a_failure(self):
        secret = self.enroll_app(self.user)
        self.refused_json("disable", self.user, "--code", wrong_code(totp(secret)),
                          as_user=self.user, error="InvalidCode")
        self.assertEqual(self.status(self.user)["failures"], 1)
        self.assertStillEnrolled("None")

    def test_a_texted_user_disables_with_a_texted_code(self):
        self.enroll_texted(self.user)
        two_factor_id, code = self.login(self.user, as_user=self.user)
        self.refused_json("disable", self.user, "--two-factor-id", two_factor_id, "--code",
                          wrong_code(code), as_user=self.user, error="InvalidCode")
        self.ok("disable", self.user, "--two-factor-id", two_factor_id, "--code", code,
                as_user=self.user)
        self.assertIs(self.status(self.user)["enabled"], False)

    def test_an_app_user_disables_with_the_apps_code_once(self):
        secret = self.enroll_app(self.user)
        self.h.ctl("login", self.user)  # a challenge of the user's own must not matter
        # enroll_app used the current step; the app's next code is unused and still in the window.
        self.ok("disable", self.user, "--code", totp(secret, offset=1), as_user=self.user)
        self.assertIs(self.status(self.user)["enabled"], False)

    def test_the_code_is_read_at_a_prompt_when_not_given(self):
        secret = self.enroll_app(self.user)
        rc, out, err = self.h.ctl("disable", self.user, as_user=self.user,
                                  input=totp(secret, offset=1) + "\n")
        self.assertEqual(rc, 0, f"{out!r} {err!r}")
        self.assertIs(self.status(self.user)["enabled"], False)

    def test_a_new_factor_over_the_old_needs_the_old_ones_code(self):
        old = self.enroll_app(self.user)
        new = self.new_secret(as_user=self.user)
        self.refused_json("enable", self.user, "--delivery", "None", "--secret", new,
                          "--code", totp(new), "--current-code", wrong_code(totp(old)),
                          as_user=self.user, error="InvalidCode")
        self.ok("enable", self.user, "--delivery", "None", "--secret", new, "--code", totp(new),
                "--current-code", totp(old, offset=1), as_user=self.user)
        # The new secret is the factor now: a login answers with its code, not the old one's.
        two_factor_id, _ = self.login(self.user)
        self.refused_json("complete", "--two-factor-id", two_factor_id, "--code",
                          totp(old, offset=-1), error="InvalidCode")

    def test_a_code_already_used_to_log_in_is_not_accepted(self):
        secret = self.enroll_app(self.user)
        code = totp(secret, offset=1)
        two_factor_id, _ = self.login(self.user, as_user=self.user)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", code, as_user=self.user)
        self.refused_json("disable", self.user, "--code", code, as_user=self.user,
                          error="InvalidCode")
        self.assertStillEnrolled("None")

    def test_root_needs_no_code(self):
        self.enroll_texted(self.user)
        secret = self.new_secret()
        self.ok("enable", self.user, "--delivery", "None", "--secret", secret, "--code",
                totp(secret))
        self.assertStillEnrolled("None")
        self.ok("disable", self.user)
        self.assertIs(self.status(self.user)["enabled"], False)

    def test_a_first_enrollment_needs_no_old_code(self):
        secret = self.new_secret(as_user=self.user)
        self.ok("enable", self.user, "--delivery", "None", "--secret", secret, "--code",
                totp(secret), as_user=self.user)
        self.assertStillEnrolled("None")


if __name__ == "__main__":
    main()
