# SPDX-License-Identifier: BSD-2-Clause
"""A stolen database or backup: the database and its WAL hold no secret and no phone number in
plain text; the key file, the database and the WAL are 0600; a malformed key never destroys an
enrollment and is reported clearly (a wrong or missing key: test_key_and_database.py)."""

import os
import stat
import time

from security_support import (LIBERAL_LIMITS, SecurityTestCase, enrollment_rows, file_bytes, main,
                              require_root, run_daemon_once)

PHONE = "+14155550123"  # a number no other bytes of the database could contain by chance


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@require_root
class AtRestTest(SecurityTestCase):
    config = LIBERAL_LIMITS

    def enroll_with_known_secrets(self):
        """Enrolls a texted and an app user and logs each in once; returns the needles that
        must never be found at rest and the user names that must be (so the search can fail)."""
        texted = self.h.create_user()
        app = self.h.create_user()
        reply = self.ok_json("secret")
        secret, base32 = reply["secret"], reply["secretBase32Encoded"]
        before = len(self.texts())
        self.ok("send", "--phone", PHONE, "--secret", secret)
        code = self.code_in(self.next_text(before))
        self.ok("enable", texted, "--secret", secret, "--code", code, "--phone", PHONE)
        two_factor_id, login_code = self.login(texted)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", login_code)
        app_secret = self.enroll_app(app)
        needles = {
            "secret": secret, "secretBase32Encoded": base32, "app secret": app_secret,
            "phone": PHONE, "phone without +": PHONE[1:], "national number": PHONE[2:],
            "secret as hex": secret.encode().hex(),
        }
        return needles, (texted, app)

    def assertNoNeedles(self, data, needles, where):
        for what, needle in needles.items():
            self.assertNotIn(needle.encode(), data, f"{what} found in plain text in {where}")

    def test_database_and_wal_hold_no_secret_or_phone_number(self):
        needles, users = self.enroll_with_known_secrets()
        wal = file_bytes(self.h.database_path + "-wal")
        database = file_bytes(self.h.database_path)
        self.assertGreater(len(wal), 0, "no WAL to search: WAL mode is off?")
        both = database + wal
        for user in users:  # names are stored in clear: proof that the search sees the rows
            self.assertIn(user.encode(), both)
        self.assertIn(b"TextMessage", both)
        self.assertNoNeedles(database, needles, "the database")
        self.assertNoNeedles(wal, needles, "the WAL")
        # After a clean stop everything is checkpointed into the database file.
        self.h.stop_daemon()
        database = file_bytes(self.h.database_path)
        for user in users:
            self.assertIn(user.encode(), database)
        self.assertNoNeedles(database, needles, "the checkpointed database")
        self.assertNoNeedles(file_bytes(self.h.database_path + "-wal"), needles, "the WAL")
        self.h.start_daemon()
        print(f"\nat rest: {len(needles)} secrets and number forms searched in "
              f"{len(both)} bytes of database and WAL, none found")

    def test_a_disabled_enrollment_leaves_no_sealed_blob_behind(self):
        # secure_delete: a removed row's blobs are overwritten, not left in free pages for
        # whoever later holds both the file and the key.
        user = self.h.create_user()
        self.enable_texted_quietly(user, PHONE)
        row = [r for r in enrollment_rows(self.h.database_path) if r[0] == user][0]
        blobs = {"secret": bytes(row[1]), "phone": bytes(row[2])}
        before = file_bytes(self.h.database_path) + file_bytes(self.h.database_path + "-wal")
        for blob in blobs.values():
            self.assertIn(blob, before, "the search cannot see the blobs it looks for")
        self.ok("disable", user)
        self.h.stop_daemon()  # checkpoints the WAL into the file
        data = file_bytes(self.h.database_path) + file_bytes(self.h.database_path + "-wal")
        self.h.start_daemon()
        for what, blob in blobs.items():
            self.assertGreater(len(blob), 16)
            self.assertNotIn(blob, data, f"the disabled user's sealed {what} is still on disk")

    def test_key_database_and_wal_are_private(self):
        self.enroll_app(self.h.create_user())
        for path in (self.h.key_path, self.h.database_path, self.h.database_path + "-wal"):
            with self.subTest(path=os.path.basename(path)):
                self.assertEqual(oct(mode_of(path)), oct(0o600))
                self.assertEqual(os.stat(path).st_uid, os.geteuid())
        self.assertEqual(len(file_bytes(self.h.key_path)), 32)

    # ---- keys -------------------------------------------------------------------------------

    def enrolled_user(self):
        user = self.h.create_user()
        self.enable_texted_quietly(user, PHONE)
        return user

    def assertServesUser(self, user):
        self.assertIs(self.status(user)["enabled"], True)
        two_factor_id, code = self.login(user)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", code)

    def test_malformed_key_file_stops_the_daemon_and_is_left_alone(self):
        user = self.enrolled_user()
        self.h.stop_daemon()
        good_key = file_bytes(self.h.key_path)
        rows = enrollment_rows(self.h.database_path)
        size = "expected 32 bytes or 64 hex digits, found"
        cases = {
            "text": (b"not a key\n", 0o600, f"{size} 10 bytes\n"),
            "31 bytes": (b"k" * 31, 0o600, f"{size} 31 bytes\n"),
            "63 hex digits": (b"a" * 63 + b"\n", 0o600, f"{size} 64 bytes\n"),
            "64 non-hex": (b"g" * 64, 0o600, f"{size} 64 bytes that are not all hex digits"),
            "empty": (b"", 0o600, f"{size} 0 bytes"),
            "readable by all": (good_key, 0o644, "mode 0644, must be 0600 or 0400"),
        }
        try:
            for name, (content, mode, message) in cases.items():
                with self.subTest(key=name):
                    with open(self.h.key_path, "wb") as f:
                        f.write(content)
                    os.chmod(self.h.key_path, mode)
                    before = os.stat(self.h.key_path)
                    time.sleep(0.01)
                    rc, output = run_daemon_once(self.h.config_path)
                    self.assertNotIn(rc, (0, None), output)
                    self.assertIn(f"key file {self.h.key_path}: {message}", output)
                    self.assertFalse(os.path.exists(self.h.socket_path),
                                     "a socket was created")
                    after = os.stat(self.h.key_path)
                    self.assertEqual(file_bytes(self.h.key_path), content)
                    self.assertEqual((after.st_mode, after.st_mtime_ns, after.st_ino),
                                     (before.st_mode, before.st_mtime_ns, before.st_ino))
                    self.assertEqual(enrollment_rows(self.h.database_path), rows)
        finally:
            with open(self.h.key_path, "wb") as f:
                f.write(good_key)
            os.chmod(self.h.key_path, 0o600)
        self.h.start_daemon()
        self.assertServesUser(user)


if __name__ == "__main__":
    main()
