# SPDX-License-Identifier: BSD-2-Clause
"""Guessing codes: at most `tries` wrong codes per challenge, consecutive failures per user lock
the account across challenges and restarts, only root unlocks, a success resets the count, and
a used code's step is never accepted again, across challenges and restarts."""

import time

from harness import totp_window, wait_for_step_start
from security_support import (LIBERAL_LIMITS, SecurityTestCase, error_of, main, merged,
                              require_root, totp, wrong_code)

# The harness writes tries and lockout values into its config; dropping them tests the defaults.
DEFAULTS = {"login": {"tries": None, "challenge_lifetime": None},
            "lockout": {"failures": None, "window": None, "duration": None}}


class GuessingTestCase(SecurityTestCase):
    def begin(self, user):
        """(twoFactorId, texted code, attemptsLeft) of a new challenge, begun by root."""
        before = len(self.texts())
        reply = self.wire("Begin", {"user": user})
        self.assertIsNone(error_of(reply), reply)
        p = reply["parameters"]
        return p["twoFactorId"], self.code_in(self.next_text(before)), p["attemptsLeft"]

    def complete(self, two_factor_id, code):
        return self.wire("Complete", {"twoFactorId": two_factor_id, "code": code})

    def bad_code(self, secret, texted):
        """A code that is neither the texted one nor an authenticator code near now."""
        return wrong_code(texted, *totp_window(secret, around=2).values())

    def fail_once(self, two_factor_id, secret, texted):
        reply = self.complete(two_factor_id, self.bad_code(secret, texted))
        self.assertIn(error_of(reply), ("InvalidCode", "Locked"), reply)
        return reply


@require_root
class DefaultLimitsTest(GuessingTestCase):
    config = merged(LIBERAL_LIMITS, DEFAULTS)

    def test_five_tries_per_challenge_ten_failures_lock_for_fifteen_minutes(self):
        user = self.h.create_user()
        secret = self.enable_texted_quietly(user)

        two_factor_id, code, attempts = self.begin(user)
        self.assertEqual(attempts, 5)
        for left in (4, 3, 2, 1, 0):
            reply = self.fail_once(two_factor_id, secret, code)
            self.assertEqual(error_of(reply), "InvalidCode", reply)
            self.assertEqual(reply["parameters"]["attemptsLeft"], left)
        # The challenge is dead: even its right code is refused now.
        self.assertEqual(error_of(self.complete(two_factor_id, code)), "NotFound")
        status = self.status(user)
        self.assertEqual((status["failures"], status["locked"]), (5, False))

        # The count is the user's, not the challenge's, and it survives a restart.
        self.h.restart_daemon()
        self.assertEqual(self.status(user)["failures"], 5)
        two_factor_id, code, _ = self.begin(user)
        for _ in range(4):
            self.assertEqual(error_of(self.fail_once(two_factor_id, secret, code)), "InvalidCode")
        self.assertIs(self.status(user)["locked"], False)
        locked_at = time.time()
        reply = self.fail_once(two_factor_id, secret, code)  # the tenth
        self.assertEqual(error_of(reply), "Locked", reply)
        locked_until = reply["parameters"]["lockedUntil"]
        self.assertAlmostEqual(locked_until, locked_at + 900, delta=5)
        status = self.status(user)
        self.assertEqual((status["locked"], status["lockedUntil"], status["failures"]),
                         (True, locked_until, 10))
        print(f"\nlocked after 10 failures over 2 challenges until now + "
              f"{locked_until - locked_at:.0f} s")

        # Locked: no challenge, no text, and the lock survives kill -9.
        before = len(self.texts())
        reply = self.wire("Begin", {"user": user})
        self.assertEqual(error_of(reply), "Locked")
        self.assertEqual(reply["parameters"]["lockedUntil"], locked_until)
        self.h.restart_daemon(kill9=True)
        reply = self.wire("Begin", {"user": user})
        self.assertEqual(error_of(reply), "Locked")
        self.assertEqual(reply["parameters"]["lockedUntil"], locked_until)
        self.assertEqual(len(self.texts()), before, "a locked account was texted")
        self.assertIn("until", self.ok("status", user))

        # Only root unlocks; the user is refused and stays locked.
        self.refused_json("unlock", user, as_user=user, error="PermissionDenied")
        self.assertIs(self.status(user)["locked"], True)
        self.ok("unlock", user)
        status = self.status(user)
        self.assertEqual((status["locked"], status["failures"]), (False, 0))
        two_factor_id, code, _ = self.begin(user)
        self.assertIsNone(error_of(self.complete(two_factor_id, code)))

    def test_a_success_resets_the_count(self):
        user = self.h.create_user()
        secret = self.enable_texted_quietly(user)
        two_factor_id, code, _ = self.begin(user)
        for _ in range(3):
            self.fail_once(two_factor_id, secret, code)
        self.assertEqual(self.status(user)["failures"], 3)
        self.assertIsNone(error_of(self.complete(two_factor_id, code)))
        self.assertEqual(self.status(user)["failures"], 0)
        # Nine more failures: with the three before the success they would lock (12 >= 10).
        for failures in (5, 4):
            two_factor_id, code, _ = self.begin(user)
            for _ in range(failures):
                self.assertEqual(error_of(self.fail_once(two_factor_id, secret, code)),
                                 "InvalidCode")
        status = self.status(user)
        self.assertEqual((status["failures"], status["locked"]), (9, False))


