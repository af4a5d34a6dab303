# SPDX-License-Identifier: BSD-2-Clause
"""Issue 11, no dead end: when the login's text cannot go out (Twilio down, a number Twilio
refuses or that opted out, Twilio's 429, the user's own text limit), pam_twofactor.so through
real libpam still takes the authenticator app's code or a recovery code, and says so; a wrong
code is refused and counted as always."""

import unittest

from pam_support import (MASKED, PHONE, PamTestCase, harness, main, totp,  # noqa: F401
                         wrong_code)

OTHER_CODES = "Type the code from your authenticator app or a recovery code instead."
NOT_TEXTED = f"The code could not be texted to {MASKED}. {OTHER_CODES}"
OPTED_OUT = (f"The code could not be texted: {MASKED} has opted out of text messages. Reply "
             f"START to the number the codes come from to receive texts again. {OTHER_CODES}")
LATE = (f"The code texted to {MASKED} may be late. Type it when it comes, or type resend to get "
        "another; the code from your authenticator app or a recovery code works too.")
NOT_TEXTED_PROMPT = "Authenticator app or recovery code: "

# What Twilio answers, what the user reads, the prompt, and the module's log of Twilio's code.
FAILURES = {
    "500": ({"status": 500}, LATE, "Verification code: ", None),
    "503": ({"status": 503}, NOT_TEXTED, NOT_TEXTED_PROMPT, "Twilio error 20503, HTTP status 503"),
    "429": ({"status": 429}, NOT_TEXTED, NOT_TEXTED_PROMPT, "Twilio error 20429, HTTP status 429"),
    "21211": ({"status": 400, "code": 21211,
               "message": f"The 'To' number {PHONE} is not a valid phone number."},
              NOT_TEXTED, NOT_TEXTED_PROMPT, "Twilio error 21211, HTTP status 400"),
    "21614": ({"status": 400, "code": 21614,
               "message": f"'To' number {PHONE} is not a valid mobile number"},
              NOT_TEXTED, NOT_TEXTED_PROMPT, "Twilio error 21614, HTTP status 400"),
    "21610": ({"status": 400, "code": 21610,
               "message": "Attempt to send to unsubscribed recipient"},
              OPTED_OUT, NOT_TEXTED_PROMPT, "Twilio error 21610, HTTP status 400"),
}


class NoDeadEndTestCase(PamTestCase):

    def setUp(self):
        self.h.reset_endpoint()
        self.addCleanup(self.h.reset_endpoint)

    def enroll(self, user):
        """Texted delivery, enabled with the app's code of this step (so no text is sent), and
        a set of recovery codes. Returns the secret and the codes."""
        harness.wait_for_step_start(margin=15)
        secret = self.new_secret()
        self.ctl_ok("enable", user, "--secret", secret, "--code", totp(secret), "--phone", PHONE)
        rc, reply, err = self.h.ctl_json("recovery-codes", user)
        self.assertEqual(rc, 0, err)
        return secret, reply["recoveryCodes"]

    def app_code(self, secret):
        # The step that enabled is used; the app's next one is inside the window.
        return totp(secret, offset=1)

    def assertTold(self, result, sentence, twilio):
        """The user read the sentence once (an error line: shown under PAM_SILENT too), and the
        module's log names Twilio's code, not the number."""
        said = result.lines("error") + result.lines("info")
        self.assertEqual(said.count(sentence), 1, result)
        if twilio:
            self.assertIn(f"Begin: the code was not texted: {twilio}", result.log)
        self.assertNothingSecretLogged(result)


