#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Issue 11, voice, and issue 12, Verify's call channel: `call` at the prompt of
pam_twofactor.so rings the phone through the endpoint's Calls.json (inline TwiML reading the
challenge's code twice) or through Verify with Channel=call; calls count against the text limits;
with [voice] off, `call` is refused with a sentence and costs no try."""

import re
import urllib.parse

from pam_support import MASKED, PHONE, PamTestCase, harness, main, totp, wrong_code

TEXTED_WITH_CALL = ("A verification code was texted to ***-***-5555. Type resend to get a new "
                    "one, or call to hear it on the phone.")
TEXTED = "A verification code was texted to ***-***-5555. Type resend to get a new one."
CALLING = f"Calling {MASKED} now; the code is read twice."
NO_CALLS = "Calls are not enabled here."
VERIFY_SID = "VA" + "0123456789abcdef" * 2


def spoken(code):
    """How the TwiML reads a code: digit by digit."""
    return ", ".join(code) + "."


class VoiceTestCase(PamTestCase):
    def setUp(self):
        self.h.reset_endpoint()
        self.addCleanup(self.h.reset_endpoint)

    def calls(self):
        return self.h._control("GET", "/_control/calls")

    def enrolled_user(self):
        """A user with texted codes, enabled with an authenticator's code: no text sent."""
        user = self.h.create_user()
        harness.wait_for_step_start(margin=5)
        secret = self.new_secret()
        self.ctl_ok("enable", user, "--secret", secret, "--code", totp(secret), "--phone", PHONE)
        self.h.reset_endpoint()
        return user

    def started(self, user, info, options="timeout=30"):
        """A login at its first prompt, its info line checked; returns it and the texted code."""
        login = self.login(user, options)
        login.expect(re.escape("info: " + info))
        login.prompt()
        messages = self.h.messages()
        code = self.code_in(messages[-1]) if messages else None
        return login, code


class VoiceCalls(VoiceTestCase):
    config = {"voice": {"enabled": "yes"}}

    def test_call_reads_the_challenge_code_twice_and_it_gets_in(self):
        user = self.enrolled_user()
        log_before = len(self.h.daemon_log())
        login, code = self.started(user, TEXTED_WITH_CALL)
        login.answer("call")
        login.expect(re.escape("info: " + CALLING))
        login.prompt()
        calls = self.calls()
        self.assertEqual(len(calls), 1, calls)
        call = calls[0]
        self.assertEqual(call["status"], 201)
        self.assertTrue(call["auth_ok"])
        self.assertEqual(call["form"]["To"], PHONE)
        self.assertEqual(call["form"]["From"], harness.FROM_NUMBER)
        self.assertNotIn("Url", call["form"])
        self.assertIsNotNone(call["spoken"], call["form"]["Twiml"])  # a <Response> document
        self.assertEqual(call["spoken"].count(spoken(code)), 2, call["spoken"])
        self.assertEqual(len(self.h.messages()), 1)  # the call is no text
        login.answer(code)
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertNothingSecretLogged(result, code)
        log = self.h.daemon_log()[log_before:]
        self.assertRegex(log, r"voice call accepted user=\S+ call_sid=CA[0-9a-f]{32}")
        self.assertNotIn(code, log)
        self.assertNotIn(spoken(code), log)

    def test_twofactorctl_send_call(self):
        user = self.enrolled_user()
        rc, reply, _ = self.h.ctl_json("login", user)
        self.assertEqual(rc, 0)
        out = self.ctl_ok("send", "--two-factor-id", reply["twoFactorId"], "--call")
        self.assertIn(f"Calling {MASKED} to read the code.", out)
        code = self.code_in(self.h.messages()[-1])
        calls = self.calls()
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0]["spoken"].count(spoken(code)), 2)
        rc, out, err = self.h.ctl("send", "--call", "--phone", PHONE, "--secret", "x" * 20)
        self.assertEqual(rc, 2, (out, err))  # a call reads a login's code only
        self.ctl_ok("complete", "--two-factor-id", reply["twoFactorId"], "--code", code)

    def test_a_call_twilio_refuses_leaves_the_texted_code_working(self):
        user = self.enrolled_user()
        login, code = self.started(user, TEXTED_WITH_CALL)
        self.h.behave(status=400, code=21211, times=1)
        login.answer("call")
        login.expect(re.escape("error: The call could not be placed; use the last code."))
        login.prompt()
        self.assertEqual([c["status"] for c in self.calls()], [400])  # never placed twice
        login.answer(code)
        self.assertResult(login.finish(), "PAM_SUCCESS")

    def test_an_app_user_is_not_called(self):
        user = self.h.create_user()
        secret = self.enroll_app(user)
        login = self.login(user, "timeout=30")
        login.prompt()
        login.answer("call")
        login.expect(r"error: Your codes come from your authenticator app; no call is made\.")
        login.prompt()
        self.assertEqual(self.calls(), [])
        login.answer(totp(secret, offset=1))  # enable used the current step
        self.assertResult(login.finish(), "PAM_SUCCESS")