@require_root
class LockoutWindowTest(GuessingTestCase):
    config = merged(LIBERAL_LIMITS, {"lockout": {"failures": 3, "window": 4, "duration": 3}})

    def test_only_failures_within_the_window_count_and_the_lock_ends(self):
        user = self.h.create_user()
        secret = self.enable_texted_quietly(user)
        two_factor_id, code, _ = self.begin(user)
        for _ in range(2):
            self.fail_once(two_factor_id, secret, code)
        time.sleep(4.5)  # past the window: the next failure starts a new count
        self.assertEqual(error_of(self.fail_once(two_factor_id, secret, code)), "InvalidCode")
        self.assertEqual(self.status(user)["failures"], 1)
        two_factor_id, code, _ = self.begin(user)
        self.fail_once(two_factor_id, secret, code)
        reply = self.fail_once(two_factor_id, secret, code)
        self.assertEqual(error_of(reply), "Locked", reply)
        time.sleep(3.5)  # the configured duration
        self.assertIs(self.status(user)["locked"], False)
        two_factor_id, code, _ = self.begin(user)
        self.assertIsNone(error_of(self.complete(two_factor_id, code)))


@require_root
class ReplayTest(GuessingTestCase):
    config = LIBERAL_LIMITS

    def test_a_used_step_is_never_accepted_again(self):
        user = self.h.create_user()
        # Steps s-1, s and s+1 stay acceptable to an authenticator app for the whole test, so
        # only the record of a step's use can refuse its code.
        wait_for_step_start(margin=25)
        secret = self.new_secret()
        started = time.time()
        enable_code = totp(secret, started)
        self.ok("enable", user, "--delivery", "TextMessage", "--phone", "+15555550110",
                "--secret", secret, "--code", enable_code)
        next_code = totp(secret, started, 1)
        previous_code = totp(secret, started, -1)

        # Enable used step s: a login may not use it again.
        two_factor_id, texted, _ = self.begin(user)
        self.assertNotIn(texted, (enable_code,), "the enable step's code was texted again")
        self.assertEqual(error_of(self.complete(two_factor_id, enable_code)), "InvalidCode")
        # An app code of step s+1 logs in once...
        self.assertIsNone(error_of(self.complete(two_factor_id, next_code)))
        two_factor_id, texted, _ = self.begin(user)
        self.assertNotIn(texted, (enable_code, next_code), "a used step's code was texted")
        self.assertEqual(error_of(self.complete(two_factor_id, next_code)), "InvalidCode")
        # ...and the texted code once, on its own challenge.
        self.assertIsNone(error_of(self.complete(two_factor_id, texted)))
        used = (enable_code, next_code, texted)

        for kill9 in (False, True):
            self.h.restart_daemon(kill9=kill9)
            two_factor_id, fresh, _ = self.begin(user)
            self.assertNotIn(fresh, used, "a used step's code was texted after a restart")
            for code in used:
                reply = self.complete(two_factor_id, code)
                self.assertEqual(error_of(reply), "InvalidCode", (code, reply))
        self.assertLess(time.time() - started, 25, "too slow: the steps left the window")
        # The refusals were the record's doing: an unused step of the same secret still works.
        self.assertIsNone(error_of(self.complete(two_factor_id, previous_code)))


if __name__ == "__main__":
    main()
