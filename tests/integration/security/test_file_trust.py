# SPDX-License-Identifier: BSD-2-Clause
"""Files other users could change or read. A configuration, secret file or key
that another user owns or may write would let them change what the daemon does: it refuses to
start, naming the file and the fix. A configuration or secret file other users may read gives the
Twilio token away: the daemon starts and warns. A database password file other users may read
is refused: with it, anyone who reaches the server may read and change every enrollment."""

import os
import shutil

from security_support import SecurityTestCase, ids_of, main, require_root, run_daemon_once


@require_root
class FileTrustTest(SecurityTestCase):
    def setUp(self):
        self.h.stop_daemon()
        self.addCleanup(self.restore)
        shutil.copy2(self.h.config_path, self.h.config_path + ".good")
        shutil.copy2(self.h.key_path, self.h.key_path + ".good")

    def restore(self):
        os.replace(self.h.config_path + ".good", self.h.config_path)
        os.replace(self.h.key_path + ".good", self.h.key_path)
        self.h.start_daemon()

    def assertRefused(self, *messages):
        rc, output = run_daemon_once(self.h.config_path, timeout=5)
        self.assertIsNotNone(rc, f"the daemon started:\n{output}")
        self.assertNotEqual(rc, 0, output)
        for message in messages:
            self.assertIn(message, output)
        self.assertEqual(len(output.strip().splitlines()), 1, output)
        return output

    def assertStarts(self):
        rc, output = run_daemon_once(self.h.config_path, timeout=3)
        self.assertIsNone(rc, f"the daemon stopped:\n{output}")
        self.assertIn("ready", output)
        return output

    def test_a_world_writable_configuration_is_refused(self):
        os.chmod(self.h.config_path, 0o666)
        self.assertRefused(f"{self.h.config_path}: the configuration is writable by other users "
                           "(mode 0666)", "chmod go-w")

    def test_a_configuration_owned_by_another_user_is_refused(self):
        uid, gid = ids_of(self.h.create_user())
        os.chown(self.h.config_path, uid, gid)
        self.assertRefused(f"{self.h.config_path}: the configuration is owned by uid {uid}")

    def test_a_key_owned_by_another_user_is_refused(self):
        uid, gid = ids_of(self.h.create_user())
        os.chown(self.h.key_path, uid, gid)
        self.assertRefused(f"key file {self.h.key_path}: owned by uid {uid}")

    def test_a_readable_token_file_is_refused_when_writable_and_warned_when_readable(self):
        token_file = os.path.join(self.h.dir, "twilio-token")
        with open(token_file, "w") as f:
            f.write(self.h.auth_token + "\n")
        self.h.config_overrides["twilio"] = {"auth_token": None, "auth_token_file": token_file}
        try:
            self.h.write_config()
            os.chmod(token_file, 0o646)
            self.assertRefused(f"{token_file}: the secret file is writable by other users")
            os.chmod(token_file, 0o644)
            output = self.assertStarts()
            self.assertIn(f"{token_file} holds a secret and is readable by other users", output)
        finally:
            self.h.config_overrides.pop("twilio")
            self.h.write_config()
            shutil.copy2(self.h.config_path, self.h.config_path + ".good")

    def test_a_readable_configuration_with_the_token_starts_with_a_warning(self):
        os.chmod(self.h.config_path, 0o644)
        output = self.assertStarts()
        self.assertIn(f"{self.h.config_path} holds the Twilio auth token and is readable by "
                      "other users (mode 0644)", output)

    def test_a_readable_configuration_without_a_secret_starts_quietly(self):
        self.h.config_overrides["twilio"] = {"auth_token": None}
        try:
            self.h.write_config()
            os.chmod(self.h.config_path, 0o644)
            output = self.assertStarts()
            self.assertNotIn("readable by other users", output)
        finally:
            self.h.config_overrides.pop("twilio")
            self.h.write_config()
            shutil.copy2(self.h.config_path, self.h.config_path + ".good")

    def test_a_database_password_others_may_read_or_a_weak_connection_is_refused(self):
        # Checked while the configuration is read, before any connection: no server needed.
        password_file = os.path.join(self.h.dir, "postgresql-password")
        with open(password_file, "w") as f:
            f.write("not-the-password\n")
        self.h.config_overrides["store"] = {"backend": "postgresql"}
        self.h.config_overrides["postgresql"] = {"conninfo": "host=127.0.0.1 dbname=twofactor",
                                                 "password_file": password_file}
        try:
            self.h.write_config()
            os.chmod(password_file, 0o644)
            self.assertRefused(f"{password_file}: the database password is readable by other "
                               "users (mode 0644)", "chmod go-r")
            os.chmod(password_file, 0o600)
            self.h.config_overrides["postgresql"]["conninfo"] = "host=db1.example.org"
            self.h.write_config()
            self.assertRefused(f"{self.h.config_path}:", "sslmode=verify-full", "allow_insecure")
        finally:
            self.h.config_overrides.pop("store")
            self.h.config_overrides.pop("postgresql")
            self.h.write_config()
            shutil.copy2(self.h.config_path, self.h.config_path + ".good")


if __name__ == "__main__":
    main()
