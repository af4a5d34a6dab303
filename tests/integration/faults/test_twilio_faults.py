# SPDX-License-Identifier: BSD-2-Clause
"""Issue 6: Twilio misbehaving, seen through pam_twofactor.so (the libpam driver) against a real
twofactord and the loopback endpoint. Each fault checks what the user reads, the PAM result,
how many requests the endpoint received (and when), the daemon's log line with Twilio's code,
and that the login ended within the module's timeout.

The daemon's Twilio settings are the shipped defaults unless a class says otherwise: 4 attempts,
backoff from 0.5 s doubling to at most 4 s with equal jitter (half to all of it), 10 s per
attempt, 20 s for all attempts of one text; the module waits up to 30 s for each answer."""

from faults_support import PHONE, FaultTestCase, free_closed_port, main

# Upper slack on a gap between two requests: the endpoint's own answer time on a loaded machine.
SLACK = 0.4
# Lower slack: the endpoint stamps arrivals with time.time() (system clock) granularity.
EARLY = 0.01
# Backoff waits with the defaults: base 0.5, 1, 2 s, each jittered to between half and all of it.
DEFAULT_BACKOFF = [(0.25 - EARLY, 0.5 + SLACK), (0.5 - EARLY, 1.0 + SLACK),
                   (1.0 - EARLY, 2.0 + SLACK)]
# A 4xx answer is final: one request, and the login ends about as fast as a good one.
QUICK = 5.0


class TransientFaults(FaultTestCase):
    """What Twilio did not take (429, 503, a connection that failed before the request went
    out) is retried with capped exponential backoff; what it may have taken (500, 502, 504, no
    answer once sent) is not (tests/integration/faults/test_no_text_twice.py)."""

    def test_429_with_retry_after_waits_as_told(self):
        user = self.enrolled_user()
        self.h.behave(status=429, retry_after=2)
        finished = self.login_until_prompt_or_end(user, answer_code=False)
        line = self.assertNotTexted(finished, 20429, 429)
        self.assertIn("reason=Too Many Requests", line)
        requests = self.assertRequestCount(4, finished)
        # Retry-After (2 s) is longer than every backoff wait of the defaults, so it decides.
        self.assertGapsWithin(requests, [(2.0 - EARLY, 2.0 + SLACK)] * 3, finished)
        self.assertGreaterEqual(finished.elapsed, 6.0)

    def test_429_with_retry_after_beyond_the_deadline_gives_up_at_once(self):
        user = self.enrolled_user()
        self.h.behave(status=429, retry_after=60)
        finished = self.login_until_prompt_or_end(user, answer_code=False)
        self.assertNotTexted(finished, 20429, 429)
        self.assertRequestCount(1, finished)
        self.assertLess(finished.elapsed, QUICK, finished)

    def test_429_without_retry_after_backs_off_exponentially(self):
        user = self.enrolled_user()
        self.h.behave(status=429)
        finished = self.login_until_prompt_or_end(user, answer_code=False)
        self.assertNotTexted(finished, 20429, 429)
        requests = self.assertRequestCount(4, finished)
        self.assertGapsWithin(requests, DEFAULT_BACKOFF, finished)

    def test_429_once_then_accepted_logs_the_user_in(self):
        user = self.enrolled_user()
        self.h.behave(status=429, retry_after=1, times=1)
        finished = self.login_until_prompt_or_end(user)
        self.assertLoggedIn(finished)
        requests = self.assertRequestCount(2, finished)
        self.assertEqual([r["status"] for r in requests], [429, 201])
        self.assertGapsWithin(requests, [(1.0 - EARLY, 1.0 + SLACK)], finished)

    def test_503_is_retried_then_reported(self):
        user = self.enrolled_user()
        self.h.behave(status=503, code=20503, message="Service Unavailable")
        finished = self.login_until_prompt_or_end(user, answer_code=False)
        line = self.assertNotTexted(finished, 20503, 503)
        self.assertIn("reason=Service Unavailable", line)
        requests = self.assertRequestCount(4, finished)
        self.assertGapsWithin(requests, DEFAULT_BACKOFF, finished)

    def test_503_twice_then_accepted_logs_the_user_in(self):
        user = self.enrolled_user()
        self.h.behave(status=503, times=2)
        finished = self.login_until_prompt_or_end(user)
        self.assertLoggedIn(finished)
        requests = self.assertRequestCount(3, finished)
        self.assertEqual([r["status"] for r in requests], [503, 503, 201])
        self.assertGapsWithin(requests, DEFAULT_BACKOFF[:2], finished)

    def test_malformed_error_body_is_retried_and_reported_by_status(self):
        user = self.enrolled_user()
        self.h.behave(status=503, body="<html><body>Service Unavailable</body></html>")
        finished = self.login_until_prompt_or_end(user, answer_code=False)
        line = self.assertNotTexted(finished, 0, 503)
        self.assertIn("reason=Twilio answered 503 with a body that is not JSON", line)
        self.assertRequestCount(4, finished)


