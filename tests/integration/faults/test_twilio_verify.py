# SPDX-License-Identifier: BSD-2-Clause
"""Issue 12, Twilio Verify: with [twilio] verify_service_sid, Twilio makes and checks the texted
codes (the endpoint serves Verifications and VerificationCheck as Twilio documents them), through
pam_twofactor.so against a real twofactord. Verify's refusals reach the user as plain sentences:
60202 and 60203 are RateLimited, 60410 and 60605 DeliveryFailed, 20404 an expired challenge; a
verification Verify would not start leaves the login to the app's and recovery codes.
Authenticator codes are still checked locally, and lockout rules are unchanged."""

import re
import subprocess
import time
import urllib.parse

from faults_support import NOT_TEXTED, NOT_TEXTED_PROMPT, PHONE, FaultTestCase, main
from pam_support import totp

VERIFY_SID = "VA" + "0123456789abcdef" * 2
WRONG = "That code is wrong; "


class VerifyTestCase(FaultTestCase):
    harness_options = {"endpoint_args": ["--verify-service-sid", VERIFY_SID]}
    config = {"twilio": {"verify_service_sid": VERIFY_SID,
                         "verify_api_url": lambda h: h.endpoint_url},
              "login": {"tries": 10, "resends": 10}}

    def verify_code(self):
        """The code Verify sent to the phone."""
        path = "/_control/verify_code?To=" + urllib.parse.quote(PHONE)
        return self.h._control("GET", path)["code"]

    def verify_requests(self):
        return self.h._control("GET", "/_control/verifications")

    def started_login(self, user, options="timeout=30 tries=10"):
        login = self.login(user, options)
        login.expect(r"info: A verification code was texted to \*\*\*-\*\*\*-5555\. ")
        login.prompt()
        return login


