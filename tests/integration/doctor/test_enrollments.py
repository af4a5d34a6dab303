# SPDX-License-Identifier: BSD-2-Clause
"""`twofactorctl doctor` with a real twofactord: the README's configuration with every user who
has a login shell enrolled finds nothing (exit 0); `nullok` with users who are not enrolled
names them; failmode=safe and socket= are judged against the daemon that answers."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "cli"))

from cli_support import CliTestCase, main  # noqa: E402
from doctor_tree import DoctorTree, problems, run_doctor  # noqa: E402
from harness import binary  # noqa: E402

PASSWD_USERS = ("tfdoc_alice", "tfdoc_bob", "tfdoc_carol")


class DoctorWithDaemon(CliTestCase):

    def setUp(self):
        self.tree = DoctorTree()
        self.addCleanup(self.tree.close)
        passwd = "".join(f"{name}:x:{2000 + i}:{2000 + i}::/home/{name}:/bin/bash\n"
                         for i, name in enumerate(PASSWD_USERS))
        passwd += "tfdoc_service:x:2100:2100::/nonexistent:/usr/sbin/nologin\n"
        with open(self.tree.host("/etc/passwd"), "a", encoding="utf-8") as f:
            f.write(passwd)

    def doctor(self, *args):
        rc, report, err = run_doctor("--socket", self.h.socket_path, "--root", self.tree.root,
                                     *args)
        self.assertIsNotNone(report, f"exit {rc}: {err}")
        return rc, report

    def enroll_everyone(self, *users):
        for user in users:
            if self.status(user)["enabled"] is not True:
                self.enroll_app(user)

    def test_readme_configuration_with_everyone_enrolled_finds_nothing(self):
        self.enroll_everyone("root", *PASSWD_USERS)
        rc, report = self.doctor()
        self.assertEqual(problems(report), [])
        self.assertEqual(rc, 0, report)
        # The table says so too.
        rc, out = self.table()
        self.assertEqual(rc, 0)
        self.assertIn("No way in without the second factor was found.", out)

    def test_nullok_names_the_users_not_enrolled(self):
        # One daemon serves the whole class: other tests may have enrolled them.
        self.enroll_everyone("root", "tfdoc_alice", "tfdoc_bob")
        for user in ("tfdoc_bob", "tfdoc_carol"):
            if self.status(user)["enabled"] is True:
                self.ok("disable", user)
        rc, report = self.doctor()
        self.assertEqual(rc, 1)
        hits = [f for f in report["findings"] if f["finding"] == "option-nullok"]
        self.assertEqual(len(hits), 1, report)
        self.assertEqual((hits[0]["file"], hits[0]["line"], hits[0]["severity"]),
                         ("/etc/pam.d/common-auth", 5, "critical"))
        self.assertIn("nullok lets 2 users", hits[0]["what"])
        self.assertIn("tfdoc_bob, tfdoc_carol", hits[0]["what"])
        self.assertNotIn("tfdoc_alice", hits[0]["what"])
        self.assertNotIn("tfdoc_service", hits[0]["what"])  # no login shell
        self.assertNotIn("daemon-unreachable", [f["finding"] for f in report["findings"]])

    def test_failmode_safe_and_a_served_socket(self):
        self.enroll_everyone("root", *PASSWD_USERS)
        with open(self.tree.host("/etc/pam.d/common-auth"), encoding="utf-8") as f:
            stack = f.read()
        options = f"failmode=safe socket={self.h.socket_path}"
        self.tree.write("/etc/pam.d/common-auth",
                        stack.replace("pam_twofactor.so nullok", "pam_twofactor.so " + options))
        rc, report = self.doctor()
        self.assertEqual(rc, 1)
        self.assertEqual(problems(report), [("option-failmode-safe", "/etc/pam.d/common-auth", 5)])
        self.assertEqual(report["findings"][0]["severity"], "warning")  # the daemon is up

    def test_texted_users_without_recovery_codes(self):
        self.enroll_everyone("root", "tfdoc_alice", "tfdoc_carol")
        if self.status("tfdoc_bob")["enabled"] is True:
            self.ok("disable", "tfdoc_bob")
        self.enroll_texted("tfdoc_bob")
        codes = self.ok_json("recovery-codes", "tfdoc_bob")["recoveryCodes"]
        self.assertEqual(len(codes), 10)
        for code in codes:  # each lets one login in, and is gone
            two_factor_id, _ = self.login("tfdoc_bob")
            self.ok("complete", "--two-factor-id", two_factor_id, "--code", code)
        self.assertEqual(self.status("tfdoc_bob")["recoveryCodesLeft"], 0)
        rc, report = self.doctor()
        hits = [f for f in report["findings"] if f["finding"] == "no-recovery-codes"]
        self.assertEqual(len(hits), 1, report)
        self.assertEqual(hits[0]["severity"], "warning")
        self.assertIn("(tfdoc_bob)", hits[0]["what"])
        self.assertEqual(rc, 1)
        self.ok("disable", "tfdoc_bob")  # app-only users for the other tests

    def table(self):
        done = subprocess.run([binary("TWOFACTORCTL"), "--socket", self.h.socket_path, "doctor",
                               "--root", self.tree.root], capture_output=True, text=True,
                              timeout=30, check=False)
        return done.returncode, done.stdout


if __name__ == "__main__":
    main()
