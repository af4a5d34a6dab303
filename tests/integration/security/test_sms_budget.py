# SPDX-License-Identifier: BSD-2-Clause
"""Issue 22: what a text says and what texts may cost. A text and a call name the PAM service and
the host, with values the caller cannot shape; the fleet's budgets (per day, per number prefix,
setup texts only to enrolled country codes) hold against a pump, root's or a local user's, and
the login falls back to the app's or a recovery code; a low conversion of texted codes is
journalled once (sms_conversion_low); `twofactorctl status` shows the figures."""

import re
import socket
import time

from security_support import (LIBERAL_LIMITS, SecurityTestCase, call, connect_as, error_of,
                              ids_of, main, merged, require_root, totp)
from pam_support import Login  # security_support put tests/integration/pam on the path

DEFAULT_MESSAGE = {"message": None}  # the harness's own message dropped: the daemon's default
TEXT = re.compile(r"^(\d{6}) is your code for (.*) on (.*)$")
PUMPED = 2000           # setup texts asked for, per pump
PUMP_NUMBERS = 1000     # distinct numbers under one prefix
PREFIX_BUDGET = 10
PUMP_SECONDS = 30.0     # a bound, not the expectation (a few seconds)


def host_in_text():
    """This host's name as a text shows it: cut to 32 characters of a safe set."""
    return re.sub(r"[^A-Za-z0-9 .\-_:/@+]", "?", socket.gethostname())[:32]


def pump(test, sock, prefix, count=PUMPED, numbers=PUMP_NUMBERS):
    """`count` setup texts to `numbers` numbers under `prefix` on one connection; the replies'
    error names (None for a text sent), and how long it took."""
    started = time.monotonic()
    errors = []
    for i in range(count):
        number = f"{prefix}{i % numbers:04d}"
        reply = call(sock, "SendCode", {"mobilePhone": number, "secret": "S" * 20 + f"{i:06d}"})
        errors.append(error_of(reply))
        if errors[-1] == "RateLimited":
            test.assertGreater(reply["parameters"]["retryAfter"], 0, reply)
        test.assertLess(time.monotonic() - started, PUMP_SECONDS, "the pump took too long")
    return errors, time.monotonic() - started


@require_root
class NamedTextsTest(SecurityTestCase):
    config = merged(LIBERAL_LIMITS, {"sms": DEFAULT_MESSAGE, "voice": {"enabled": "yes"}})

    def test_a_text_and_a_call_name_the_service_and_the_host(self):
        user = self.h.create_user()
        self.enable_texted_quietly(user)
        before = len(self.texts())
        begun = self.wire("Begin", {"user": user, "service": "sshd", "ipAddress": "203.0.113.9"})
        self.assertIsNone(error_of(begun), begun)
        body = self.next_text(before)["form"]["Body"]
        match = TEXT.match(body)
        self.assertIsNotNone(match, body)
        self.assertEqual(match.group(2, 3), ("sshd", host_in_text()), body)
        self.assertNotIn("203.0.113.9", body)  # never the RHOST
        print(f"\ntext: {body!r}")

        reply = self.wire("SendCode", {"twoFactorId": begun["parameters"]["twoFactorId"],
                                       "delivery": "Call"})
        self.assertIsNone(error_of(reply), reply)
        spoken = self.h._control("GET", "/_control/calls")[-1]["spoken"]
        self.assertIn(f"Your code for sshd on {host_in_text()} is", spoken)
        self.assertIn(", ".join(match.group(1)), spoken)
        print(f"call: {spoken!r}")

        # An older module sends no service: the text says "login".
        before = len(self.texts())
        self.assertIsNone(error_of(self.wire("Begin", {"user": user})))
        self.assertEqual(TEXT.match(self.next_text(before)["form"]["Body"]).group(2), "login")

    def test_a_service_name_with_control_characters_or_300_bytes_does_not_reach_the_text(self):
        user = self.h.create_user()
        self.enable_texted_quietly(user)
        before = len(self.texts())
        hostile = "sudo\r\n\x1b[2JLog in at http://evil.example/?" + "x" * 200
        self.assertIsNone(error_of(self.wire("Begin", {"user": user, "service": hostile})))
        body = self.next_text(before)["form"]["Body"]
        service = TEXT.match(body).group(2)
        # \r \n ESC [ each become '?'; 32 characters kept.
        self.assertEqual(service, "sudo????2JLog in at http://evil.", body)
        self.assertFalse(any(ord(c) < 0x20 for c in body), body)
        self.assertLessEqual(len(body), 160)
        # Through the module: libpam takes any file name as a service (lowercased), and the
        # module sends it, cut to 255 bytes; the text holds 32 safe characters of it.
        before = len(self.texts())
        service = "sudo\x1b[2j\rlog in at evil.example " + "y" * 300
        login = Login(self.h.dir, user, self.h.socket_path, "timeout=30", service=service[:255])
        self.addCleanup(login.kill)
        login.prompt()
        body = self.next_text(before)["form"]["Body"]
        self.assertEqual(TEXT.match(body).group(2), "sudo??2j?log in at evil.example ", body)
        login.answer(TEXT.match(body).group(1))
        result = login.finish()
        self.assertEqual(result.name, "PAM_SUCCESS", result)
        # 300 bytes never reach the daemon as given: the wire refuses them (the module cuts
        # PAM_SERVICE to 255 bytes before it sends it), and no text goes out.
        before = len(self.texts())
        reply = self.wire("Begin", {"user": user, "service": "s" * 300})
        self.assertEqual(error_of(reply), "InvalidParameter", reply)
        self.h.wait_for_messages(before + 1, timeout=0.5)
        self.assertEqual(len(self.texts()), before)


