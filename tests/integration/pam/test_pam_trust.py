# SPDX-License-Identifier: BSD-2-Clause
"""Trust: pam_twofactor.so with trust=SECONDS through real libpam against a real
twofactord. After a right code the same user, service and origin (PAM_RHOST, or the TTY) skip the
code; another origin or service, a failed code, a lock, `twofactorctl forget`, the end of the
trust and [trust] max_seconds each bring the code back, and a trust row written into the
database without the key is not honoured."""

import subprocess
import time
import unittest

from pam_support import RHOST, SERVICE, TTY, PamTestCase, main, wrong_code  # noqa: F401

TRUST = "trust=600"


class TrustTestCase(PamTestCase):

    def login_with_code(self, user, options=TRUST, **kw):
        """A login that is asked for the code and types the texted one; returns the Result."""
        before = len(self.h.messages())
        login = self.login(user, options, **kw)
        self.assertEqual(login.prompt(), "Verification code: ")
        login.answer(self.texted_code(before))
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertIn(": success (PAM_SUCCESS)", result.log)
        return result

    def trusted_login(self, user, options=TRUST, **kw):
        """A login that must pass on a trust: no prompt, no text. Returns the Result."""
        before = len(self.h.messages())
        result = self.login(user, options, **kw).finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertEqual(result.lines("prompt"), [], result)
        self.assertEqual(result.lines("info") + result.lines("error"), [], result)
        self.assertRegex(result.log, r": trusted \(PAM_SUCCESS\): trusted until \d+")
        self.assertEqual(len(self.h.messages()), before)  # nothing texted
        return result

    def trusts(self, user):
        rc, status, err = self.h.ctl_json("status", user)
        self.assertEqual(rc, 0, err)
        return status["trusts"]


