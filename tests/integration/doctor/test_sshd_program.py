# SPDX-License-Identifier: BSD-2-Clause
"""doctor and the sshd program: `sshd -T -f FILE` gives the effective values when it works; a
missing sshd, one that fails and one that hangs leave the file parsed, with a note, within
seconds. The sshd here is a stand-in script found through PATH (doctor looks sshd up in PATH),
run on this machine's own files (no --root), with --sshd-config."""

import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from doctor_tree import run_doctor  # noqa: E402


class SshdProgramTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="doctor-sshd-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        self.config = os.path.join(self.dir, "sshd_config")
        self.socket = os.path.join(self.dir, "no-socket")

    def write_config(self, text):
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(text)

    def fake_sshd(self, body):
        path = os.path.join(self.bin, "sshd")
        with open(path, "w", encoding="utf-8") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(path, 0o755)

    def doctor(self):
        started = time.monotonic()
        rc, report, err = run_doctor("--socket", self.socket, "--sshd-config", self.config,
                                     env={"PATH": self.bin})
        self.seconds = time.monotonic() - started
        self.assertIsNotNone(report, f"exit {rc}: {err}")
        return report

    def sshd_findings(self, report):
        return {(f["finding"], f["line"]): f for f in report["findings"]
                if f["file"] == self.config}

    def test_missing_sshd_parses_the_file(self):
        self.write_config("UsePAM no\n")
        found = self.sshd_findings(self.doctor())
        self.assertIn("not installed", found[("sshd-parsed", 0)]["what"])
        self.assertEqual(found[("sshd-parsed", 0)]["severity"], "note")
        self.assertIn(("sshd-usepam", 1), found)

    def test_sshd_t_values_win_and_lines_come_from_the_file(self):
        self.write_config("UsePAM yes\nAuthenticationMethods publickey,keyboard-interactive\n"
                          "KbdInteractiveAuthentication yes\n")
        # What this sshd says is effective (as if an Include elsewhere changed it).
        args = os.path.join(self.dir, "args")
        self.fake_sshd(f'echo "$@" > {args}\n'
                       "printf 'usepam yes\\npubkeyauthentication yes\\n"
                       "authenticationmethods any\\nkbdinteractiveauthentication yes\\n"
                       "permitrootlogin no\\n'\n")
        found = self.sshd_findings(self.doctor())
        with open(args, encoding="utf-8") as f:
            self.assertEqual(f.read().split(), ["-T", "-f", self.config])
        self.assertNotIn(("sshd-parsed", 0), found)
        self.assertIn(("sshd-pubkey-alone", 2), found)

    def test_match_user_block_judged_by_sshd_c(self):
        # The file sets nothing in the block that doctor can see; sshd -C says what it does.
        self.write_config("UsePAM yes\nAuthenticationMethods publickey,keyboard-interactive\n"
                          "KbdInteractiveAuthentication yes\n"
                          "Match User deploy\n    Include /nonexistent/deploy-*.conf\n"
                          "Match User dev*\n    X11Forwarding no\n")
        calls = os.path.join(self.dir, "calls")
        self.fake_sshd(f'echo "$@" >> {calls}\n'
                       'case "$*" in *-C*) methods=any ;; '
                       "*) methods=publickey,keyboard-interactive ;; esac\n"
                       "printf 'usepam yes\\npubkeyauthentication yes\\nauthenticationmethods %s\\n"
                       "kbdinteractiveauthentication yes\\npermitrootlogin no\\n' \"$methods\"\n")
        found = self.sshd_findings(self.doctor())
        with open(calls, encoding="utf-8") as f:
            self.assertEqual(f.read().splitlines(), [
                f"-T -f {self.config}",
                f"-T -f {self.config} -C user=deploy,host=localhost,addr=127.0.0.1"])
        self.assertIn("Match User deploy", found[("sshd-match", 4)]["what"])
        self.assertNotIn(("sshd-match", 6), found)
        self.assertNotIn(("sshd-pubkey-alone", 2), found)

    def test_failing_sshd(self):
        self.write_config("UsePAM no\n")
        self.fake_sshd("echo 'Missing privilege separation directory: /run/sshd' >&2\nexit 255\n")
        found = self.sshd_findings(self.doctor())
        self.assertIn("Missing privilege separation directory", found[("sshd-parsed", 0)]["what"])
        self.assertIn(("sshd-usepam", 1), found)

    def test_hanging_sshd_is_given_five_seconds(self):
        self.write_config("UsePAM no\n")
        self.fake_sshd("exec /bin/sleep 60\n")
        found = self.sshd_findings(self.doctor())
        self.assertIn("did not finish in 5 s", found[("sshd-parsed", 0)]["what"])
        self.assertIn(("sshd-usepam", 1), found)
        self.assertLess(self.seconds, 10)


if __name__ == "__main__":
    unittest.main(verbosity=2)