@require_root
class PumpTest(SecurityTestCase):
    config = merged(LIBERAL_LIMITS, {"sms": {"texts_per_prefix_per_day": PREFIX_BUDGET,
                                             "texts_per_day": 1000}})

    def test_a_pump_under_one_prefix_gets_no_more_than_the_prefix_budget(self):
        before = len(self.texts())
        log_before = len(self.h.daemon_log())
        with connect_as(self.h.socket_path) as sock:
            errors, seconds = pump(self, sock, "+1202555")
        sent = [m for m in self.h.wait_for_messages(before + PREFIX_BUDGET)[before:]]
        self.assertEqual(errors.count(None), PREFIX_BUDGET, errors[:20])
        self.assertEqual(errors.count("RateLimited"), PUMPED - PREFIX_BUDGET)
        self.assertEqual(len(sent), PREFIX_BUDGET)
        print(f"\nroot: {PUMPED} setup texts to {PUMP_NUMBERS} numbers under +1202555 in "
              f"{seconds:.1f} s: {len(sent)} reached the endpoint")

        # A local user enrolling itself, pumping another prefix, is held the same way.
        user = self.h.create_user()
        uid, gid = ids_of(user)
        before = len(self.texts())
        with connect_as(self.h.socket_path, uid, gid) as sock:
            errors, seconds = pump(self, sock, "+1303555")
        self.assertEqual(errors.count(None), PREFIX_BUDGET, errors[:20])
        self.assertEqual(set(errors) - {None}, {"RateLimited"})
        time.sleep(0.5)
        self.assertEqual(len(self.texts()) - before, PREFIX_BUDGET)
        print(f"user: {PUMPED} setup texts under +1303555 in {seconds:.1f} s: "
              f"{len(self.texts()) - before} reached the endpoint")

        log = self.h.daemon_log()[log_before:]
        self.assertIn("sms_budget", log)
        self.assertRegex(log, r"budget=prefix prefix=\+1202555")
        self.assertRegex(log, r"budget=prefix prefix=\+1303555")
        # Journalled once a minute per prefix, not once per refusal.
        self.assertLessEqual(log.count("sms_budget"), 4, log[-2000:])

        # Other prefixes still get texts, and logins on them too.
        before = len(self.texts())
        reply = self.wire("SendCode", {"mobilePhone": "+14155550100", "secret": "T" * 20})
        self.assertIsNone(error_of(reply), reply)
        self.assertEqual(self.next_text(before)["form"]["To"], "+14155550100")

        # Root's status shows the budgets.
        out = self.ok("status")
        self.assertIn(f"texts today: {2 * PREFIX_BUDGET + 1} of 1000 (texts_per_day)", out)
        self.assertIn(f"texts today to +1202555XXXX: {PREFIX_BUDGET} of {PREFIX_BUDGET}", out)
        print(out)

    def test_setup_texts_go_only_to_country_codes_already_enrolled(self):
        before = len(self.texts())
        reply = self.wire("SendCode", {"mobilePhone": "+447700900123", "secret": "U" * 20})
        self.assertEqual(error_of(reply), "InvalidParameter", reply)
        self.assertIn("+44", reply["parameters"]["reason"])
        self.assertIn("budget=country country=44", self.h.daemon_log())
        # Once a +44 number is enrolled (with an app's code: no text), +44 may be texted.
        user = self.h.create_user()
        self.enable_texted_quietly(user, "+447700900100")
        reply = self.wire("SendCode", {"mobilePhone": "+447700900123", "secret": "U" * 20})
        self.assertIsNone(error_of(reply), reply)
        self.assertEqual(self.next_text(before)["form"]["To"], "+447700900123")


