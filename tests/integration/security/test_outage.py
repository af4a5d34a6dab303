# SPDX-License-Identifier: BSD-2-Clause
"""A Twilio outage: a text that cannot be sent is reported within the configured time
(`textNotSent`, DeliveryFailed with Twilio's status) and leaves the challenge open for the
authenticator app's code or a recovery code (no dead end), counting against no one; a text
Twilio may have taken is not sent again and leaves the challenge open; authenticator-app users log in as usual; a slow Twilio stalls no other login."""

import time

from security_support import (LIBERAL_LIMITS, SecurityTestCase, call, connect_as, error_of, frame,
                              main, merged, read_message, require_root, totp)

DEADLINE = 3  # seconds, [twilio] timeout: all attempts of one text


@require_root
class OutageTest(SecurityTestCase):
    config = merged(LIBERAL_LIMITS, {"twilio": {"timeout": DEADLINE, "request_timeout": 2,
                                                "max_attempts": 3}})

    def tearDown(self):
        self.h.reset_endpoint()

    def assertNotTexted(self, user, status):
        started = time.monotonic()
        reply = self.wire("Begin", {"user": user})
        took = time.monotonic() - started
        self.assertIsNone(error_of(reply), reply)
        not_sent = reply["parameters"]["textNotSent"]
        self.assertEqual(not_sent["error"], "io.twofactor.DeliveryFailed", reply)
        self.assertEqual(not_sent["parameters"]["status"], status, reply)
        self.assertTrue(not_sent["parameters"]["message"], reply)
        self.assertLess(took, DEADLINE + 3, "the failure took longer than the Twilio deadline")
        # Nothing counts against the user for Twilio's failure.
        state = self.status(user)
        self.assertEqual((state["failures"], state["locked"]), (0, False))
        return reply["parameters"]["twoFactorId"], took

    def test_twilio_down_leaves_the_app_and_recovery_codes(self):
        user = self.h.create_user()
        secret = self.enable_texted_quietly(user, "+15555550170")
        recovery = self.ok_json("recovery-codes", user)["recoveryCodes"]
        self.h.behave(status=503)
        two_factor_id, took = self.assertNotTexted(user, 503)
        attempts = [m for m in self.texts() if m["form"].get("To") == "+15555550170"]
        self.assertGreaterEqual(len(attempts), 2, "a 503 was not retried")
        self.assertLessEqual(len(attempts), 3, "more attempts than max_attempts")
        # No dead end: a wrong code costs a try, the app's code gets in.
        reply = self.wire("Complete", {"twoFactorId": two_factor_id, "code": "000000"})
        self.assertEqual(error_of(reply), "InvalidCode", reply)
        self.assertEqual(self.status(user)["failures"], 1)
        reply = self.wire("Complete", {"twoFactorId": two_factor_id,
                                       "code": totp(secret, None, 1)})
        self.assertIsNone(error_of(reply), reply)
        # And a recovery code, still during the outage.
        two_factor_id, _ = self.assertNotTexted(user, 503)
        reply = self.wire("Complete", {"twoFactorId": two_factor_id, "code": recovery[0]})
        self.assertIsNone(error_of(reply), reply)
        # The connection drops once the request went out: Twilio may have the text, so it is
        # not sent again; the challenge stays open and says the text may be late.
        self.h.reset_endpoint()
        self.h.behave(close=True)
        reply = self.wire("Begin", {"user": user})
        self.assertIsNone(error_of(reply), reply)
        self.assertIs(reply["parameters"].get("textMayBeLate"), True, reply)
        # libcurl itself repeats a request at once when a kept-alive connection closes without
        # an answer (it takes it for a stale one); the daemon adds no attempt of its own.
        self.assertIn(len(self.texts()), (1, 2), self.texts())
        print(f"\noutage: text not sent after {took:.1f} s and {len(attempts)} attempts")
        # Twilio back: the same user logs in.
        self.h.reset_endpoint()
        two_factor_id, code = self.login(user)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", code)

    def test_authenticator_users_are_not_affected(self):
        user = self.h.create_user()
        secret = self.enroll_app(user)
        self.h.behave(status=503)
        reply = self.wire("Begin", {"user": user})
        self.assertIsNone(error_of(reply), reply)
        for offset in (1, 0, -1):  # the enable step is used; one of its neighbours is not
            answer = self.wire("Complete", {"twoFactorId": reply["parameters"]["twoFactorId"],
                                            "code": totp(secret, None, offset)})
            if error_of(answer) is None:
                break
        self.assertIsNone(error_of(answer), answer)

    def test_a_slow_text_stalls_no_other_login(self):
        texted = self.h.create_user()
        app = self.h.create_user()
        self.enable_texted_quietly(texted, "+15555550171")
        secret = self.enroll_app(app)
        self.h.behave(delay_ms=2500, times=1)
        with connect_as(self.h.socket_path) as slow:
            slow.sendall(frame({"method": "io.twofactor.Begin",
                                "parameters": {"user": texted}}))
            time.sleep(0.2)  # the text is on its way, held up by the endpoint
            started = time.monotonic()
            with connect_as(self.h.socket_path) as s:
                reply = call(s, "Begin", {"user": app})
                self.assertIsNone(error_of(reply), reply)
                reply = call(s, "Complete", {"twoFactorId": reply["parameters"]["twoFactorId"],
                                             "code": totp(secret, None, 1)})
            fast = time.monotonic() - started
            self.assertIsNotNone(reply)
            self.assertLess(fast, 1.0, "another login waited for the slow text")
            slow_reply = read_message(slow, timeout=DEADLINE + 5)
        self.assertIsNone(error_of(slow_reply), slow_reply)
        print(f"\nslow Twilio: another login answered in {fast * 1000:.0f} ms meanwhile")


if __name__ == "__main__":
    main()
