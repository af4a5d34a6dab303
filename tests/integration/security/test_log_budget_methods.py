# SPDX-License-Identifier: BSD-2-Clause
"""Every method of the protocol, called over and over by a local user, writes no more log lines
than that user's budget ([daemon] log_lines_per_uid per minute) and the two lines saying that
the rest was held back.

Each method is walked by a user of its own (its own budget), on one connection, ROUNDS times
in a way that writes a line each time if anything does: forgetting trusts, texting a setup code,
enabling over and over, disabling with a recovery code, beginning texted logins, resending,
wrong and recovery codes at the prompt, replacing recovery codes, calls; and, with Twilio
Verify, the verifications started, sent again, placed as calls and checked, whose lines are
written when Twilio answers. Every line the daemon writes during a walk is counted: nothing else
happens meanwhile."""

import time

from harness import SANITIZED
from security_support import (LIBERAL_LIMITS, PHONE, SecurityTestCase, call, connect_as,
                              error_of, harness, ids_of, main, merged, require_root, totp,
                              wrong_code)

BUDGET = 5  # [daemon] log_lines_per_uid
ROUNDS = 60 if SANITIZED else 200  # calls per walk: 12 and 40 times the budget
WINDOW = 60  # seconds: the budget's minute
VERIFY_SID = "VA" + "0123456789abcdef" * 2