class TrustTests(TrustTestCase):

    config = {"lockout": {"failures": 2}}

    def test_same_rhost_skips_the_text_and_another_does_not(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        self.login_with_code(user)
        self.trusted_login(user)
        self.trusted_login(user)
        # Another host: the code as always (and that login makes a trust of its own).
        self.login_with_code(user, rhost="198.51.100.99")
        trusts = self.trusts(user)
        self.assertEqual(sorted(t["origin"] for t in trusts), sorted([RHOST, "198.51.100.99"]))
        for t in trusts:
            self.assertEqual(t["service"], SERVICE)
            self.assertLessEqual(t["trustedUntil"] - t["createdAt"], 600)
            self.assertGreater(t["trustedUntil"], time.time())

    def test_another_service_asks_for_the_code(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        self.login_with_code(user)
        self.login_with_code(user, service="twofactor-test-other")
        self.trusted_login(user, service="twofactor-test-other")

    def test_the_tty_is_the_origin_without_an_rhost(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        self.login_with_code(user, rhost=None, tty="/dev/pts/9")
        self.trusted_login(user, rhost=None, tty="/dev/pts/9")
        self.login_with_code(user, rhost=None, tty="/dev/pts/10")
        self.assertIn("tty:/dev/pts/9", [t["origin"] for t in self.trusts(user)])

    def test_without_trust_option_the_code_is_asked(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        self.login_with_code(user)
        self.login_with_code(user, options="")

    def test_forget_ends_the_trust(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        self.login_with_code(user)
        self.trusted_login(user)
        rc, out, err = self.h.ctl("status", user)
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, rf"trusted: {SERVICE} from {RHOST} until \d{{4}}-\d\d-\d\d ")
        # The user may end their own trusts.
        rc, out, err = self.h.ctl("forget", user, as_user=user)
        self.assertEqual((rc, out), (0, f"{user}: 1 trust forgotten.\n"), err)
        self.assertEqual(self.trusts(user), [])
        rc, out, err = self.h.ctl("status", user)
        self.assertIn("trusted: none\n", out)
        self.login_with_code(user)
        # Root too, with --json.
        rc, reply, err = self.h.ctl_json("forget", user)
        self.assertEqual((rc, reply), (0, {"user": user, "forgotten": 1}), err)
        self.login_with_code(user)

    def test_trust_ends_when_it_expires(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        self.login_with_code(user, options="trust=4")
        made = time.monotonic()
        self.trusted_login(user, options="trust=4")
        # Bounded wait: the trust ends 4 s after the success (whole seconds, so up to 5 s).
        time.sleep(max(0.0, made + 5.5 - time.monotonic()))
        self.login_with_code(user, options="trust=4")

    def test_no_trust_after_a_failed_code(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user, TRUST + " tries=1")
        login.prompt()
        code = self.texted_code(before)
        login.answer(wrong_code(code))
        self.assertResult(login.finish(), "PAM_MAXTRIES")
        self.assertEqual(self.trusts(user), [])
        self.login_with_code(user)

    def test_no_trust_while_locked(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        self.login_with_code(user)
        # Wrong codes elsewhere lock the account ([lockout] failures = 2).
        for _ in range(2):
            login = self.login(user, "tries=1", rhost="198.51.100.66")
            login.prompt()
            login.answer("000000")
            login.finish()
        rc, status, err = self.h.ctl_json("status", user)
        self.assertTrue(status["locked"], status)
        before = len(self.h.messages())
        result = self.login(user, TRUST).finish()
        self.assertResult(result, "PAM_PERM_DENIED")
        self.assertEqual(result.lines("prompt"), [])
        self.assertEqual(len(self.h.messages()), before)
        self.ctl_ok("unlock", user)
        self.trusted_login(user)

    def test_a_trust_row_written_without_the_key_is_not_honoured(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        self.login_with_code(user)
        [genuine] = self.trusts(user)
        now = int(time.time())

        def sqlite(statement):
            result = subprocess.run(["sqlite3", "-cmd", ".timeout 5000", self.h.database_path,
                                     statement], capture_output=True, text=True, timeout=30)
            self.assertEqual(result.returncode, 0, result.stderr)

        # Someone with the database file and not the key: a new row, and a genuine row made
        # longer. Neither is honoured nor listed, and each is logged.
        sqlite("INSERT INTO trusts (user, service, origin, host, created_at, expires_at) "
               f"VALUES ('{user}', '{SERVICE}', 'tty:/dev/pts/5', '{genuine.get('host')}', "
               f"{now}, {now + 600})")
        self.login_with_code(user, rhost=None, tty="/dev/pts/5")
        sqlite(f"UPDATE trusts SET expires_at = expires_at + 86400 WHERE user = '{user}' AND "
               f"origin = '{RHOST}'")
        self.assertEqual([t["origin"] for t in self.trusts(user)], ["tty:/dev/pts/5"])
        self.login_with_code(user)
        log = self.h.daemon_log()
        for origin in ("tty:/dev/pts/5", RHOST):
            self.assertTrue([line for line in log.splitlines()
                             if "trust ignored" in line and user in line and origin in line],
                            log[-4000:])
        # The codes made trusts of the key's own.
        self.trusted_login(user)
        self.trusted_login(user, rhost=None, tty="/dev/pts/5")

    def test_a_new_secret_ends_the_trust(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        self.login_with_code(user)
        self.enroll_texted(user)  # root enables over the enrollment: a new secret
        self.assertEqual(self.trusts(user), [])
        self.login_with_code(user)
        self.ctl_ok("disable", user)
        self.assertEqual(self.trusts(user), [])


class MaxSecondsTests(TrustTestCase):

    config = {"trust": {"max_seconds": 2}}

    def test_max_seconds_caps_the_trust(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        self.login_with_code(user)  # trust=600 asked
        made = time.monotonic()
        [trust] = self.trusts(user)
        self.assertEqual(trust["trustedUntil"] - trust["createdAt"], 2)
        time.sleep(max(0.0, made + 3.5 - time.monotonic()))
        self.login_with_code(user)


if __name__ == "__main__":
    main()
