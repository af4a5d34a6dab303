# SPDX-License-Identifier: BSD-2-Clause
"""No text twice, and failmode=safe only before a challenge exists, through pam_twofactor.so against
a real twofactord and the loopback endpoint: only what Twilio did not take is sent again (429, 503,
a connection that failed before the request went out). After a 500, 502 or 504, or no answer once
the request went out, the daemon does not retry: the challenge stays open, the user reads that the
text may be late and that `resend` sends another, and the code of that text still works."""

import re
import time

from faults_support import FaultTestCase, main

LATE = ("The code texted to ***-***-5555 may be late. Type it when it comes, or type resend to "
        "get another; the code from your authenticator app or a recovery code works too.")
NEW_CODE = "A new code was texted to ***-***-5555."


class LateTextCase(FaultTestCase):
    """Helpers only."""

    def late_login(self, user, options="timeout=30"):
        """Runs a login to its first prompt; asserts the user read that the text may be late."""
        log_before = len(self.h.daemon_log())
        login = self.login(user, options)
        login.expect(r"info: " + re.escape(LATE) + r"\n")
        login.prompt()
        return login, log_before

    def assertMayBeLateLogged(self, log_before, http_status):
        log = self.h.daemon_log()[log_before:]
        lines = [line for line in log.splitlines() if "text message may be late" in line]
        self.assertEqual(len(lines), 1, log)
        self.assertIn(f"http_status={http_status}", lines[0])
        self.assertNotIn("text message not delivered", log)


class NoTextTwice(LateTextCase):

    def test_500_once_one_request_challenge_alive_resend_works(self):
        for status in (500, 502, 504):
            with self.subTest(status=status):
                self.h.reset_endpoint()
                user = self.enrolled_user()
                self.h.behave(status=status, times=1)
                login, log_before = self.late_login(user)
                requests = self.assertRequestCount(1)
                self.assertEqual(requests[0]["status"], status)
                self.assertMayBeLateLogged(log_before, status)
                # The challenge is open: resend texts the same code again, once.
                login.answer("resend")
                login.expect(r"info: " + re.escape(NEW_CODE) + r"\n")
                login.prompt()
                requests = self.assertRequestCount(2)
                self.assertEqual([r["status"] for r in requests], [status, 201])
                # The late text's code is the one resent: either text logs the user in.
                self.assertEqual(self.code_in(requests[0]), self.code_in(requests[1]))
                login.answer(self.code_in(requests[0]))
                result = login.finish()
                self.assertResult(result, "PAM_SUCCESS")

    def test_503_then_201_is_one_text(self):
        user = self.enrolled_user()
        self.h.behave(status=503, times=1)
        finished = self.login_until_prompt_or_end(user)
        self.assertLoggedIn(finished)
        requests = self.assertRequestCount(2, finished)
        self.assertEqual([r["status"] for r in requests], [503, 201])


class TimeoutOnceSent(LateTextCase):
    """Twilio reads the request and answers after the daemon's 3 s per attempt."""

    config = {"twilio": {"request_timeout": 3}}

    def test_timeout_once_sent_is_one_request(self):
        # The text may have gone out, so it is not sent again; the login goes on.
        user = self.enrolled_user()
        self.h.behave(delay_ms=6000, times=1)
        login, log_before = self.late_login(user)
        requests = self.assertRequestCount(1)
        self.assertMayBeLateLogged(log_before, 0)
        self.assertRegex(self.h.daemon_log()[log_before:],
                         r"reason=Twilio did not answer within \d+ ms")
        login.answer(self.code_in(requests[0]))
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertRequestCount(1)


class ConnectionClosedOnceSent(LateTextCase):

    def test_connection_closed_once_sent_is_not_retried(self):
        user = self.enrolled_user()
        self.h.behave(close=True, times=2)
        login, log_before = self.late_login(user)
        # libcurl itself sends a request again, at once, when a kept-alive connection closes
        # without an answer (it takes it for a stale connection); the daemon adds no attempt.
        requests = self.requests()
        self.assertIn(len(requests), (1, 2), requests)
        self.assertMayBeLateLogged(log_before, 0)
        login.answer(self.code_in(requests[0]))
        self.assertResult(login.finish(), "PAM_SUCCESS")


class SlowTwilioWithAShortModuleTimeout(LateTextCase):
    """The module waits 10 s, Twilio answers after 25 s. Begin answers
    within the module's timeout with the challenge open, so failmode=safe never lets the user in;
    a wrong code is refused and the late text's code works."""

    config = {"twilio": {"request_timeout": 20}}

    def test_slow_twilio_is_not_an_unreachable_daemon(self):
        user = self.enrolled_user()
        self.h.behave(delay_ms=25000, times=1)
        login, log_before = self.late_login(user, "timeout=10 failmode=safe")
        self.assertLess(time.monotonic() - login.started, 10.0)
        login.answer("000000")
        login.expect(r"That code is wrong")
        login.prompt()
        login.answer(self.code_in(self.assertRequestCount(1)[0]))
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertNotIn("letting the user in because failmode=safe", result.log)

    def test_slow_twilio_with_wrong_codes_is_refused_under_failmode_safe(self):
        user = self.enrolled_user()
        self.h.behave(delay_ms=25000, times=1)
        login, _ = self.late_login(user, "timeout=10 failmode=safe tries=1")
        login.answer("000000")
        result = login.finish()
        self.assertNotEqual(result.name, "PAM_SUCCESS", result)
        self.assertNotIn("letting the user in because failmode=safe", result.log)


class DaemonGoneAtThePrompt(FaultTestCase):
    """The daemon goes away while the user sits at the prompt. With
    failmode=safe the user is refused whatever they type; only a daemon that cannot be reached
    to start the challenge lets them in."""

    def test_daemon_stopped_after_begin_is_a_refusal(self):
        user = self.enrolled_user()
        login = self.login(user, "timeout=10 failmode=safe")
        login.prompt()
        self.h.stop_daemon()
        self.addCleanup(self.h.start_daemon)
        login.answer("000000")
        result = login.finish()
        self.assertResult(result, "PAM_AUTHINFO_UNAVAIL")
        self.assertNotIn("letting the user in because failmode=safe", result.log)

    def test_daemon_down_before_begin_still_lets_in(self):
        user = self.enrolled_user()
        self.h.stop_daemon()
        self.addCleanup(self.h.start_daemon)
        result = self.login(user, "timeout=10 failmode=safe").finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertIn("letting the user in because failmode=safe", result.log)


class StartWarnsWhenTheBudgetIsTooLong(FaultTestCase):
    """A [twilio] timeout the module's default timeout cannot wait for is named at start."""

    config = {"twilio": {"timeout": 29}}

    def test_warning_at_start(self):
        log = self.h.daemon_log()
        self.assertIn("[twilio] timeout leaves no time to answer within pam_twofactor's "
                      "default timeout", log)
        self.assertIn("twilio_timeout=29 module_timeout=30 longest_safe=28", log)


class DefaultsDoNotWarn(FaultTestCase):
    def test_no_warning_with_the_defaults(self):
        self.assertIn("ready", self.h.daemon_log())
        self.assertNotIn("leaves no time to answer", self.h.daemon_log())


if __name__ == "__main__":
    main()
