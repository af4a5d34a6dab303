# SPDX-License-Identifier: BSD-2-Clause
"""Issue 3: pam_twofactor.so through real libpam against a real twofactord and the fake Twilio
endpoint: the code, wrong codes, tries, resend, expiry, replay, nullok, locks, delivery
failures, authenticator-app users and what reaches the daemon and the logs."""

import time
import unittest

from pam_support import (MASKED, RHOST, SERVICE, TTY, PamTestCase, main, totp,  # noqa: F401
                         wrong_code)


class LoginTests(PamTestCase):

    def test_right_code_is_accepted(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user)
        login.expect(r"info: A verification code was texted to \*\*\*-\*\*\*-5555\. "
                     r"Type resend to get a new one\.\n")
        self.assertEqual(login.prompt(), "Verification code: ")
        code = self.texted_code(before)
        login.answer(code)
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertEqual(result.lines("error"), [])
        self.assertIn(f"pam_twofactor({SERVICE}:auth): user={user} service={SERVICE} tty={TTY} "
                      f"rhost={RHOST}: success (PAM_SUCCESS)", result.log)
        self.assertNothingSecretLogged(result, code)

    def test_rhost_service_and_tty_reach_the_daemon(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user, rhost="198.51.100.23", tty="pts/42")
        login.prompt()
        login.answer(self.texted_code(before))
        self.assertResult(login.finish(), "PAM_SUCCESS")
        log = self.h.daemon_log()
        started = [line for line in log.splitlines()
                   if "challenge started" in line and f"user={user}" in line]
        self.assertEqual(len(started), 1, log[-3000:])
        for field in ("ip=198.51.100.23", f"service={SERVICE}", "tty=pts/42"):
            self.assertIn(field, started[0])
        succeeded = [line for line in log.splitlines()
                     if "login succeeded" in line and f"user={user}" in line]
        self.assertEqual(len(succeeded), 1, log[-3000:])
        self.assertIn("ip=198.51.100.23", succeeded[0])

    def test_wrong_code_then_right_code(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user)
        login.prompt()
        code = self.texted_code(before)
        login.answer(wrong_code(code))
        login.expect(r"error: That code is wrong; 2 tries left\.\n")
        login.prompt()
        login.answer(code)
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertEqual(result.lines("prompt"), ["Verification code: "] * 2)

    def test_too_many_wrong_codes(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user, "tries=2")
        login.prompt()
        code = self.texted_code(before)
        login.answer(wrong_code(code))
        login.expect(r"error: That code is wrong; 1 try left\.\n")
        login.prompt()
        login.answer(wrong_code(code))
        result = login.finish()
        self.assertResult(result, "PAM_MAXTRIES")
        self.assertEqual(result.lines("error")[-1], "Too many wrong codes; please log in again.")
        self.assertEqual(len(result.lines("prompt")), 2)
        self.assertIn("too many tries (PAM_MAXTRIES)", result.log)

    def test_input_that_is_not_six_digits_uses_a_try_and_is_not_sent(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user, "tries=2")
        login.prompt()
        code = self.texted_code(before)
        login.answer("12ab")
        login.expect(r"error: A code is 6 digits\.\n")
        login.prompt()
        login.answer(code)
        self.assertResult(login.finish(), "PAM_SUCCESS")
        # The daemon never saw "12ab": no wrong code was counted.
        rc, status, err = self.h.ctl_json("status", user)
        self.assertEqual(status["failures"], 0, status)

    def test_resend_texts_a_new_code(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user, "tries=1")
        login.prompt()
        self.texted_code(before)
        login.answer("resend")
        login.expect(r"info: A new code was texted to \*\*\*-\*\*\*-5555\.\n")
        login.prompt()
        code = self.texted_code(before + 1)
        login.answer(code)
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")  # resend did not use up the one try

    def test_replay_of_a_used_code_is_refused(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        first = self.login(user)
        first.prompt()
        used = self.texted_code(before)
        first.answer(used)
        self.assertResult(first.finish(), "PAM_SUCCESS")

        second = self.login(user, "tries=1")
        second.prompt()
        fresh = self.texted_code(before + 1)
        self.assertNotEqual(fresh, used, "the second login was texted the used code again")
        second.answer(used)
        result = second.finish()
        self.assertResult(result, "PAM_MAXTRIES")

    def test_authenticator_app_user_gets_no_text(self):
        user = self.h.create_user()
        secret = self.enroll_app(user)
        before = len(self.h.messages())
        login = self.login(user)
        login.expect(r"info: Enter the 6-digit code from your authenticator app\.\n")
        self.assertEqual(login.prompt(), "Authenticator app code: ")
        login.answer("resend")
        login.expect(r"error: Your codes come from your authenticator app; no code can be "
                     r"texted\.\n")
        login.prompt()
        code = totp(secret, offset=1)  # enable used the current step
        login.answer(code)
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertEqual(len(self.h.messages()), before)
        self.assertNotIn("texted to", result.transcript)
        self.assertNothingSecretLogged(result, code)

        # The same app code again: single use.
        again = self.login(user, "tries=1")
        again.prompt()
        again.answer(code)
        self.assertResult(again.finish(), "PAM_MAXTRIES")

    def test_not_enrolled_is_denied_without_nullok(self):
        user = self.h.create_user()
        login = self.login(user, stack_after=["auth required pam_permit.so"])
        result = login.finish()
        self.assertResult(result, "PAM_USER_UNKNOWN")
        self.assertEqual(result.lines("error"), [
            "Your account is not set up for two-factor authentication; ask your administrator."])
        self.assertEqual(result.lines("prompt"), [])

    def test_not_enrolled_is_ignored_with_nullok(self):
        user = self.h.create_user()
        login = self.login(user, "nullok", stack_after=["auth required pam_permit.so"])
        result = login.finish()
        # The module said PAM_IGNORE, so pam_permit decided.
        self.assertResult(result, "PAM_SUCCESS")
        self.assertEqual(result.transcript.strip(), "result=PAM_SUCCESS")
        self.assertIn("not enrolled, nullok (PAM_IGNORE)", result.log)

    def test_nullok_does_not_excuse_an_enrolled_user(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user, "nullok tries=1", stack_after=["auth required pam_permit.so"])
        login.prompt()
        login.answer(wrong_code(self.texted_code(before)))
        self.assertResult(login.finish(), "PAM_MAXTRIES")

    def test_delivery_failure(self):
        # No dead end (issue 11): the text Twilio refused leaves the prompt for the app's code.
        user = self.h.create_user()
        secret = self.enroll_texted(user)
        self.addCleanup(self.h.reset_endpoint)
        self.h.behave(status=400, code=21211, times=1)
        login = self.login(user)
        self.assertEqual(login.prompt(), "Authenticator app or recovery code: ")
        login.answer(totp(secret, offset=1))
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertEqual(result.lines("error"), [
            "The code could not be texted to ***-***-5555. Type the code from your "
            "authenticator app or a recovery code instead."])
        self.assertIn("Begin: the code was not texted: Twilio error 21211, HTTP status 400",
                      result.log)
        self.assertNothingSecretLogged(result)

    def test_silent_flag_hides_info_messages_only(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user, silent=True)
        login.prompt()
        code = self.texted_code(before)
        login.answer(wrong_code(code))
        login.prompt()
        login.answer(code)
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertEqual(result.lines("info"), [])
        self.assertEqual(result.lines("error"), ["That code is wrong; 2 tries left."])

    def test_echo_option_echoes_the_prompt(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user, "echo")
        login.expect(r"prompt-echo: Verification code: \n")
        login.answer(self.texted_code(before))
        self.assertResult(login.finish(), "PAM_SUCCESS")

    def test_unknown_options_are_logged_not_fatal(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user, "use_first_pass tries=99")
        login.prompt()
        login.answer(self.texted_code(before))
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertIn("option: ignoring unknown option 'use_first_pass'", result.log)
        self.assertIn("option: tries=99 is outside 1..10; using 10", result.log)


class LockTests(PamTestCase):
    config = {"lockout": {"failures": 3, "window": 900, "duration": 900}}

    def test_locked_user(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user, "tries=5")
        login.prompt()
        code = self.texted_code(before)
        for left in (4, 3):
            login.answer(wrong_code(code))
            login.expect(rf"error: That code is wrong; {left} tries left\.\n")
            login.prompt()
        login.answer(wrong_code(code))  # the third failure in a row locks the account
        result = login.finish()
        self.assertResult(result, "PAM_PERM_DENIED")
        self.assertRegex(result.lines("error")[-1],
                         r"^Your account is locked after too many wrong codes until "
                         r"\d{4}-\d\d-\d\d \d\d:\d\d \w+\.$")

        # The next login is refused at once: no text, no prompt.
        texts = len(self.h.messages())
        again = self.login(user)
        result = again.finish()
        self.assertResult(result, "PAM_PERM_DENIED")
        self.assertEqual(result.lines("prompt"), [])
        self.assertEqual(len(self.h.messages()), texts)
        self.assertIn("locked (PAM_PERM_DENIED)", result.log)


class ExpiryTests(PamTestCase):
    config = {"login": {"challenge_lifetime": 10}}

    def test_expired_challenge(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user)
        login.prompt()
        code = self.texted_code(before)
        time.sleep(11)
        login.answer(code)
        result = login.finish()
        self.assertResult(result, "PAM_AUTH_ERR")
        self.assertEqual(result.lines("error"),
                         ["The code has expired; please log in again to get a new one."])
        self.assertIn("challenge expired (PAM_AUTH_ERR)", result.log)


if __name__ == "__main__":
    main()