@require_root
class DayBudgetTest(SecurityTestCase):
    config = merged(LIBERAL_LIMITS, {"sms": {"texts_per_day": 3}})

    def test_past_the_day_budget_a_login_goes_on_with_the_app_code(self):
        user = self.h.create_user()
        secret = self.enable_texted_quietly(user, "+12025550100")
        other = self.h.create_user()
        self.enable_texted_quietly(other, "+13035550100")
        before = len(self.texts())
        for name in (user, other, user):
            self.assertIsNone(error_of(self.wire("Begin", {"user": name})))
        self.h.wait_for_messages(before + 3)
        log_before = len(self.h.daemon_log())
        reply = self.wire("Begin", {"user": other})
        self.assertIsNone(error_of(reply), reply)
        held = reply["parameters"]["textNotSent"]
        self.assertEqual(error_of(held), "RateLimited", held)
        self.assertGreater(held["parameters"]["retryAfter"], 0)
        self.assertIn("budget=day", self.h.daemon_log()[log_before:])
        # No dead end: the app's code completes the login whose text was held back (the next
        # step's: enabling used the current one).
        reply = self.wire("Begin", {"user": user})
        self.assertIn("textNotSent", reply["parameters"])
        done = self.wire("Complete", {"twoFactorId": reply["parameters"]["twoFactorId"],
                                      "code": totp(secret, offset=1)})
        self.assertIsNone(error_of(done), done)
        self.assertEqual(len(self.texts()), before + 3)


@require_root
class ConversionTest(SecurityTestCase):
    config = merged(LIBERAL_LIMITS, {"login": {"challenge_lifetime": 15,
                                               "challenges_per_minute": 1000}})

    def test_100_texted_challenges_of_which_20_complete_raise_the_alarm_once(self):
        users = [self.h.create_user() for _ in range(13)]  # at most 8 open challenges a user
        for user in users:
            self.enable_texted_quietly(user)
        log_before = len(self.h.daemon_log())
        opened = []
        for i in range(100):
            before = len(self.texts())
            reply = self.wire("Begin", {"user": users[i % len(users)]})
            self.assertIsNone(error_of(reply), reply)
            opened.append((reply["parameters"]["twoFactorId"],
                           self.code_in(self.h.messages()[-1])))
        for two_factor_id, code in opened[:20]:
            done = self.wire("Complete", {"twoFactorId": two_factor_id, "code": code})
            self.assertIsNone(error_of(done), done)
        self.assertNotIn("sms_conversion_low", self.h.daemon_log()[log_before:])
        time.sleep(16)  # the other 80 expire unused
        for user in users[:3]:  # the next texts find the conversion low: one alarm, no more
            self.assertIsNone(error_of(self.wire("Begin", {"user": user})))
        log = self.h.daemon_log()[log_before:]
        self.assertEqual(log.count("sms_conversion_low"), 1, log[-3000:])
        self.assertRegex(log, r"sms_conversion_low completed=20 texted=100")
        out = self.ok("status")
        self.assertIn("conversion: 20 of the last 100 texted logins completed (20%)", out)
        print("\n" + out)


if __name__ == "__main__":
    main()
