# SPDX-License-Identifier: BSD-2-Clause
"""What the database alone allows, without the key: the SQLite file here, the twofactord role's
password in a fleet (the same rows). SECURITY.md states each of these; a test that starts to
fail here means the document must change with it.

- a trust row written without the key is not honoured (it carries no valid MAC);
- a recovery-code row of one's own gets in (its hash is salted, not keyed);
- deleting the enrollment unenrolls the user: under nullok, the password alone gets in;
- deleting the failure row ends a lock;
- deleting used steps lets a code already used be accepted again."""

import hashlib
import os
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "pam"))

import harness  # noqa: E402
from pam_support import PamTestCase, SERVICE, main, totp  # noqa: E402

# Built from the recovery-code alphabet (common/recovery_code_shape.h); stored without the dash.
OWN_RECOVERY_CODE = "ABCDE-FGHJK"
RECOVERY_HASH_ITERATIONS = 10000  # common/recovery_codes.cpp


class DatabaseAloneTests(PamTestCase):

    config = {"lockout": {"failures": 2}}

    def sql(self, statement, parameters=()):
        """Runs one statement on the daemon's database file, as someone without the key."""
        db = sqlite3.connect(self.h.database_path, timeout=10)
        try:
            db.execute(statement, parameters)
            db.commit()
        finally:
            db.close()

    def query(self, statement, parameters=()):
        db = sqlite3.connect(self.h.database_path, timeout=10)
        try:
            return db.execute(statement, parameters).fetchall()
        finally:
            db.close()

    def prompt_and_answer(self, user, answer, options=""):
        login = self.login(user, options)
        self.assertEqual(login.prompt(), "Authenticator app code: ")
        login.answer(answer)
        return login.finish()

    def test_a_trust_row_is_not_honoured(self):
        user = self.h.create_user()
        self.enroll_app(user)
        now = int(time.time())
        self.sql("INSERT INTO trusts (user, service, origin, host, created_at, expires_at) "
                 "VALUES (?, ?, ?, ?, ?, ?)",
                 (user, SERVICE, "tty:/dev/pts/6", "any", now, now + 600))
        login = self.login(user, "trust=600", rhost=None, tty="/dev/pts/6")
        self.assertEqual(login.prompt(), "Authenticator app code: ")
        login.kill()
        rc, status, err = self.h.ctl_json("status", user)
        self.assertEqual((rc, status["trusts"]), (0, []), err)

    def test_a_recovery_code_row_of_ones_own_gets_in(self):
        user = self.h.create_user()
        self.enroll_app(user)
        # The set's salt (enable made a set), or one of one's own for a user without codes.
        rows = self.query("SELECT salt FROM recovery_codes WHERE user = ? LIMIT 1", (user,))
        salt = rows[0][0] if rows else os.urandom(16)
        code = OWN_RECOVERY_CODE.replace("-", "").encode()
        digest = hashlib.pbkdf2_hmac("sha256", code, salt, RECOVERY_HASH_ITERATIONS, 32)
        self.sql("INSERT INTO recovery_codes (user, salt, hash) VALUES (?, ?, ?)",
                 (user, salt, digest))
        result = self.prompt_and_answer(user, OWN_RECOVERY_CODE)
        # Not bound to the key (SECURITY.md says so): the forged code is a way in.
        self.assertResult(result, "PAM_SUCCESS")

    def test_deleting_the_enrollment_lets_nullok_in(self):
        user = self.h.create_user()
        self.enroll_app(user)
        self.sql("DELETE FROM users WHERE name = ?", (user,))
        result = self.login(user, "nullok", stack_after=["auth required pam_permit.so"]).finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertIn("not enrolled, nullok (PAM_IGNORE)", result.log)

    def test_deleting_the_failures_ends_a_lock(self):
        user = self.h.create_user()
        secret = self.enroll_app(user)
        wrong = next(c for c in ("000000", "111111", "222222")
                     if c not in {totp(secret, offset=k) for k in (-1, 0, 1, 2)})
        for _ in range(2):
            self.prompt_and_answer(user, wrong, "tries=1")
        rc, status, err = self.h.ctl_json("status", user)
        self.assertTrue(status["locked"], status)
        self.sql("DELETE FROM failures WHERE user = ?", (user,))
        rc, status, err = self.h.ctl_json("status", user)
        self.assertFalse(status["locked"], status)

    def test_deleting_used_steps_lets_a_used_code_in_again(self):
        user = self.h.create_user()
        secret = self.enroll_app(user)
        # The next step's code: enabling used this one's.
        harness.wait_for_step_start(margin=10)
        code = totp(secret, offset=1)
        self.assertResult(self.prompt_and_answer(user, code), "PAM_SUCCESS")
        self.sql("DELETE FROM used_steps WHERE user = ?", (user,))
        self.assertResult(self.prompt_and_answer(user, code), "PAM_SUCCESS")


if __name__ == "__main__":
    main()
