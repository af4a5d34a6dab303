"""A stolen database or backup: the database and its WAL hold no secret and no phone number in
plain text; the key file, the database and the WAL are 0600; a wrong, missing or malformed key
never destroys an enrollment and is reported clearly."""

import os
import secrets
import stat
import time

from security_support import (LIBERAL_LIMITS, SecurityTestCase, database_dump, enrollment_rows,
                              error_of, file_bytes, main, require_root, run_daemon_once)

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

    def assertCannotDecrypt(self, user):
        """Every call that needs the user's secret is refused with a clear error, sends no text
        and changes no enrollment."""
        rows = enrollment_rows(self.h.database_path)
        dump = database_dump(self.h.database_path)
        before = len(self.texts())
        log_before = len(self.h.daemon_log())
        for method in ("Status", "Begin"):
            reply = self.wire(method, {"user": user})
            self.assertEqual(error_of(reply), "InternalError", reply)
            self.assertIn("see its log", reply["parameters"]["message"])
        log = self.h.daemon_log()[log_before:]
        self.assertIn(f"enrollment for {user} does not decrypt: wrong key or damaged database",
                      log)
        self.h.wait_for_messages(before + 1, timeout=0.5)
        self.assertEqual(len(self.texts()), before)
        self.assertEqual(enrollment_rows(self.h.database_path), rows)
        self.assertEqual(database_dump(self.h.database_path), dump)

    def assertServesUser(self, user):
        self.assertIs(self.status(user)["enabled"], True)
        two_factor_id, code = self.login(user)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", code)

    def test_another_key_file_refuses_the_user_and_changes_nothing(self):
        user = self.enrolled_user()
        rows = enrollment_rows(self.h.database_path)
        other_key = os.path.join(self.h.state_dir, "other.key")
        with open(os.open(other_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(secrets.token_bytes(32))
        self.h.stop_daemon()
        self.h.config_overrides.setdefault("daemon", {})["key_file"] = other_key
        self.h.write_config()
        try:
            self.h.start_daemon()
            self.assertCannotDecrypt(user)
            self.h.stop_daemon()
        finally:
            self.h.config_overrides["daemon"].pop("key_file")
            self.h.write_config()
        self.assertEqual(enrollment_rows(self.h.database_path), rows)
        self.h.start_daemon()
        self.assertServesUser(user)  # the right key again: nothing was lost

    def test_missing_key_file_makes_a_new_key_and_destroys_nothing(self):
        user = self.enrolled_user()
        self.h.stop_daemon()
        rows = enrollment_rows(self.h.database_path)
        old_key = file_bytes(self.h.key_path)
        os.rename(self.h.key_path, self.h.key_path + ".saved")
        try:
            self.h.start_daemon()
            # What happens: a new random key, 0600, and a warning that the enrollments already
            # in the database cannot be read with it.
            new_key = file_bytes(self.h.key_path)
            self.assertEqual(len(new_key), 32)
            self.assertNotEqual(new_key, old_key)
            self.assertEqual(mode_of(self.h.key_path), 0o600)
            log = self.h.daemon_log()
            self.assertIn(f"created a new encryption key key_file={self.h.key_path}", log)
            self.assertIn("cannot decrypt", log)
            self.assertCannotDecrypt(user)
            self.h.stop_daemon()
            self.assertEqual(enrollment_rows(self.h.database_path), rows,
                             "the enrollment rows changed under the new key")
        finally:
            os.replace(self.h.key_path + ".saved", self.h.key_path)
        self.h.start_daemon()
        self.assertServesUser(user)

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