class VerifyLogins(VerifyTestCase):

    def test_login_approved_by_verify(self):
        user = self.enrolled_user()
        log_before = len(self.h.daemon_log())
        login = self.started_login(user)
        login.answer(self.verify_code())
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertEqual(self.requests(), [])  # no text of our own: Verify sent it
        self.assertEqual([(r["resource"], r["status"]) for r in self.verify_requests()],
                         [("Verifications", 201), ("VerificationCheck", 200)])
        start = self.verify_requests()[0]
        self.assertEqual(start["form"], {"To": PHONE, "Channel": "sms"})
        log = self.h.daemon_log()[log_before:]
        self.assertRegex(log, r"verification started user=\S+ verification_sid=VE[0-9a-f]{32}")
        self.assertRegex(log, r"two-factor login succeeded user=\S+ ip=\S+ "
                              r"verification_sid=VE[0-9a-f]{32}")

    def test_a_login_approved_by_verify_makes_a_trust(self):
        user = self.enrolled_user()
        login = self.started_login(user, "timeout=30 tries=10 trust=600")
        login.answer(self.verify_code())
        self.assertResult(login.finish(), "PAM_SUCCESS")
        checks = len(self.verify_requests())
        trusted = self.login(user, "timeout=30 trust=600").finish()
        self.assertResult(trusted, "PAM_SUCCESS")
        self.assertEqual(trusted.lines("prompt"), [], trusted)
        self.assertIn(": trusted (PAM_SUCCESS)", trusted.log)
        self.assertEqual(len(self.verify_requests()), checks)  # nothing sent or checked

    def test_wrong_code_then_right(self):
        user = self.enrolled_user()
        login = self.started_login(user)
        code = self.verify_code()
        login.answer("000000" if code != "000000" else "111111")
        login.expect(re.escape(WRONG))
        login.prompt()
        login.answer(code)
        self.assertResult(login.finish(), "PAM_SUCCESS")
        state = self.h.ctl_json("status", user)[1]
        self.assertEqual(state["failures"], 0)  # success clears them, as with local codes

    def test_five_wrong_checks_then_verify_refuses(self):
        user = self.enrolled_user()
        login = self.started_login(user)
        code = self.verify_code()
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(5):
            login.answer(wrong)
            login.expect(re.escape(WRONG))
            login.prompt()
        login.answer(code)  # the sixth check: Verify answers 60202 even for the right code
        result = login.finish()
        self.assertResult(result, "PAM_AUTH_ERR")
        self.assertIn("Too many codes", result.transcript)
        self.assertIn("Complete: retry after 600 s", result.log)
        statuses = [(r["resource"], r["status"]) for r in self.verify_requests()]
        self.assertEqual(statuses[-1], ("VerificationCheck", 429))
        # Six failures counted locally (five wrong codes, then the refused sixth check).
        self.assertEqual(self.h.ctl_json("status", user)[1]["failures"], 6)

    def test_expired_verification_ends_the_challenge(self):
        user = self.enrolled_user()
        login = self.started_login(user)
        code = self.verify_code()
        self.h._control("POST", "/_control/verify_expire", {})
        login.answer(code)
        result = login.finish()
        self.assertResult(result, "PAM_AUTH_ERR")
        self.assertIn("The code has expired", result.transcript)
        self.assertEqual(self.verify_requests()[-1]["status"], 404)

    def test_resend_sends_the_same_code_until_60203(self):
        user = self.enrolled_user()
        login = self.started_login(user)
        code = self.verify_code()
        for _ in range(4):  # Begin was the first send; four more are allowed
            login.answer("resend")
            login.expect(r"info: A new code was texted to \*\*\*-\*\*\*-5555\.")
            login.prompt()
            self.assertEqual(self.verify_code(), code)
        login.answer("resend")  # the sixth send: Verify answers 60203
        login.expect(r"error: No more codes can be texted for this login; use the last one\.")
        login.prompt()
        login.answer(code)
        self.assertResult(login.finish(), "PAM_SUCCESS")
        statuses = [(r["resource"], r["status"]) for r in self.verify_requests()]
        self.assertEqual(statuses[:6], [("Verifications", 201)] * 5 + [("Verifications", 429)])

    def test_blocked_destinations_leave_the_app_code(self):
        # No dead end (issue 11): Verify would not send, the app's code gets in, checked here.
        for code in (60410, 60605):
            with self.subTest(code=code):
                self.h.reset_endpoint()
                user = self.enrolled_user()
                self.h.behave(status=403, code=code, message="Verification delivery attempt "
                                                             "blocked", times=1)
                finished = self.login_until_prompt_or_end(user, answer_code=False)
                self.assertResult(finished.result, "PAM_SUCCESS")
                self.assertEqual(finished.result.lines("error"), [NOT_TEXTED], finished)
                self.assertIn(f"Begin: the code was not texted: Twilio error {code}, HTTP status "
                              "403", finished.result.log)
                self.assertEqual(len(self.verify_requests()), 1)  # 403 is final; no check

    def test_no_verification_no_check_and_resend_starts_one(self):
        user = self.enrolled_user()
        rc, reply, err = self.h.ctl_json("recovery-codes", user)
        self.assertEqual(rc, 0, err)
        self.h.behave(status=403, code=60410, message="Verification delivery attempt blocked",
                      times=1)
        login = self.login(user, "timeout=30 tries=10")
        self.assertEqual(login.prompt(), NOT_TEXTED_PROMPT)
        # No verification is pending: a wrong code is wrong here, and costs a try.
        login.answer("000000")
        login.expect(re.escape(WRONG))
        login.prompt()
        self.assertEqual(self.h.ctl_json("status", user)[1]["failures"], 1)
        self.assertEqual([r["resource"] for r in self.verify_requests()], ["Verifications"])
        # resend tries Verify again; its code is Verify's to check from then on.
        login.answer("resend")
        login.expect(r"info: A new code was texted to \*\*\*-\*\*\*-5555\.")
        self.assertEqual(login.prompt(), "Verification code: ")
        login.answer(self.verify_code())
        self.assertResult(login.finish(), "PAM_SUCCESS")
        self.assertEqual([(r["resource"], r["status"]) for r in self.verify_requests()],
                         [("Verifications", 403), ("Verifications", 201),
                          ("VerificationCheck", 200)])
        # And a recovery code, while Verify refuses.
        self.h.behave(status=403, code=60605, message="blocked", times=1)
        login = self.login(user, "timeout=30")
        self.assertEqual(login.prompt(), NOT_TEXTED_PROMPT)
        login.answer(reply["recoveryCodes"][0])
        self.assertResult(login.finish(), "PAM_SUCCESS")

    def test_too_many_sends_at_begin_leave_the_app_code(self):
        user = self.enrolled_user()
        self.h.behave(status=429, code=60203, message="Max send attempts reached", times=1)
        finished = self.login_until_prompt_or_end(user, answer_code=False)
        self.assertResult(finished.result, "PAM_SUCCESS")
        self.assertIn("(texts resume in 10 minutes)", finished.result.transcript)
        self.assertIn("Begin: the code was not texted: too many texts, retry after 600 s",
                      finished.result.log)
        self.assertEqual(len(self.verify_requests()), 1)  # Verify's 429s are not retried

    def test_authenticator_code_is_checked_locally(self):
        user = self.h.create_user()
        secret = self.enroll_quietly(user)
        self.h.reset_endpoint()
        login = self.started_login(user)
        login.answer(totp(secret, offset=1))
        self.assertResult(login.finish(), "PAM_SUCCESS")
        self.assertEqual([r["resource"] for r in self.verify_requests()], ["Verifications"])


