# SPDX-License-Identifier: BSD-2-Clause
"""Issue 2, line 4: `login` starts a challenge and texts the code; `complete` answers it once."""

import re
import time

from cli_support import MASKED, PHONE, CliTestCase, main, totp, wrong_code


class LoginTest(CliTestCase):
    config = {"login": {"tries": 3}}

    def test_login_texts_a_code_and_complete_accepts_it_once(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.texts())
        rc, out, err = self.h.ctl("login", user, "--ip-address", "192.0.2.10")
        self.assertEqual(rc, 0, err)
        match = re.search(r"^twoFactorId: (\S+)$", out, re.M)
        self.assertTrue(match, out)
        self.assertIn(MASKED, out)
        message = self.next_text(before)
        self.assertEqual(message["form"]["To"], PHONE)
        code = self.code_in(message)
        two_factor_id = match.group(1)

        out = self.ok("complete", "--two-factor-id", two_factor_id, "--code", code,
                      "--ip-address", "192.0.2.10")
        self.assertIn(user, out)
        # The same id and code again: the challenge is used up.
        err = self.refused("complete", "--two-factor-id", two_factor_id, "--code", code)
        self.assertIn("login challenge", err.lower())
        # The same code on a new challenge: the step is used, the daemon texted another code.
        second_id, second_code = self.login(user)
        self.assertNotEqual(second_code, code, "a used step's code was texted again")
        err = self.refused("complete", "--two-factor-id", second_id, "--code", code)
        self.assertIn("invalid code", err.lower())

    def test_login_whose_text_failed_prints_the_id_and_takes_the_app_code(self):
        # Issue 11, no dead end: the number opted out; the challenge is open all the same.
        user = self.h.create_user()
        secret = self.enroll_texted(user)
        self.addCleanup(self.h.reset_endpoint)
        self.h.behave(status=400, code=21610, message="Attempt to send to unsubscribed recipient",
                      times=2)
        rc, out, err = self.h.ctl("login", user)
        self.assertEqual(rc, 0, (out, err))
        match = re.search(r"^twoFactorId: (\S+)$", out, re.M)
        self.assertTrue(match, out)
        self.assertIn(f"The code was not texted to {MASKED} (", out)
        self.assertIn("Twilio error 21610", out)
        self.assertIn("Use the code of the authenticator app or a recovery code.", out)
        self.assertIn("replying START to the number the codes come from", out)
        reply = self.ok_json("login", user)
        self.assertEqual(reply["textNotSent"]["error"], "io.twofactor.DeliveryFailed", reply)
        self.assertEqual(reply["textNotSent"]["parameters"]["code"], 21610, reply)
        self.ok("complete", "--two-factor-id", match.group(1), "--code", totp(secret, offset=1))

    def test_login_json_reply(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        reply = self.ok_json("login", user)
        self.assertTrue(reply["twoFactorId"])
        self.assertEqual(reply["delivery"], "TextMessage")
        self.assertEqual(reply["mobilePhone"], MASKED)
        self.assertEqual(reply["attemptsLeft"], 3)
        self.assertTrue(0 < reply["expiresIn"] <= 300, reply)
        code = self.code_in(self.texts()[-1])
        reply = self.ok_json("complete", "--two-factor-id", reply["twoFactorId"], "--code", code)
        self.assertEqual(reply, {"user": user})

    def test_wrong_codes_count_down_then_the_challenge_is_dead(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        two_factor_id, code = self.login(user)
        bad = wrong_code(code)
        err = self.refused("complete", "--two-factor-id", two_factor_id, "--code", bad)
        self.assertIn("invalid code", err.lower())
        self.assertIn("2 tries left", err)
        parameters = self.refused_json("complete", "--two-factor-id", two_factor_id, "--code",
                                       bad, error="InvalidCode")
        self.assertEqual(parameters.get("attemptsLeft"), 1)
        err = self.refused("complete", "--two-factor-id", two_factor_id, "--code", bad)
        self.assertIn("no tries left", err)
        # Even the right code cannot revive it.
        parameters = self.refused_json("complete", "--two-factor-id", two_factor_id, "--code",
                                       code, error="NotFound")
        self.assertEqual(parameters.get("twoFactorId"), two_factor_id)
        self.assertEqual(self.status(user)["failures"], 3)

    def test_unknown_id_is_not_found(self):
        parameters = self.refused_json("complete", "--two-factor-id", "no-such-challenge",
                                       "--code", "123456", error="NotFound")
        self.assertEqual(parameters.get("twoFactorId"), "no-such-challenge")

    def test_resend_texts_the_code_again(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        two_factor_id, first_code = self.login(user)
        before = len(self.texts())
        out = self.ok("send", "--two-factor-id", two_factor_id)
        self.assertIn(MASKED, out)
        message = self.next_text(before)
        self.assertEqual(message["form"]["To"], PHONE)
        code = self.code_in(message)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", code)

    def test_resend_of_an_unknown_id_sends_nothing(self):
        before = len(self.texts())
        self.refused_json("send", "--two-factor-id", "no-such-challenge", error="NotFound")
        time.sleep(0.5)
        self.assertEqual(len(self.texts()), before)

    def test_code_from_stdin(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        two_factor_id, code = self.login(user)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", "-", input=code + "\n")

    def test_authenticator_user_gets_no_text(self):
        user = self.h.create_user()
        secret = self.enroll_app(user)
        before = len(self.texts())
        reply = self.ok_json("login", user)
        self.assertEqual(reply["delivery"], "None")
        self.assertIsNone(reply.get("mobilePhone"))
        time.sleep(0.5)
        self.assertEqual(len(self.texts()), before)
        # The enable step's code is used; the next step's code is the first one that works.
        candidates = [totp(secret, None, k) for k in (1, 0)]
        for code in candidates:
            rc, _, _ = self.h.ctl("complete", "--two-factor-id", reply["twoFactorId"], "--code",
                                  code)
            if rc == 0:
                break
        else:
            self.fail("no authenticator code of this or the next step was accepted")

    def test_not_enrolled_user(self):
        user = self.h.create_user()
        err = self.refused("login", user)
        self.assertIn("not enrolled", err.lower())
        self.refused_json("login", user, error="NotEnrolled")


class ExpiryTest(CliTestCase):
    config = {"login": {"challenge_lifetime": 10}}

    def test_expired_challenge_is_not_found(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        two_factor_id, code = self.login(user)
        time.sleep(11.5)
        self.refused_json("complete", "--two-factor-id", two_factor_id, "--code", code,
                          error="NotFound")


class LockoutTest(CliTestCase):
    config = {"login": {"tries": 5}, "lockout": {"failures": 3, "duration": 600}}

    def test_failures_lock_the_account_until_unlocked(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        two_factor_id, code = self.login(user)
        bad = wrong_code(code)
        for _ in range(3):
            rc, _, _ = self.h.ctl("complete", "--two-factor-id", two_factor_id, "--code", bad)
            self.assertEqual(rc, 1)
        status = self.status(user)
        self.assertIs(status["locked"], True)
        self.assertGreater(status["lockedUntil"], time.time() + 500)
        self.assertIn("locked: yes, until ", self.ok("status", user))

        err = self.refused("login", user)
        self.assertIn("locked", err.lower())
        self.assertIn("until", err.lower())
        parameters = self.refused_json("login", user, error="Locked")
        self.assertEqual(parameters.get("lockedUntil"), status["lockedUntil"])

        out = self.ok("unlock", user)
        self.assertIn(user, out)
        status = self.status(user)
        self.assertIs(status["locked"], False)
        self.assertEqual(status["failures"], 0)
        two_factor_id, code = self.login(user)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", code)


if __name__ == "__main__":
    main()
