# SPDX-License-Identifier: BSD-2-Clause
"""The key and the database belong together. A database that vanished while its key stayed, a key
file that vanished while its database stayed, and another valid key each stop the daemon with a
clear error before it reads or writes anything; nothing starts over empty by itself. Starting afresh
is deliberate: an empty database file."""

import os
import secrets
import sqlite3

from security_support import (LIBERAL_LIMITS, SecurityTestCase, database_dump, enrollment_rows,
                              main, require_root, run_daemon_once)

PHONE = "+14155550123"
SIDE_FILES = ("", "-wal", "-shm")


@require_root
class KeyAndDatabaseTest(SecurityTestCase):
    config = LIBERAL_LIMITS

    def setUp(self):
        self.addCleanup(self.running_again)

    def running_again(self):
        """A failed case leaves the daemon stopped; the next case needs it."""
        if self.h.daemon is None or self.h.daemon.poll() is not None:
            self.h.start_daemon()

    def enrolled_user(self):
        user = self.h.create_user()
        self.enable_texted_quietly(user, PHONE)
        return user

    def assertServesUser(self, user):
        self.assertIs(self.status(user)["enabled"], True)
        two_factor_id, code = self.login(user)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", code)

    def assertRefusedToStart(self, *messages):
        rc, output = run_daemon_once(self.h.config_path)
        self.assertIsNotNone(rc, f"the daemon kept running:\n{output}")
        self.assertNotEqual(rc, 0, output)
        for message in messages:
            self.assertIn(message, output)
        self.assertFalse(os.path.exists(self.h.socket_path), "a socket was created")
        return output

    def move_database(self, suffix):
        for side in SIDE_FILES:
            if os.path.exists(self.h.database_path + side):
                os.rename(self.h.database_path + side, self.h.database_path + side + suffix)

    def restore_database(self, suffix):
        for side in SIDE_FILES:
            if os.path.exists(self.h.database_path + side):
                os.unlink(self.h.database_path + side)
            if os.path.exists(self.h.database_path + side + suffix):
                os.rename(self.h.database_path + side + suffix, self.h.database_path + side)

    def test_a_vanished_database_stops_the_daemon(self):
        user = self.enrolled_user()
        self.h.stop_daemon()
        self.move_database(".moved")
        try:
            output = self.assertRefusedToStart(
                f"database {self.h.database_path} does not exist, but its key file "
                f"{self.h.key_path} does",
                "install -m 600")
            self.assertEqual(len(output.strip().splitlines()), 1, output)
            self.assertFalse(os.path.exists(self.h.database_path), "an empty database appeared")
            # Starting afresh is deliberate: an empty file, as the message says.
            fd = os.open(self.h.database_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            self.h.start_daemon()
            self.assertIs(self.status(user)["enabled"], False)
            self.h.stop_daemon()
        finally:
            self.restore_database(".moved")
        self.h.start_daemon()
        self.assertServesUser(user)

    def test_another_key_refuses_to_start_and_writes_nothing(self):
        user = self.enrolled_user()
        self.h.stop_daemon()
        rows = enrollment_rows(self.h.database_path)
        dump = database_dump(self.h.database_path)
        other_key = os.path.join(self.h.state_dir, "other.key")
        with open(os.open(other_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(secrets.token_bytes(32))
        self.h.config_overrides.setdefault("daemon", {})["key_file"] = other_key
        self.h.write_config()
        try:
            self.assertRefusedToStart(
                f"key file {other_key} does not open database {self.h.database_path}",
                "it was sealed with another key")
        finally:
            self.h.config_overrides["daemon"].pop("key_file")
            self.h.write_config()
        self.assertEqual(enrollment_rows(self.h.database_path), rows)
        self.assertEqual(database_dump(self.h.database_path), dump)
        self.h.start_daemon()
        self.assertServesUser(user)  # the right key again: nothing was lost

    def test_a_vanished_key_file_is_not_replaced_while_its_database_exists(self):
        user = self.enrolled_user()
        self.h.stop_daemon()
        rows = enrollment_rows(self.h.database_path)
        os.rename(self.h.key_path, self.h.key_path + ".saved")
        try:
            self.assertRefusedToStart(
                f"key file {self.h.key_path} does not exist, but database "
                f"{self.h.database_path} does")
            self.assertFalse(os.path.exists(self.h.key_path), "a new key was created")
        finally:
            os.replace(self.h.key_path + ".saved", self.h.key_path)
        self.assertEqual(enrollment_rows(self.h.database_path), rows)
        self.h.start_daemon()
        self.assertServesUser(user)

    def test_a_database_from_before_the_key_check_is_checked_by_its_enrollments(self):
        # A database written before the key check value existed gets one at its first start,
        # but only once an enrollment shows that the key is the one it was sealed with.
        user = self.enrolled_user()
        self.h.stop_daemon()
        with sqlite3.connect(self.h.database_path) as connection:
            deleted = connection.execute("DELETE FROM metadata WHERE name = 'key_check'").rowcount
        self.assertEqual(deleted, 1)
        other_key = os.path.join(self.h.state_dir, "older.key")
        with open(os.open(other_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(secrets.token_bytes(32))
        self.h.config_overrides.setdefault("daemon", {})["key_file"] = other_key
        self.h.write_config()
        try:
            self.assertRefusedToStart(f"key file {other_key} does not open database")
        finally:
            self.h.config_overrides["daemon"].pop("key_file")
            self.h.write_config()
        self.h.start_daemon()
        self.assertServesUser(user)
        with sqlite3.connect(f"file:{self.h.database_path}?mode=ro", uri=True) as connection:
            stored = connection.execute(
                "SELECT count(*) FROM metadata WHERE name = 'key_check'").fetchone()[0]
        self.assertEqual(stored, 1, "the right key's first start stores the key check")


if __name__ == "__main__":
    main()