@require_root
class EveryMethodLogBudgetTest(SecurityTestCase):
    config = merged(LIBERAL_LIMITS, {"daemon": {"log_lines_per_uid": BUDGET},
                                     "login": {"challenges_per_minute": 10000, "resends": 10},
                                     "voice": {"enabled": "yes"}})

    # -- one walk -------------------------------------------------------------------------------

    def walk(self, method, setup, step):
        """A new user; `setup(user)` runs as root; then `step(session, i)` ROUNDS times as the
        user. Asserts the lines written meanwhile stay within the budget; returns their count."""
        user = self.h.create_user()
        uid, gid = ids_of(user)
        context = setup(user)
        sock = connect_as(self.h.socket_path, uid, gid)
        session = Session(self, sock, user, context)
        offset = len(self.h.daemon_log())
        started = time.monotonic()
        try:
            for i in range(ROUNDS):
                step(session, i)
        finally:
            sock.close()
        elapsed = time.monotonic() - started
        time.sleep(0.3)  # lines of the last answers' callbacks
        log = self.h.daemon_log()[offset:]
        # Another walk's user may have its "held back" summary written now: not this one's.
        lines = [line for line in log.splitlines()
                 if "caused by uid" not in line or f"caused by uid {uid}" in line]
        summaries = [line for line in lines if f"caused by uid {uid}" in line]
        windows = 1 + int(elapsed // WINDOW)
        print(f"\n{method}: {ROUNDS} calls by uid {uid} in {elapsed:.1f} s wrote {len(lines)} "
              f"lines ({len(summaries)} of them about holding back)")
        self.assertLessEqual(len(lines) - len(summaries), BUDGET * windows,
                             f"{method}: {len(lines)} lines:\n" + "\n".join(lines[:40]))
        self.assertLessEqual(len(summaries), 2 * windows, "\n".join(summaries))
        self.assertServes()
        return len(lines)

    def test_every_method_stays_within_the_budget(self):
        walks = {
            "GenerateSecret": (no_setup, lambda s, i: s.ok("GenerateSecret")),
            "SendCode (setup)": (no_setup, send_setup_code),
            "SendCode (resend)": (self.texted, resend),
            "SendCode (call)": (self.texted, call_instead),
            "Enable": (no_setup, enable_over_and_over),
            "Disable": (no_setup, enable_then_disable),
            "Status": (no_setup, lambda s, i: s.ok("Status", {"user": s.user})),
            "Unlock": (no_setup, lambda s, i: s.refused("Unlock", {"user": s.user})),
            "Forget": (no_setup, lambda s, i: s.ok("Forget", {"user": s.user})),
            "Begin": (self.texted, lambda s, i: s.ok("Begin", {"user": s.user})),
            "Complete": (self.app_with_recovery_codes, complete),
            "RegenerateRecoveryCodes": (self.app_with_recovery_codes, regenerate),
        }
        for method, (setup, step) in walks.items():
            with self.subTest(method=method):
                self.walk(method, setup, step)

    # -- root's set-ups -------------------------------------------------------------------------

    def texted(self, user):
        self.enable_texted_quietly(user)
        return {}

    def app_with_recovery_codes(self, user):
        secret = self.new_secret()
        reply = self.wire("Enable", {"user": user, "secret": secret, "code": totp(secret),
                                     "delivery": "None"})
        self.assertIsNone(error_of(reply), reply)
        return {"codes": list(reply["parameters"]["recoveryCodes"])}

    def texted_with_recovery_codes(self, user):
        secret = self.new_secret()
        reply = self.wire("Enable", {"user": user, "secret": secret, "code": totp(secret),
                                     "mobilePhone": PHONE})
        self.assertIsNone(error_of(reply), reply)
        return {"codes": list(reply["parameters"]["recoveryCodes"])}


@require_root
class VerifyLogBudgetTest(EveryMethodLogBudgetTest):
    """The methods whose lines come from Twilio Verify's answers, later, on another thread."""

    config = merged(EveryMethodLogBudgetTest.config,
                    {"twilio": {"verify_service_sid": VERIFY_SID,
                                "verify_api_url": lambda h: h.endpoint_url}})

    @classmethod
    def setUpClass(cls):
        cls.h = harness.Harness(config=merged(LIBERAL_LIMITS, cls.config),
                                endpoint_args=["--verify-service-sid", VERIFY_SID])
        cls.h.__enter__()
        cls.addClassCleanup(cls.h.stop)

    def test_every_method_stays_within_the_budget(self):
        walks = {
            "Begin (Verify)": (self.texted, lambda s, i: s.ok("Begin", {"user": s.user})),
            "SendCode (Verify resend)": (self.texted, resend),
            "SendCode (Verify call)": (self.texted, call_instead),
            "Complete (VerificationCheck)": (self.texted_with_recovery_codes, complete),
        }
        for method, (setup, step) in walks.items():
            with self.subTest(method=method):
                self.walk(method, setup, step)


class Session:
    """The walking user's connection and what its steps keep between rounds."""

    def __init__(self, test, sock, user, context):
        self.test = test
        self.sock = sock
        self.user = user
        self.state = dict(context)

    def call(self, method, parameters=None):
        reply = call(self.sock, method, parameters)
        self.test.assertIsNotNone(reply, f"{method}: the daemon closed the connection")
        return reply

    def ok(self, method, parameters=None):
        reply = self.call(method, parameters)
        self.test.assertIsNone(error_of(reply), f"{method}: {reply}")
        return reply["parameters"]

    def refused(self, method, parameters=None):
        reply = self.call(method, parameters)
        self.test.assertIsNotNone(error_of(reply), f"{method}: {reply}")
        return error_of(reply)

    def secret(self):
        return self.ok("GenerateSecret")["secret"]


def no_setup(user):
    return {}


def send_setup_code(s, i):
    if "secret" not in s.state:
        s.state["secret"] = s.secret()
    s.ok("SendCode", {"mobilePhone": PHONE, "secret": s.state["secret"]})


def resend(s, i, delivery=None):
    """Resends until the challenge's resends are used up (or Twilio refuses more), then begins
    another."""
    if "id" in s.state:
        parameters = {"twoFactorId": s.state["id"]}
        if delivery is not None:
            parameters["delivery"] = delivery
        reply = s.call("SendCode", parameters)
        if error_of(reply) is None:
            return
        s.test.assertIn(error_of(reply), ("RateLimited", "DeliveryFailed"), reply)
    s.state["id"] = s.ok("Begin", {"user": s.user})["twoFactorId"]


def call_instead(s, i):
    resend(s, i, delivery="Call")


def enable(s, current_code=None):
    secret = s.secret()
    parameters = {"user": s.user, "secret": secret, "code": totp(secret), "delivery": "None"}
    if current_code is not None:
        parameters["currentCode"] = current_code
    s.state["codes"] = list(s.ok("Enable", parameters)["recoveryCodes"])


def enable_over_and_over(s, i):
    """Enables anew, proving the factor enabled before with one of its recovery codes."""
    enable(s, s.state["codes"].pop() if "codes" in s.state else None)


def enable_then_disable(s, i):
    if i % 2 == 0:
        enable(s)
    else:
        s.ok("Disable", {"user": s.user, "code": s.state["codes"].pop()})


def complete(s, i):
    """Wrong codes at the prompt, and every fifth answer a recovery code (which resets the
    failures); once the recovery codes are used up, wrong codes until the account locks."""
    if "id" not in s.state:
        reply = s.call("Begin", {"user": s.user})
        if error_of(reply) is not None:  # locked
            return
        s.state["id"] = reply["parameters"]["twoFactorId"]
        s.state["wrong"] = 0
    if s.state["wrong"] == 4 and s.state["codes"]:
        s.ok("Complete", {"twoFactorId": s.state["id"], "code": s.state["codes"].pop()})
        del s.state["id"]
        return
    reply = s.call("Complete", {"twoFactorId": s.state["id"], "code": wrong_code()})
    s.state["wrong"] += 1
    if error_of(reply) in ("NotFound", "Locked") or s.state["wrong"] >= 5:
        s.state.pop("id", None)


def regenerate(s, i):
    reply = s.ok("RegenerateRecoveryCodes", {"user": s.user, "code": s.state["codes"].pop()})
    s.state["codes"] = list(reply["recoveryCodes"])


if __name__ == "__main__":
    main()