class TwilioFailures(NoDeadEndTestCase):

    def test_the_app_code_gets_in_after_a_wrong_one(self):
        for name, (behaviour, sentence, prompt, twilio) in FAILURES.items():
            with self.subTest(twilio=name):
                self.h.reset_endpoint()
                user = self.h.create_user()
                secret, _ = self.enroll(user)
                self.h.behave(**behaviour)
                login = self.login(user)
                self.assertEqual(login.prompt(), prompt)
                app = self.app_code(secret)
                login.answer(wrong_code(app, totp(secret)))
                login.expect(r"error: That code is wrong; 2 tries left\.\n")
                self.assertEqual(login.prompt(), prompt)
                login.answer(app)
                result = login.finish()
                self.assertResult(result, "PAM_SUCCESS")
                self.assertTold(result, sentence, twilio)
                # The wrong code counted; the right one cleared the count, as after any login.
                rc, status, err = self.h.ctl_json("status", user)
                self.assertEqual((rc, status["failures"]), (0, 0), (status, err))

    def test_a_recovery_code_gets_in(self):
        for name in ("500", "21211", "21610"):
            behaviour, sentence, prompt, twilio = FAILURES[name]
            with self.subTest(twilio=name):
                self.h.reset_endpoint()
                user = self.h.create_user()
                _, codes = self.enroll(user)
                self.h.behave(**behaviour)
                login = self.login(user, silent=True)
                self.assertEqual(login.prompt(), prompt if name != "500" else
                                 f"Verification code (texted to {MASKED}): ")
                login.answer(codes[0])
                result = login.finish()
                self.assertResult(result, "PAM_SUCCESS")
                if name != "500":  # under PAM_SILENT an info line is dropped; errors show
                    self.assertTold(result, sentence, twilio)
                self.assertIn("a recovery code was used", result.log)

    def test_wrong_codes_are_refused_counted_and_delayed(self):
        user = self.h.create_user()
        secret, _ = self.enroll(user)
        self.h.behave(**FAILURES["21610"][0])
        login = self.login(user, "tries=3")
        for _ in range(3):
            self.assertEqual(login.prompt(), NOT_TEXTED_PROMPT)
            login.answer(wrong_code(self.app_code(secret), totp(secret)))
        result = login.finish()
        self.assertResult(result, "PAM_MAXTRIES")
        [delay] = [int(value) for value in result.lines("delay")]
        self.assertGreaterEqual(delay, 1_000_000, result)
        rc, status, err = self.h.ctl_json("status", user)
        self.assertEqual(rc, 0, err)
        self.assertEqual(status["failures"], 3, status)

    def test_resend_tries_again(self):
        user = self.h.create_user()
        self.enroll(user)
        self.h.behave(**FAILURES["21211"][0], times=1)
        login = self.login(user)
        self.assertEqual(login.prompt(), NOT_TEXTED_PROMPT)
        login.answer("resend")
        login.expect(rf"info: A new code was texted to {MASKED.replace('*', '[*]')}\.\n")
        self.assertEqual(login.prompt(), "Verification code: ")
        messages = self.h.wait_for_messages(2)
        self.assertEqual([m["status"] for m in messages], [400, 201], messages)
        login.answer(self.code_in(messages[-1]))
        self.assertResult(login.finish(), "PAM_SUCCESS")


class OwnTextLimit(NoDeadEndTestCase):
    """One text an hour: the second login's text is held back, and the app's code gets in."""

    config = {"sms": {"user_texts_per_hour": 1}}

    def test_the_app_code_gets_in_when_the_limit_holds_the_text(self):
        user = self.h.create_user()
        secret, _ = self.enroll(user)
        first = self.login(user)
        self.assertEqual(first.prompt(), "Verification code: ")
        first.kill()
        self.h.wait_for_messages(1)

        login = self.login(user)
        self.assertEqual(login.prompt(), NOT_TEXTED_PROMPT)
        login.answer(self.app_code(secret))
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        [said] = [line for line in result.lines("error") if "Too many codes" in line]
        self.assertRegex(said, rf"^Too many codes were texted to {MASKED.replace('*', '[*]')}, "
                               r"so none was sent now \(texts resume in \d+ minutes\)\. " +
                         OTHER_CODES.replace(".", r"\.") + "$")
        self.assertIn("Begin: the code was not texted: too many texts, retry after", result.log)
        self.assertEqual(len(self.h.messages()), 1)


if __name__ == "__main__":
    main()