class FinalAnswers(FaultTestCase):
    """Answers that another attempt cannot mend: sent once, reported at once."""

    def test_twilio_4xx_errors_are_not_retried(self):
        cases = [
            (21211, f"The 'To' number {PHONE} is not a valid phone number."),
            (21614, f"'To' number {PHONE} is not a valid mobile number"),
            (21610, "Attempt to send to unsubscribed recipient"),
        ]
        for code, message in cases:
            with self.subTest(code=code):
                self.h.reset_endpoint()
                user = self.enrolled_user()
                self.h.behave(status=400, code=code, message=message)
                finished = self.login_until_prompt_or_end(user, answer_code=False)
                line = self.assertNotTexted(finished, code, 400)
                self.assertRequestCount(1, finished)
                self.assertLess(finished.elapsed, QUICK, finished)
                if PHONE in message:
                    # Twilio's message quotes the number: the journal keeps its last 4 digits.
                    self.assertIn("+*******5555", line)

    def test_malformed_success_body_is_not_retried(self):
        # A 201 means Twilio took the message: another attempt could text the user twice.
        user = self.enrolled_user()
        self.h.behave(status=201, body="{\"sid\": ")
        finished = self.login_until_prompt_or_end(user, answer_code=False)
        line = self.assertNotTexted(finished, 0, 201)
        self.assertIn("reason=Twilio answered 201 with a body that is not JSON", line)
        self.assertRequestCount(1, finished)
        self.assertLess(finished.elapsed, QUICK, finished)

    def test_huge_body_is_not_read(self):
        for chunked in (False, True):
            with self.subTest(chunked=chunked):
                self.h.reset_endpoint()
                user = self.enrolled_user()
                self.h.behave(status=201, body="{\"sid\": \"" + "x" * 300000 + "\"}",
                              chunked=chunked)
                finished = self.login_until_prompt_or_end(user, answer_code=False)
                line = self.assertNotTexted(finished, 0, 201)
                self.assertIn("with a body over 64 KiB, which was not read", line)
                self.assertRequestCount(1, finished)
                self.assertLess(finished.elapsed, QUICK, finished)


class FailedResendAndSetup(FaultTestCase):
    """A text other than the first one of a login fails: the journal still names Twilio's code."""

    def test_resend_refused_by_twilio_keeps_the_first_code(self):
        user = self.enrolled_user()
        log_before = len(self.h.daemon_log())
        login = self.login(user, "timeout=30")
        login.prompt()
        first = self.code_in(self.assertRequestCount(1)[0])
        self.h.behave(status=400, code=21610, message="Attempt to send to unsubscribed recipient")
        login.answer("resend")
        login.expect(r"error: The new code could not be texted; use the last one\.\n")
        login.prompt()
        login.answer(first)
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertIn("SendCode: Twilio error 21610, HTTP status 400", result.log)
        self.assertRequestCount(2)
        lines = [line for line in self.h.daemon_log()[log_before:].splitlines()
                 if "text message not delivered" in line]
        self.assertEqual(len(lines), 1, self.h.daemon_log()[log_before:])
        self.assertIn(f"user={user}", lines[0])
        self.assertIn("twilio_code=21610 http_status=400", lines[0])

    def test_setup_text_refused_by_twilio_is_logged(self):
        secret = self.new_secret()
        log_before = len(self.h.daemon_log())
        self.h.behave(status=400, code=21614, message=f"'To' number {PHONE} is not a valid "
                                                      "mobile number")
        rc, out, err = self.h.ctl("send", "--phone", PHONE, "--secret", secret)
        self.assertEqual(rc, 1, (out, err))
        self.assertRequestCount(1)
        log = self.h.daemon_log()[log_before:]
        lines = [line for line in log.splitlines() if "text message not delivered" in line]
        self.assertEqual(len(lines), 1, log)
        self.assertIn("twilio_code=21614 http_status=400", lines[0])
        self.assertIn("+*******5555", lines[0])
        self.assertNotIn(PHONE[2:], log)


class WrongCredentials(FaultTestCase):
    """The daemon holds the wrong auth token: the endpoint itself answers 401, code 20003."""

    config = {"twilio": {"auth_token": "0" * 32}}

    def test_bad_credentials_are_not_retried(self):
        user = self.enrolled_user()
        finished = self.login_until_prompt_or_end(user, answer_code=False)
        line = self.assertNotTexted(finished, 20003, 401)
        self.assertIn("reason=Authenticate", line)
        requests = self.assertRequestCount(1, finished)
        self.assertFalse(requests[0]["auth_ok"])
        self.assertLess(finished.elapsed, QUICK, finished)
        self.assertNotIn("0" * 32, self.h.daemon_log())


class RefusedConnection(FaultTestCase):
    """Nothing listens where api_url points: every attempt is refused, and retried."""

    config = {"twilio": {"api_url": f"http://127.0.0.1:{free_closed_port()}"}}

    def test_refused_connection_is_retried_then_reported(self):
        user = self.enrolled_user()
        finished = self.login_until_prompt_or_end(user, answer_code=False)
        line = self.assertNotTexted(finished, 0, 0)
        self.assertRegex(line, r"reason=Could not reach Twilio: .*[Cc]onnect")
        # The refusals never reach the endpoint; the three backoff waits (at least 1.75 s)
        # show the attempts were made.
        self.assertRequestCount(0, finished)
        self.assertGreaterEqual(finished.elapsed, 1.75, finished)
        self.assertLess(finished.elapsed, 3.5 + 3 * SLACK, finished)
        sent = finished.daemon("sending a text")
        self.assertEqual(len(sent), 1, finished)


class BackoffCap(FaultTestCase):
    """Six attempts: the waits double from 0.5 s and stop growing at backoff_max (4 s)."""

    config = {"twilio": {"max_attempts": 6}}

    def test_backoff_is_capped(self):
        user = self.enrolled_user()
        self.h.behave(status=503)
        finished = self.login_until_prompt_or_end(user, answer_code=False)
        self.assertNotTexted(finished, 20503, 503)
        requests = self.assertRequestCount(6, finished)
        capped = (2.0 - EARLY, 4.0 + SLACK)
        gaps = self.assertGapsWithin(requests, DEFAULT_BACKOFF + [capped, capped], finished)
        self.assertLess(sum(gaps), 11.5 + 5 * SLACK)


if __name__ == "__main__":
    main()