class VoiceCallsAreLimitedLikeTexts(VoiceTestCase):
    # Two texts an hour per user: the login's text and one call.
    config = {"voice": {"enabled": "yes"}, "sms": {"user_texts_per_hour": 2}}

    def test_after_the_text_limit_call_is_refused_with_a_wait(self):
        user = self.enrolled_user()
        login, code = self.started(user, TEXTED_WITH_CALL)
        login.answer("call")
        login.expect(re.escape("info: " + CALLING))
        login.prompt()
        login.answer("call")
        login.expect(r"error: No call can be made now; try again in (\d+) minutes, or use the "
                     r"last code\.")
        login.prompt()
        login.answer("resend")  # the call took the text's place in the hour
        login.expect(r"error: No more codes can be texted")
        login.prompt()
        self.assertEqual(len(self.calls()), 1)
        self.assertEqual(len(self.h.messages()), 1)
        login.answer(code)
        self.assertResult(login.finish(), "PAM_SUCCESS")


class VoiceDisabled(VoiceTestCase):
    def test_call_is_refused_with_a_sentence_and_costs_no_try(self):
        user = self.enrolled_user()
        login, code = self.started(user, TEXTED, options="timeout=30 tries=2")
        for _ in range(3):
            login.answer("call")
            login.expect(re.escape("error: " + NO_CALLS))
            login.prompt()
        login.answer(wrong_code(code))
        login.expect(r"error: That code is wrong; 1 try left\.")  # the calls cost nothing
        login.prompt()
        login.answer(code)
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertNotIn("call", result.lines("info")[0])
        self.assertEqual(self.calls(), [])

    def test_the_daemon_refuses_a_call_too(self):
        user = self.enrolled_user()
        rc, reply, _ = self.h.ctl_json("login", user)
        self.assertEqual(rc, 0)
        rc, out, err = self.h.ctl("send", "--two-factor-id", reply["twoFactorId"], "--call")
        self.assertEqual(rc, 1, (out, err))
        self.assertIn("calls are not enabled here", out + err)
        self.assertEqual(self.calls(), [])


class VoiceThroughVerify(VoiceTestCase):
    harness_options = {"endpoint_args": ["--verify-service-sid", VERIFY_SID]}
    config = {"voice": {"enabled": "yes"},
              "twilio": {"verify_service_sid": VERIFY_SID,
                         "verify_api_url": lambda h: h.endpoint_url}}

    def test_call_starts_a_verification_on_the_call_channel(self):
        user = self.enrolled_user()
        login, _ = self.started(user, TEXTED_WITH_CALL)
        login.answer("call")
        login.expect(re.escape("info: " + CALLING))
        login.prompt()
        starts = [r for r in self.h._control("GET", "/_control/verifications")
                  if r["resource"] == "Verifications"]
        self.assertEqual([(r["form"], r["status"]) for r in starts],
                         [({"To": PHONE, "Channel": "sms"}, 201),
                          ({"To": PHONE, "Channel": "call"}, 201)])
        self.assertEqual(self.calls(), [])  # Verify places the call, not Calls.json
        path = "/_control/verify_code?To=" + urllib.parse.quote(PHONE)
        login.answer(self.h._control("GET", path)["code"])
        self.assertResult(login.finish(), "PAM_SUCCESS")
        self.assertEqual(self.h.messages(), [])


if __name__ == "__main__":
    main()
