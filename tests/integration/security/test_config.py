# SPDX-License-Identifier: BSD-2-Clause
"""Malformed configuration: an unknown key or section, a bad number, a value out of range (the
lockout may never allow more than 100 failures), a bad api_url, a missing file given with
--config. The daemon exits non-zero with "PATH:LINE: ..." (or "PATH: ..." for a missing file)
and creates no socket and no database."""

import os

from security_support import SecurityTestCase, main, run_daemon_once

# (section, key, value, what the message must say); each case changes one line of a good file.
BAD_VALUES = {
    "unknown key": ("daemon", "sockett", "/run/x", "unknown key 'sockett' in [daemon]"),
    "unknown section": ("bogus", "key", "1", "unknown section [bogus]"),
    "tries not a number": ("login", "tries", "five", "tries must be a whole number, not 'five'"),
    "tries with a unit": ("login", "tries", "5 tries", "tries must be a whole number"),
    "number overflow": ("daemon", "max_connections", "99999999999999999999999",
                        "max_connections must be a whole number"),
    "negative timeout": ("daemon", "idle_timeout", "-1", "idle_timeout must be between 1 and"),
    "lockout above 100": ("lockout", "failures", "101",
                          "failures must be between 1 and 100, not 101"),
    "lockout of 0": ("lockout", "failures", "0", "failures must be between 1 and 100, not 0"),
    "tries of 0": ("login", "tries", "0", "tries must be between 1 and"),
    "lockout window 0": ("lockout", "window", "0", "window must be between 1 and"),
    "text limit 0": ("sms", "user_texts_per_hour", "0", "user_texts_per_hour must be between 1"),
    "debug not a boolean": ("daemon", "debug", "maybe", "debug must be yes or no, not 'maybe'"),
    "api_url plain http": ("twilio", "api_url", "http://api.twilio.com", "api_url"),
    "api_url not a URL": ("twilio", "api_url", "api.twilio.com", "api_url"),
    "api_url ftp": ("twilio", "api_url", "ftp://127.0.0.1/", "api_url"),
    "api_url with credentials": ("twilio", "api_url", "https://user:pw@api.twilio.com",
                                 "api_url"),
    "country code letters": ("sms", "allowed_country_codes", "1, abc",
                             "allowed_country_codes must list calling codes"),
    "default country 0": ("sms", "default_country_code", "0", "default_country_code must be"),
    "message without code": ("sms", "message", "Your code is here",
                             "message must contain {code}"),
    # Issue 12: every Twilio SID is its two letters and 32 hex digits.
    "account_sid too short": ("twilio", "account_sid", "AC123",
                              "account_sid must be AC followed by 32 hex digits, not 'AC123'"),
    "account_sid placeholder": ("twilio", "account_sid", "AC" + "x" * 32,
                                "account_sid must be AC followed by 32 hex digits"),
    "api_key_sid of an account": ("twilio", "api_key_sid", "AC" + "0123456789abcdef" * 2,
                                  "api_key_sid must be SK followed by 32 hex digits"),
    "messaging_service_sid short": ("twilio", "messaging_service_sid", "MG0123",
                                    "messaging_service_sid must be MG followed by 32 hex"),
    "edge not a name": ("twilio", "edge", "dub lin", "edge must be a Twilio location name"),
}


class MalformedConfigTest(SecurityTestCase):
    def setUp(self):
        self.h.stop_daemon()
        self.case_dir = os.path.join(self.h.dir, f"config-{self.id().rsplit('.', 1)[-1]}")
        os.mkdir(self.case_dir)
        self.addCleanup(self.h.start_daemon)

    def use_paths(self, name):
        """This case's socket and database paths: the config names them, they must not appear."""
        self.name = name.replace(" ", "_")
        self.socket_path = os.path.join(self.case_dir, self.name + ".socket")
        self.database_path = os.path.join(self.case_dir, self.name + ".db")

    def write(self, lines):
        path = os.path.join(self.case_dir, self.name + ".conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(path, 0o600)  # it holds the token: readable by others would add a warning
        return path

    def good_lines(self, section=None, key=None, value=None):
        """The harness's working config with this case's paths, one key set to `value`, and
        the line number of that key."""
        sections = self.h.config_sections()
        sections["daemon"]["socket"] = self.socket_path
        sections["daemon"]["database"] = self.database_path
        if section is not None:
            sections.setdefault(section, {})[key] = value
        lines, line_of_key = ["# a config with one mistake"], None
        for name, keys in sections.items():
            lines.append(f"[{name}]")
            for k, v in keys.items():
                lines.append(f"{k} = {v}")
                if (name, k) == (section, key):
                    line_of_key = len(lines)
            lines.append("")
        return lines, line_of_key

    def assertRefused(self, path, expected):
        rc, output = run_daemon_once(path)
        self.assertIsNotNone(rc, f"the daemon kept running with {path}:\n{output}")
        self.assertNotEqual(rc, 0, output)
        self.assertIn(expected, output)
        self.assertEqual(len(output.strip().splitlines()), 1, f"one clear line: {output}")
        self.assertFalse(os.path.exists(self.socket_path), "a socket was created")
        self.assertFalse(os.path.exists(self.database_path), "a database was created")
        return output

    def test_each_malformed_value_names_the_file_and_line(self):
        for name, (section, key, value, message) in BAD_VALUES.items():
            with self.subTest(case=name):
                self.use_paths(name)
                lines, line = self.good_lines(section, key, value)
                path = self.write(lines)
                self.assertRefused(path, f"{path}:{line}: {message}")
        print(f"\nconfig: {len(BAD_VALUES)} malformed values refused with PATH:LINE")

    def test_lines_that_are_not_key_value(self):
        for name, bad_line in {"no equals sign": "tries 5",
                               "unclosed section": "[login",
                               "key before any section": None}.items():
            with self.subTest(case=name):
                self.use_paths(name)
                lines, _ = self.good_lines()
                if bad_line is None:
                    lines.insert(1, "tries = 5")
                    line = 2
                else:
                    lines.append(bad_line)
                    line = len(lines)
                path = self.write(lines)
                self.assertRefused(path, f"{path}:{line}: ")

    def test_a_missing_file_given_with_config(self):
        self.use_paths("missing")
        path = os.path.join(self.case_dir, "does-not-exist.conf")
        self.assertRefused(path, f"{path}: No such file or directory")

    def test_the_highest_allowed_values_start(self):
        # The control: 100 failures (the most allowed) and a loopback http api_url are fine.
        self.use_paths("highest")
        lines, _ = self.good_lines("lockout", "failures", 100)
        path = self.write(lines)
        # The harness's key exists, so a new database is made deliberately: an empty file.
        os.close(os.open(self.database_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        rc, output = run_daemon_once(path, timeout=3)
        self.assertIsNone(rc, f"a valid config was refused:\n{output}")
        self.assertIn("ready", output)


if __name__ == "__main__":
    main()