class VerifyFactorChanges(VerifyTestCase):
    """Issue 12: a user changing their own factor proves it with the code Verify texted (and its
    twoFactorId), checked through VerificationCheck without holding up the daemon; a wrong one
    counts as any wrong code."""

    def begin_as(self, user):
        rc, reply, err = self.h.ctl_json("login", user, as_user=user)
        self.assertEqual(rc, 0, err)
        return reply["twoFactorId"]

    def test_disable_with_the_code_verify_texted(self):
        user = self.enrolled_user()
        two_factor_id = self.begin_as(user)
        code = self.verify_code()
        rc, reply, err = self.h.ctl_json("disable", user, "--two-factor-id", two_factor_id,
                                         "--code", "000000" if code != "000000" else "111111",
                                         as_user=user)
        self.assertEqual((rc, reply["error"]), (1, "io.twofactor.InvalidCode"), (reply, err))
        self.assertEqual(self.h.ctl_json("status", user)[1]["failures"], 1)
        rc, out, err = self.h.ctl("disable", user, "--two-factor-id", two_factor_id, "--code",
                                  code, as_user=user)
        self.assertEqual(rc, 0, (out, err))
        status = self.h.ctl_json("status", user)[1]
        self.assertEqual((status["enabled"], status["failures"]), (False, 0), status)
        self.assertEqual([(r["resource"], r["status"]) for r in self.verify_requests()],
                         [("Verifications", 201), ("VerificationCheck", 200),
                          ("VerificationCheck", 200)])

    def test_new_recovery_codes_and_a_new_factor_with_the_code_verify_texted(self):
        user = self.enrolled_user()
        two_factor_id = self.begin_as(user)
        rc, reply, err = self.h.ctl_json("recovery-codes", user, "--two-factor-id",
                                         two_factor_id, "--code", self.verify_code(),
                                         as_user=user)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(reply["recoveryCodes"]), 10, reply)
        # The approved verification is gone: its code proves nothing twice.
        rc, reply, err = self.h.ctl_json("recovery-codes", user, "--two-factor-id",
                                         two_factor_id, "--code", "123456", as_user=user)
        self.assertEqual(rc, 1, (reply, err))

        two_factor_id = self.begin_as(user)
        rc, new_secret, err = self.h.ctl_json("secret")
        secret = new_secret["secret"]
        rc, out, err = self.h.ctl("enable", user, "--delivery", "None", "--secret", secret,
                                  "--code", totp(secret), "--current-code", self.verify_code(),
                                  "--two-factor-id", two_factor_id, as_user=user)
        self.assertEqual(rc, 0, (out, err))
        self.assertEqual(self.h.ctl_json("status", user)[1]["delivery"], "None")

    def test_a_slow_check_holds_up_no_other_call(self):
        user = self.enrolled_user()
        two_factor_id = self.begin_as(user)
        code = self.verify_code()
        self.h.behave(delay_ms=2500, times=1)  # the VerificationCheck answers late
        slow = self.h.spawn_ctl("disable", user, "--two-factor-id", two_factor_id, "--code",
                                code, as_user=user, stdin=subprocess.DEVNULL)
        try:
            time.sleep(0.5)  # the check is on its way, held up by the endpoint
            started = time.monotonic()
            rc, _, err = self.h.ctl_json("status", user)
            fast = time.monotonic() - started
            self.assertEqual(rc, 0, err)
            self.assertLess(fast, 1.5, "a factor change's VerificationCheck held up the daemon")
            self.assertEqual(slow.wait(timeout=30), 0)
        finally:
            if slow.poll() is None:
                slow.kill()
                slow.wait(timeout=10)
            for stream in (slow.stdout, slow.stderr):
                if stream:
                    stream.close()
        self.assertIs(self.h.ctl_json("status", user)[1]["enabled"], False)


if __name__ == "__main__":
    main()
