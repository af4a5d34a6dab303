# SPDX-License-Identifier: BSD-2-Clause
"""Logs and replies: with [daemon] debug = yes and the PAM module's `debug`, a full run
(self-service and root enrollment, texted and app logins, wrong codes, resends, refused texts,
a lock, unlock, disable) leaves no secret, code, auth token or full phone number in the
daemon's log, the module's log or anything the user is shown; every reply masks the number
(SIM swap: the system never tells anyone the full number to port)."""

import os
import socket
import time

from security_support import (LIBERAL_LIMITS, SecurityTestCase, closed_by_peer, error_of, main,
                              merged, require_root, totp, wrong_code)

PHONE = "+14155550123"
MASKED = "***-***-0123"
NUMBER_FORMS = (PHONE, PHONE[1:], PHONE[2:], "415-555-0123", "(415) 555-0123")


@require_root
class NothingSecretIsLoggedTest(SecurityTestCase):
    # debug = yes comes from the harness; a short idle timeout makes the daemon log at debug.
    config = merged(LIBERAL_LIMITS, {"daemon": {"debug": "yes", "idle_timeout": 2},
                                     "lockout": {"failures": 4}})

    def setUp(self):
        self.secrets = []  # everything that must never be logged
        self.replies = []  # every reply the daemon gave, to check the masking

    def keep(self, *values):
        self.secrets.extend(v for v in values if v)

    def wire_kept(self, method, parameters=None, **kw):
        reply = self.wire(method, parameters, **kw)
        self.replies.append((method, reply))
        return reply

    def new_secret_kept(self, **kw):
        reply = self.ok_json("secret", **kw)
        self.keep(reply["secret"], reply["secretBase32Encoded"])
        return reply["secret"]

    def texted_code(self, before):
        code = self.code_in(self.next_text(before))
        self.keep(code)
        return code

    def run_everything(self):
        """Drives every path that handles a secret, a code or the number."""
        # Self-service enrollment by a local user, over the raw protocol.
        user = self.h.create_user()
        secret = self.new_secret_kept(as_user=user)
        before = len(self.texts())
        reply = self.wire_kept("SendCode", {"mobilePhone": "415-555-0123", "secret": secret},
                               as_user=user)
        self.assertIsNone(error_of(reply), reply)
        code = self.texted_code(before)
        reply = self.wire_kept("Enable", {"user": user, "secret": secret, "code": code,
                                          "delivery": "TextMessage", "mobilePhone": PHONE},
                               as_user=user)
        self.assertIsNone(error_of(reply), reply)

        # A texted login with a wrong code and a resend; status.
        before = len(self.texts())
        reply = self.wire_kept("Begin", {"user": user, "ipAddress": "198.51.100.9"}, as_user=user)
        two_factor_id = reply["parameters"]["twoFactorId"]
        code = self.texted_code(before)
        self.keep(*(totp(secret, None, k) for k in (-1, 0, 1)))
        self.wire_kept("Complete", {"twoFactorId": two_factor_id, "code": wrong_code(code)})
        self.wire_kept("SendCode", {"twoFactorId": two_factor_id}, as_user=user)
        self.texted_code(before + 1)
        reply = self.wire_kept("Complete", {"twoFactorId": two_factor_id, "code": code},
                               as_user=user)
        self.assertIsNone(error_of(reply), reply)
        self.wire_kept("Status", {"user": user}, as_user=user)

        # An authenticator-app user, enrolled by root.
        app_user = self.h.create_user()
        app_secret = self.new_secret_kept()
        self.keep(*(totp(app_secret, None, k) for k in (-1, 0, 1, 2)))
        self.wire_kept("Enable", {"user": app_user, "secret": app_secret,
                                  "code": totp(app_secret), "delivery": "None"})
        reply = self.wire_kept("Begin", {"user": app_user})
        self.wire_kept("Complete", {"twoFactorId": reply["parameters"]["twoFactorId"],
                                    "code": totp(app_secret, None, 1)})

        # Twilio refusing a text with a message that quotes the number, as the real one does.
        refusal = {"status": 400, "code": 21610,
                   "message": f"Attempt to send to unsubscribed recipient {PHONE}", "times": 2}
        self.h.behave(**refusal)
        try:
            reply = self.wire_kept("Begin", {"user": user})
            self.assertIsNone(error_of(reply), reply)  # no dead end: the challenge stays open
            self.assertEqual(reply["parameters"]["textNotSent"]["error"],
                             "io.twofactor.DeliveryFailed", reply)
            reply = self.wire_kept("SendCode", {"mobilePhone": PHONE,
                                                "secret": self.new_secret_kept()})
            self.assertEqual(error_of(reply), "DeliveryFailed", reply)
        finally:
            self.h.reset_endpoint()

        # Wrong codes until the account locks, then root unlocks it and disables it.
        before = len(self.texts())
        reply = self.wire_kept("Begin", {"user": user})
        two_factor_id = reply["parameters"]["twoFactorId"]
        code = self.texted_code(before)
        for _ in range(4):  # [lockout] failures = 4
            reply = self.wire_kept("Complete", {"twoFactorId": two_factor_id,
                                                "code": wrong_code(code)})
        self.assertEqual(error_of(reply), "Locked", reply)
        self.wire_kept("Unlock", {"user": user})
        self.wire_kept("Disable", {"user": user})
        return user, app_user

    def pam_login(self, user):
        """A login through libpam with the module's `debug` on: a wrong code, a resend, the
        right code. Returns what the module logged and what the user was shown."""
        from pam_support import Login
        before = len(self.texts())
        login = Login(self.h.dir, user, self.h.socket_path, "debug")
        self.addCleanup(login.kill)
        login.prompt()
        code = self.texted_code(before)
        login.answer(wrong_code(code))
        login.prompt()
        login.answer("resend")
        login.prompt()
        code = self.texted_code(before + 1)
        login.answer(code)
        result = login.finish()
        self.assertEqual(result.name, "PAM_SUCCESS", result)
        return result

    def pam_login_twilio_refuses(self, user):
        """A login through libpam, `debug` on, while Twilio refuses the text quoting the number."""
        from pam_support import Login
        self.h.behave(status=400, code=21610, times=1,
                      message=f"Attempt to send to unsubscribed recipient {PHONE}")
        try:
            login = Login(self.h.dir, user, self.h.socket_path, "debug")
            self.addCleanup(login.kill)
            result = login.finish()
        finally:
            self.h.reset_endpoint()
        self.assertNotEqual(result.name, "PAM_SUCCESS", result)
        self.assertIn("21610", result.log)
        return result

    def test_a_full_run_logs_nothing_secret(self):
        self.keep(self.h.auth_token)
        user, app_user = self.run_everything()

        # The PAM module with debug, on a texted user.
        pam_user = self.h.create_user()
        secret = self.new_secret_kept()
        self.ok("enable", pam_user, "--secret", secret, "--code", totp(secret), "--phone", PHONE)
        self.keep(*(totp(secret, None, k) for k in (-1, 0, 1)))
        pam = refused = None
        if os.environ.get("PAM_DRIVER") and os.environ.get("PAM_MODULE"):
            pam = self.pam_login(pam_user)
            refused = self.pam_login_twilio_refuses(pam_user)

        # An idle connection: the daemon says so at debug level (proof the level is on).
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.h.socket_path)
            self.assertTrue(closed_by_peer(s, 6))
        time.sleep(0.2)

        log = self.h.daemon_log()
        outputs = {"the daemon's log": log}
        if pam is not None:
            self.assertIn("log: 7 ", pam.log, "the module logged nothing at debug (priority 7)")
            outputs["the PAM module's log"] = pam.log
            outputs["what the PAM user saw"] = pam.transcript
            outputs["the PAM module's log, Twilio refusing"] = refused.log
            outputs["what the PAM user saw, Twilio refusing"] = refused.transcript
        # Proof that the logs hold the events: each would fail if logging stopped.
        for expected in (f"user={user}", f"user={app_user}", "debug: ", MASKED,
                         "account locked", "account unlocked", "two-factor disabled",
                         "text message not delivered", "twilio_code=21610"):
            self.assertIn(expected, log)
        self.assertGreater(len(self.secrets), 20)
        for where, text in outputs.items():
            for needle in [*self.secrets, *NUMBER_FORMS]:
                self.assertNotIn(needle, text, f"{needle!r} appears in {where}")
        print(f"\nlogs: {len(self.secrets)} secrets, codes and tokens and {len(NUMBER_FORMS)} "
              f"forms of the number searched in {len(log)} bytes of daemon log"
              + (f" and {len(pam.log)} bytes of PAM log" if pam else " (no PAM driver)"))

        # Replies: the number is masked wherever one is given; Twilio's quote of it too.
        for method, reply in self.replies:
            text = str(reply)
            for form in NUMBER_FORMS:
                self.assertNotIn(form, text, f"{method} reply shows the number: {reply}")
            phone = (reply or {}).get("parameters", {}).get("mobilePhone")
            if phone is not None:
                self.assertEqual(phone, MASKED, (method, reply))


if __name__ == "__main__":
    main()
