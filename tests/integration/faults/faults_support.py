# SPDX-License-Identifier: BSD-2-Clause
"""What the fault tests share: the PAM module's support (tests/integration/pam/pam_support.py),
enrollment that sends no text (so the endpoint counts only login texts), and a login run to its
end with its elapsed time and the daemon log lines it produced."""

import os
import socket
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "pam"))

import pam_support  # noqa: E402  (the path above first)
from pam_support import PHONE, PamTestCase, totp  # noqa: E402,F401

# The module's per-call timeout in these tests: the shipped default (pam_twofactor(8)).
MODULE_TIMEOUT = 30
# No dead end (issue 11): a text that did not go out leaves the prompt for the app's code or a
# recovery code.
OTHER_CODES = "Type the code from your authenticator app or a recovery code instead."
NOT_TEXTED = f"The code could not be texted to ***-***-5555. {OTHER_CODES}"
OPTED_OUT = ("The code could not be texted: ***-***-5555 has opted out of text messages. Reply "
             f"START to the number the codes come from to receive texts again. {OTHER_CODES}")
NOT_TEXTED_PROMPT = "Authenticator app or recovery code: "
TEXTED_INFO = "A verification code was texted to ***-***-5555. Type resend to get a new one."


_held_sockets = []


def free_closed_port():
    """A loopback port that refuses connections for as long as this process runs: bound, so
    nobody else takes it, and never listening."""
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(("127.0.0.1", 0))
    _held_sockets.append(held)
    return held.getsockname()[1]


class Finished:
    """A login run to its end: the module's result, how long it took, and what the daemon
    logged while it ran."""

    def __init__(self, result, elapsed, daemon_lines):
        self.result = result
        self.elapsed = elapsed
        self.daemon_lines = daemon_lines

    def daemon(self, text):
        return [line for line in self.daemon_lines if text in line]

    def __repr__(self):
        return (f"{self.result!r}\nelapsed {self.elapsed:.2f} s\n--- daemon ---\n" +
                "\n".join(self.daemon_lines))


class FaultTestCase(PamTestCase):
    """One daemon and endpoint per class; each test enrolls its own user without a text."""

    def setUp(self):
        self.h.reset_endpoint()
        self.addCleanup(self.h.reset_endpoint)
        self.secrets = {}

    def enroll_quietly(self, user, phone=PHONE):
        """Enables texted delivery with an authenticator's current code: no text is sent."""
        pam_support.harness.wait_for_step_start(margin=5)
        secret = self.new_secret()
        self.ctl_ok("enable", user, "--secret", secret, "--code", totp(secret), "--phone", phone)
        return secret

    def enrolled_user(self):
        user = self.h.create_user()
        self.secrets[user] = self.enroll_quietly(user)
        self.h.reset_endpoint()
        return user

    def login_until_prompt_or_end(self, user, answer_code=True, options=""):
        """Runs one login; answers the texted code if a prompt comes (answer_code=False: the
        authenticator app's code, for a login whose text did not go out). Returns a Finished."""
        log_before = len(self.h.daemon_log())
        login = self.login(user, f"timeout={MODULE_TIMEOUT} {options}".strip())
        if answer_code:
            try:
                login.prompt(timeout=MODULE_TIMEOUT + 10)
            except AssertionError:
                pass  # no prompt: the login ended before it (finish() tells how)
            else:
                messages = self.h.messages()
                accepted = [m for m in messages if m["status"] == 201]
                login.answer(self.code_in(accepted[-1]) if accepted else "000000")
        else:
            try:
                login.prompt(timeout=MODULE_TIMEOUT + 10)
            except AssertionError:
                pass
            else:
                # The step that enabled is used; the app's next one is inside the window.
                login.answer(totp(self.secrets[user], offset=1))
        result = login.finish(timeout=MODULE_TIMEOUT + 10)
        elapsed = time.monotonic() - login.started
        lines = self.h.daemon_log()[log_before:].splitlines()
        return Finished(result, elapsed, lines)

    def requests(self):
        """The Messages requests the endpoint received since the test began."""
        return self.h.messages()

    # -- assertions -----------------------------------------------------------------------------

    def assertNotTexted(self, finished, twilio_code, http_status):
        """No dead end: the text did not go out, the user read why and that the app's code or a
        recovery code works, typed the app's code and got in; both logs name Twilio's code."""
        self.assertResult(finished.result, "PAM_SUCCESS")
        sentence = OPTED_OUT if twilio_code == 21610 else NOT_TEXTED
        self.assertEqual(finished.result.lines("error"), [sentence], finished)
        self.assertEqual(finished.result.lines("info"), [], finished)
        self.assertEqual(finished.result.lines("prompt"), [NOT_TEXTED_PROMPT], finished)
        self.assertIn(f"Begin: the code was not texted: Twilio error {twilio_code}, HTTP status "
                      f"{http_status}", finished.result.log)
        lines = finished.daemon("text message not delivered")
        self.assertEqual(len(lines), 1, finished)
        self.assertIn(f"twilio_code={twilio_code} http_status={http_status} reason=", lines[0])
        self.assertBelowModuleTimeout(finished)
        self.assertNoFullNumber(finished)
        return lines[0]

    def assertLoggedIn(self, finished):
        self.assertResult(finished.result, "PAM_SUCCESS")
        self.assertEqual(finished.result.lines("info"), [TEXTED_INFO], finished)
        self.assertEqual(finished.result.lines("error"), [], finished)
        self.assertEqual(finished.daemon("text message not delivered"), [], finished)
        self.assertBelowModuleTimeout(finished)

    def assertBelowModuleTimeout(self, finished):
        self.assertLess(finished.elapsed, MODULE_TIMEOUT, finished)

    def assertNoFullNumber(self, finished):
        for text in ["\n".join(finished.daemon_lines), finished.result.log,
                     finished.result.transcript]:
            self.assertNotIn(PHONE[2:], text)

    def assertRequestCount(self, count, finished=None):
        requests = self.requests()
        self.assertEqual(len(requests), count, f"{requests}\n{finished!r}")
        for request in requests:
            self.assertEqual(request["form"].get("To"), PHONE)
        return requests

    def assertGapsWithin(self, requests, bounds, finished=None):
        """Each gap between consecutive requests lies within its (low, high) seconds."""
        gaps = [b["time"] - a["time"] for a, b in zip(requests, requests[1:])]
        self.assertEqual(len(gaps), len(bounds), gaps)
        for gap, (low, high) in zip(gaps, bounds):
            self.assertGreaterEqual(gap, low, f"gaps {gaps}\n{finished!r}")
            self.assertLessEqual(gap, high, f"gaps {gaps}\n{finished!r}")
        return gaps


def main():
    pam_support.main()
