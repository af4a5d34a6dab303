# SPDX-License-Identifier: BSD-2-Clause
"""Recovery codes through twofactorctl and the daemon: ten from `enable` (shown once, in --json
as `recoveryCodes`), `status`'s `recoveryCodesLeft`, `complete` with one (once), and
`recovery-codes` replacing the set (root, or the user with a code of the factor), and codes
stored before they were bound to the key still working after the upgrade."""

import hashlib
import os
import re
import sqlite3

from cli_support import CliTestCase, main, totp

SHAPE = re.compile(r"^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$")
RECOVERY_HASH_ITERATIONS = 10000  # common/recovery_codes.cpp
SCHEMA_BEFORE_KEYED_CODES = 6  # SQLite's schema before recovery codes were bound to the key


class RecoveryCodeTests(CliTestCase):

    def enable_json(self, user):
        secret = self.new_secret()
        reply = self.ok_json("enable", user, "--delivery", "None", "--secret", secret,
                             "--code", totp(secret))
        return secret, reply["recoveryCodes"]

    def test_enable_shows_ten_codes_once(self):
        user = self.h.create_user()
        _, codes = self.enable_json(user)
        self.assertEqual(len(codes), 10)
        self.assertEqual(len(set(codes)), 10)
        for code in codes:
            self.assertRegex(code, SHAPE)
        self.assertEqual(self.status(user)["recoveryCodesLeft"], 10)
        # Not shown again: status holds none, and the database holds no code in the clear.
        self.assertNotIn(codes[0], repr(self.status(user)))
        stored = b""
        for path in (self.h.database_path, self.h.database_path + "-wal"):
            if os.path.exists(path):
                with open(path, "rb") as f:
                    stored += f.read()
        for code in codes:
            for form in (code, code.replace("-", "")):
                self.assertNotIn(form.encode(), stored)

    def test_plain_enable_prints_the_codes(self):
        user = self.h.create_user()
        secret = self.new_secret()
        out = self.ok("enable", user, "--delivery", "None", "--secret", secret,
                      "--code", totp(secret))
        self.assertIn("Recovery codes", out)
        self.assertEqual(len(re.findall(r"\b[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}\b", out)), 10)

    def test_complete_takes_a_recovery_code_once(self):
        user = self.h.create_user()
        _, codes = self.enable_json(user)
        challenge = self.ok_json("login", user)["twoFactorId"]
        reply = self.ok_json("complete", "--two-factor-id", challenge, "--code", codes[0])
        self.assertEqual(reply["recoveryCodesLeft"], 9)
        again = self.ok_json("login", user)["twoFactorId"]
        self.refused_json("complete", "--two-factor-id", again, "--code", codes[0],
                          error="InvalidCode")
        self.assertEqual(self.status(user)["failures"], 1)
        self.assertEqual(self.status(user)["recoveryCodesLeft"], 9)
        self.assertIn("recovery code used", self.h.daemon_log())

    def test_new_codes_replace_the_old(self):
        user = self.h.create_user()
        _, old = self.enable_json(user)
        new = self.ok_json("recovery-codes", user)["recoveryCodes"]
        self.assertEqual(len(new), 10)
        self.assertFalse(set(old) & set(new))
        challenge = self.ok_json("login", user)["twoFactorId"]
        self.refused_json("complete", "--two-factor-id", challenge, "--code", old[1],
                          error="InvalidCode")
        self.ok_json("complete", "--two-factor-id", challenge, "--code", new[1])

    def test_a_user_needs_a_code_to_replace_their_codes(self):
        user = self.h.create_user()
        secret, codes = self.enable_json(user)
        self.refused_json("recovery-codes", user, "--code", "22222-22222", as_user=user,
                          error="InvalidCode")
        reply = self.ok_json("recovery-codes", "--code", codes[5], as_user=user)
        self.assertEqual(len(reply["recoveryCodes"]), 10)
        other = self.h.create_user()
        self.refused_json("recovery-codes", user, "--code", totp(secret), as_user=other,
                          error="PermissionDenied")

    def test_codes_stored_before_the_upgrade_keep_working(self):
        user = self.h.create_user()
        _, codes = self.enable_json(user)
        # The database as the previous version left it: bare PBKDF2 hashes of nine codes left
        # (one used), schema version 6. Other users' rows are of this version: set aside.
        self.h.stop_daemon()
        try:
            db = sqlite3.connect(self.h.database_path, timeout=10)
            try:
                salt = db.execute("SELECT salt FROM recovery_codes WHERE user = ? LIMIT 1",
                                  (user,)).fetchone()[0]
                bare = [hashlib.pbkdf2_hmac("sha256", code.replace("-", "").encode(), salt,
                                            RECOVERY_HASH_ITERATIONS, 32) for code in codes[1:]]
                db.execute("DELETE FROM recovery_codes")
                db.executemany("INSERT INTO recovery_codes (user, salt, hash) VALUES (?, ?, ?)",
                               [(user, salt, h) for h in bare])
                db.execute(f"PRAGMA user_version = {SCHEMA_BEFORE_KEYED_CODES}")
                db.commit()
            finally:
                db.close()
        finally:
            self.h.start_daemon()
        self.assertEqual(self.status(user)["recoveryCodesLeft"], 9)
        db = sqlite3.connect(self.h.database_path, timeout=10)
        try:
            stored = [row[0] for row in db.execute(
                "SELECT hash FROM recovery_codes WHERE user = ?", (user,))]
        finally:
            db.close()
        self.assertEqual(len(stored), 9)
        self.assertFalse(set(stored) & set(bare), "the rows were not bound to the key")
        challenge = self.ok_json("login", user)["twoFactorId"]
        reply = self.ok_json("complete", "--two-factor-id", challenge, "--code", codes[4])
        self.assertEqual(reply["recoveryCodesLeft"], 8)
        # Rewritten once: another restart changes nothing, and the codes still work.
        self.h.restart_daemon()
        challenge = self.ok_json("login", user)["twoFactorId"]
        reply = self.ok_json("complete", "--two-factor-id", challenge, "--code", codes[7])
        self.assertEqual(reply["recoveryCodesLeft"], 7)


if __name__ == "__main__":
    main()
