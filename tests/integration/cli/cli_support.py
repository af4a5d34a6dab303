# SPDX-License-Identifier: BSD-2-Clause
"""What the CLI tests share: a harness per test class, and the set-up flows they build on."""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import harness  # noqa: E402  (the path above first)
from harness import Harness, totp, wait_until  # noqa: E402,F401

PHONE = "+15555555555"
MASKED = "***-***-5555"
CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")

# Generous text limits: the tests send many texts quickly; limits get their own tests.
LIBERAL_LIMITS = {"sms": {"user_texts_per_hour": 1000, "texts_per_minute": 1000,
                          "enroll_texts_per_hour": 1000}}


def merged(*configs):
    result = {}
    for config in configs:
        for section, keys in config.items():
            result.setdefault(section, {}).update(keys)
    return result


class CliTestCase(unittest.TestCase):
    """One daemon and endpoint for the whole class; each test works on its own new users."""

    config = {}

    @classmethod
    def setUpClass(cls):
        cls.h = Harness(config=merged(LIBERAL_LIMITS, cls.config))
        cls.h.__enter__()
        cls.addClassCleanup(cls.h.stop)

    def run(self, result=None):
        # On failure the daemon's log says what the daemon thought; print it with the failure.
        failures_before = len(result.failures) + len(result.errors) if result else 0
        outcome = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures_before:
            print(f"\n--- twofactord log ({self.id()}) ---\n{self.h.daemon_log()[-6000:]}",
                  file=sys.stderr)
        return outcome

    # -- assertions about twofactorctl runs ---------------------------------------------------

    def ok(self, *args, **kw):
        """Runs twofactorctl and asserts it exited 0; returns stdout."""
        rc, out, err = self.h.ctl(*args, **kw)
        self.assertEqual(rc, 0, f"twofactorctl {' '.join(args)} failed: {out!r} {err!r}")
        return out

    def ok_json(self, *args, **kw):
        rc, reply, err = self.h.ctl_json(*args, **kw)
        self.assertEqual(rc, 0, f"twofactorctl --json {' '.join(args)}: {reply!r} {err!r}")
        self.assertIsInstance(reply, dict)
        return reply

    def refused(self, *args, **kw):
        """Asserts exit status 1 and a sentence on stderr; returns stderr."""
        rc, out, err = self.h.ctl(*args, **kw)
        self.assertEqual(rc, 1, f"twofactorctl {' '.join(args)}: expected refusal, got {rc}: "
                                f"{out!r} {err!r}")
        self.assertTrue(err.startswith("twofactorctl: ") and len(err.strip()) > 20, err)
        return err

    def refused_json(self, *args, error, **kw):
        """Asserts exit status 1 and {"error": "io.twofactor.<error>", "parameters": {...}}."""
        rc, reply, err = self.h.ctl_json(*args, **kw)
        self.assertEqual(rc, 1, f"{args}: {reply!r} {err!r}")
        self.assertEqual(reply.get("error"), "io.twofactor." + error, reply)
        self.assertIsInstance(reply.get("parameters"), dict)
        self.assertTrue(reply["parameters"].get("message"), reply)
        return reply["parameters"]

    def status(self, user, **kw):
        return self.ok_json("status", user, **kw)

    # -- the endpoint -------------------------------------------------------------------------

    def texts(self):
        return self.h.messages()

    def next_text(self, count_before, timeout=10.0):
        """The message that arrives after `count_before` messages; asserts exactly one came."""
        messages = self.h.wait_for_messages(count_before + 1, timeout)
        self.assertEqual(len(messages), count_before + 1,
                         f"expected one new text, the endpoint holds {messages!r}")
        return messages[-1]

    def code_in(self, message):
        body = message["form"].get("Body", "")
        codes = CODE.findall(body)
        self.assertEqual(len(codes), 1, f"expected one 6-digit code in {body!r}")
        return codes[0]

    # -- set-up flows -------------------------------------------------------------------------

    def new_secret(self, **kw):
        return self.ok_json("secret", **kw)["secret"]

    def enroll_texted(self, user, phone=PHONE, **kw):
        """Root's set-up: secret, send, enable with the texted code. Returns the secret."""
        secret = self.new_secret(**kw)
        before = len(self.texts())
        self.ok("send", "--phone", phone, "--secret", secret, **kw)
        code = self.code_in(self.next_text(before))
        self.ok("enable", user, "--secret", secret, "--code", code, "--phone", phone, **kw)
        return secret

    def enroll_app(self, user, **kw):
        """Set-up for an authenticator app (delivery None). Returns the secret."""
        secret = self.new_secret(**kw)
        self.ok("enable", user, "--delivery", "None", "--secret", secret, "--code", totp(secret),
                **kw)
        return secret

    def login(self, user, **kw):
        """Begins a challenge; returns (twoFactorId, the texted code or None)."""
        before = len(self.texts())
        reply = self.ok_json("login", user, **kw)
        if reply.get("delivery") == "TextMessage":
            return reply["twoFactorId"], self.code_in(self.next_text(before))
        return reply["twoFactorId"], None


def wrong_code(*avoid):
    """A well-formed code that is none of `avoid`."""
    for candidate in ("000000", "111111", "222222", "333333"):
        if candidate not in avoid:
            return candidate
    raise AssertionError("unreachable")


def main():
    unittest.main(verbosity=2)
