# SPDX-License-Identifier: BSD-2-Clause
"""`twofactorctl doctor --root`: one misconfigured tree per finding, each found at the right file
and line; the README's configuration finds nothing but the daemon it cannot reach here (the
daemon's side is test_enrollments.py); bad input is a warning, never a crash or a hang."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from doctor_tree import DoctorTree, problems, run_doctor  # noqa: E402

MODULE = "auth\trequisite\t\t\tpam_twofactor.so nullok\n"
COMMON_AUTH_HEAD = ("auth\t[success=1 default=ignore]\tpam_unix.so nullok\n"
                    "auth\trequisite\t\t\tpam_deny.so\n"
                    "auth\trequired\t\t\tpam_permit.so\n")


def drop_to_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


class CorpusTest(unittest.TestCase):

    def setUp(self):
        self.tree = DoctorTree()
        self.addCleanup(self.tree.close)
        self.socket = self.tree.root + "/nobody-serves-this"

    def doctor(self, *args):
        rc, report, err = run_doctor("--socket", self.socket, "--root", self.tree.root, *args)
        self.assertIsNotNone(report, f"no JSON report (exit {rc}): {err}")
        self.assertIn(rc, (0, 1), err)
        self.assertEqual(rc == 1, bool(problems(report)), report)
        return report

    def assertFound(self, report, finding, file, line, severity=None):
        hits = [f for f in report["findings"]
                if f["finding"] == finding and f["file"] == file and f["line"] == line]
        self.assertTrue(hits, f"{finding} at {file}:{line} not in {problems(report)}")
        self.assertTrue(all(f["what"] and f["fix"] for f in hits if f["severity"] != "note"))
        if severity:
            self.assertEqual(hits[0]["severity"], severity, hits[0])
        return hits[0]

    def assertNotFound(self, report, finding):
        self.assertFalse([f for f in report["findings"] if f["finding"] == finding],
                         problems(report))

    # -- the baseline ---------------------------------------------------------------------

    def test_readme_configuration_finds_only_the_missing_daemon(self):
        report = self.doctor()
        self.assertEqual(sorted(problems(report)), sorted([
            ("daemon-unreachable", self.socket, 0),
            ("option-nullok", "/etc/pam.d/common-auth", 5),
        ]))

    # -- PAM stacks -------------------------------------------------------------------------

    def test_service_without_the_module(self):
        self.tree.write("/etc/pam.d/sshd", "# own stack\nauth required pam_unix.so\n"
                                           "@include common-account\n")
        report = self.doctor()
        self.assertFound(report, "pam-no-module", "/etc/pam.d/sshd", 2, "critical")
        self.assertNotIn("sudo", [f["what"].split(" ")[0] for f in report["findings"]
                                  if f["finding"] == "pam-no-module"])

    def test_module_optional(self):
        self.tree.write("/etc/pam.d/common-auth",
                        COMMON_AUTH_HEAD + "auth optional pam_twofactor.so\n")
        self.assertFound(self.doctor(), "pam-optional", "/etc/pam.d/common-auth", 4, "critical")

    def test_module_behind_a_sufficient_module(self):
        self.tree.write("/etc/pam.d/sudo", "auth sufficient pam_unix.so\n@include common-auth\n")
        report = self.doctor()
        self.assertFound(report, "pam-skipped", "/etc/pam.d/sudo", 1, "critical")
        # sudo-i includes sudo: the same line, reported once.
        self.assertEqual(len([f for f in report["findings"] if f["finding"] == "pam-skipped"]), 1)

    def test_module_jumped_over(self):
        self.tree.write("/etc/pam.d/common-auth",
                        "auth [success=3 default=ignore] pam_unix.so nullok\n"
                        "auth requisite pam_deny.so\nauth required pam_permit.so\n" + MODULE)
        self.assertFound(self.doctor(), "pam-skipped", "/etc/pam.d/common-auth", 1, "critical")

    def test_jump_that_lands_on_the_module_is_fine(self):
        self.tree.write("/etc/pam.d/common-auth",
                        "auth [success=2 default=ignore] pam_unix.so nullok\n"
                        "auth requisite pam_deny.so\nauth required pam_permit.so\n" + MODULE)
        self.assertNotFound(self.doctor(), "pam-skipped")

    def test_sufficient_inside_a_substack_ends_only_the_substack(self):
        self.tree.write("/etc/pam.d/password-check", "auth sufficient pam_unix.so\n"
                                                     "auth requisite pam_deny.so\n")
        self.tree.write("/etc/pam.d/sudo", "auth substack password-check\n" + MODULE)
        report = self.doctor()
        self.assertNotFound(report, "pam-skipped")
        self.assertNotFound(report, "pam-no-module")
        # The same lines through include: the sufficient ends the whole stack.
        self.tree.write("/etc/pam.d/sudo", "auth include password-check\n" + MODULE)
        self.assertFound(self.doctor(), "pam-skipped", "/etc/pam.d/password-check", 1)

    def test_include_loop(self):
        self.tree.write("/etc/pam.d/login", "@include login-extra\n" + MODULE)
        self.tree.write("/etc/pam.d/login-extra", "auth required pam_env.so\n@include login\n")
        report = self.doctor()
        self.assertFound(report, "pam-include-loop", "/etc/pam.d/login-extra", 2, "warning")
        self.assertNotFound(report, "pam-no-module")

    def test_polkit_service_in_etc_replaces_the_one_in_usr_lib(self):
        self.tree.write("/etc/pam.d/polkit-1", "auth required pam_unix.so\n")
        self.assertFound(self.doctor(), "pam-no-module", "/etc/pam.d/polkit-1", 1)

    # -- the module's options ---------------------------------------------------------------

    def module_options(self, options):
        self.tree.write("/etc/pam.d/common-auth",
                        COMMON_AUTH_HEAD + f"auth requisite pam_twofactor.so {options}\n")

    def test_failmode_safe(self):
        self.module_options("failmode=safe")
        # The daemon is down too: critical.
        self.assertFound(self.doctor(), "option-failmode-safe", "/etc/pam.d/common-auth", 4,
                         "critical")

    def test_trust_over_an_hour(self):
        self.module_options("trust=7200")
        self.assertFound(self.doctor(), "option-trust", "/etc/pam.d/common-auth", 4, "warning")
        self.module_options("trust=3600")
        self.assertNotFound(self.doctor(), "option-trust")

    def test_trust_capped_by_max_seconds(self):
        self.module_options("trust=7200")
        self.tree.write("/etc/twofactord/twofactord.conf", "[trust]\nmax_seconds = 1800\n")
        self.assertNotFound(self.doctor(), "option-trust")

    def test_groups_leaving_out_administrators(self):
        self.module_options("groups=staff")
        self.tree.write("/etc/passwd", self.read("/etc/passwd") +
                        "alice:x:1000:1000::/home/alice:/bin/bash\n"
                        "bob:x:1001:1001::/home/bob:/bin/bash\n")
        groups = self.read("/etc/group").replace("sudo:x:27:", "sudo:x:27:alice")
        self.tree.write("/etc/group", groups
                        + "staff:x:50:bob\nalice:x:1000:\nbob:x:1001:\n")
        found = self.assertFound(self.doctor(), "option-groups", "/etc/pam.d/common-auth", 4,
                                 "critical")
        self.assertIn("alice", found["what"])
        self.assertNotIn("bob", found["what"])
        self.module_options("groups=staff,sudo")
        self.assertNotFound(self.doctor(), "option-groups")

    def test_socket_nobody_serves(self):
        self.module_options(f"socket={self.tree.root}/elsewhere")
        found = self.assertFound(self.doctor(), "option-socket", "/etc/pam.d/common-auth", 4)
        self.assertIn("elsewhere", found["what"])

    # -- sshd -------------------------------------------------------------------------------

    def sshd(self, text):
        self.tree.write("/etc/ssh/sshd_config", text)

    def test_use_pam_no(self):
        self.sshd("UsePAM no\nKbdInteractiveAuthentication yes\n"
                  "AuthenticationMethods keyboard-interactive\n")
        self.assertFound(self.doctor(), "sshd-usepam", "/etc/ssh/sshd_config", 1, "critical")

    def test_public_key_alone(self):
        self.sshd("UsePAM yes\nKbdInteractiveAuthentication yes\nPermitRootLogin no\n"
                  "PubkeyAuthentication yes\n")
        self.assertFound(self.doctor(), "sshd-pubkey-alone", "/etc/ssh/sshd_config", 4,
                         "critical")
        self.sshd("UsePAM yes\nKbdInteractiveAuthentication yes\n"
                  "AuthenticationMethods publickey,keyboard-interactive "
                  "password,keyboard-interactive\n")
        self.assertNotFound(self.doctor(), "sshd-pubkey-alone")
        self.sshd("UsePAM yes\nKbdInteractiveAuthentication yes\n"
                  "AuthenticationMethods publickey,keyboard-interactive publickey\n")
        self.assertFound(self.doctor(), "sshd-pubkey-alone", "/etc/ssh/sshd_config", 3)

    def test_keyboard_interactive_off(self):
        self.sshd("UsePAM yes\nKbdInteractiveAuthentication no\nPasswordAuthentication yes\n"
                  "PubkeyAuthentication no\n")
        self.assertFound(self.doctor(), "sshd-kbdinteractive-off", "/etc/ssh/sshd_config", 2,
                         "warning")

    def test_root_in_with_a_key(self):
        self.sshd("UsePAM yes\nKbdInteractiveAuthentication yes\nPermitRootLogin yes\n")
        self.assertFound(self.doctor(), "sshd-root-login", "/etc/ssh/sshd_config", 3, "critical")

    def test_match_block_undoes_it(self):
        self.sshd("UsePAM yes\nKbdInteractiveAuthentication yes\n"
                  "AuthenticationMethods publickey,keyboard-interactive\n"
                  "Match User deploy\n    AuthenticationMethods publickey\n")
        found = self.assertFound(self.doctor(), "sshd-match", "/etc/ssh/sshd_config", 5,
                                 "critical")
        self.assertIn("User deploy", found["what"])
        self.assertNotFound(self.doctor(), "sshd-pubkey-alone")

    def test_setting_in_an_included_file(self):
        self.tree.write("/etc/ssh/sshd_config.d/10-keys.conf", "# keys\nPubkeyAuthentication yes\n"
                        "AuthenticationMethods any\n")
        self.assertFound(self.doctor(), "sshd-pubkey-alone",
                         "/etc/ssh/sshd_config.d/10-keys.conf", 3)

    def test_sshd_config_option(self):
        outside = self.tree.root + "/elsewhere_sshd_config"
        with open(outside, "w", encoding="utf-8") as f:
            f.write("UsePAM no\n")
        self.assertFound(self.doctor("--sshd-config", outside), "sshd-usepam", outside, 1)

    # -- sudoers ------------------------------------------------------------------------------

    def test_nopasswd(self):
        self.tree.write("/etc/sudoers.d/admins", "# admins\n%sudo ALL=(ALL) NOPASSWD: ALL\n")
        self.assertFound(self.doctor(), "sudo-nopasswd", "/etc/sudoers.d/admins", 2, "critical")

    def test_files_sudo_skips_are_skipped(self):
        self.tree.write("/etc/sudoers.d/admins.dpkg-old", "%sudo ALL=(ALL) NOPASSWD: ALL\n")
        self.tree.write("/etc/sudoers.d/admins~", "%sudo ALL=(ALL) NOPASSWD: ALL\n")
        self.assertNotFound(self.doctor(), "sudo-nopasswd")

    def test_not_authenticate(self):
        self.tree.write("/etc/sudoers", self.read("/etc/sudoers") +
                        "Defaults:alice    env_keep+=HOME, !authenticate\n")
        self.assertFound(self.doctor(), "sudo-noauthenticate", "/etc/sudoers", 6, "critical")

    def test_timestamp_timeout(self):
        self.tree.write("/etc/sudoers.d/cache", "Defaults timestamp_timeout=-1\n"
                                                "Defaults timestamp_timeout=721\n"
                                                "Defaults timestamp_timeout=720\n")
        report = self.doctor()
        self.assertFound(report, "sudo-timestamp", "/etc/sudoers.d/cache", 1, "warning")
        self.assertFound(report, "sudo-timestamp", "/etc/sudoers.d/cache", 2, "warning")
        self.assertNotIn(("sudo-timestamp", "/etc/sudoers.d/cache", 3), problems(report))

    def test_sudoers_syntax_error_and_include_loop(self):
        self.tree.write("/etc/sudoers.d/broken", "this is not sudoers\n"
                                                 "alice ALL=(ALL ALL\n"
                                                 "#include /etc/sudoers\n")
        report = self.doctor()
        self.assertFound(report, "sudoers-syntax", "/etc/sudoers.d/broken", 1, "warning")
        self.assertFound(report, "sudoers-syntax", "/etc/sudoers.d/broken", 2, "warning")
        self.assertFound(report, "sudoers-syntax", "/etc/sudoers.d/broken", 3, "warning")

    # -- polkit -------------------------------------------------------------------------------

    def test_polkit_rule_yes(self):
        self.tree.write("/etc/polkit-1/rules.d/49-nopasswd.rules",
                        "polkit.addRule(function(action, subject) {\n"
                        "    if (subject.isInGroup(\"wheel\")) {\n"
                        "        return polkit.Result.YES;\n"
                        "    }\n"
                        "});\n"
                        "polkit.addRule(function(action, subject) {\n"
                        "    if (action.id == \"org.freedesktop.login1.reboot\")\n"
                        "        return polkit.Result.YES;\n"
                        "});\n")
        report = self.doctor()
        self.assertFound(report, "polkit-rule-yes", "/etc/polkit-1/rules.d/49-nopasswd.rules",
                         3, "critical")
        self.assertNotIn(("polkit-rule-yes", "/etc/polkit-1/rules.d/49-nopasswd.rules", 8),
                         problems(report))

    def test_polkit_action_yes(self):
        self.tree.write("/usr/share/polkit-1/actions/org.example.root-shell.policy",
                        "<?xml version=\"1.0\"?>\n<policyconfig>\n"
                        "  <action id=\"org.example.root-shell\">\n"
                        "    <defaults>\n"
                        "      <allow_any>auth_admin</allow_any>\n"
                        "      <allow_inactive>auth_admin</allow_inactive>\n"
                        "      <allow_active>yes</allow_active>\n"
                        "    </defaults>\n"
                        "    <annotate key=\"org.freedesktop.policykit.exec.path\">/bin/bash"
                        "</annotate>\n"
                        "  </action>\n</policyconfig>\n")
        self.assertFound(self.doctor(), "polkit-action-yes",
                         "/usr/share/polkit-1/actions/org.example.root-shell.policy", 7,
                         "critical")

    # -- the daemon's files -------------------------------------------------------------------

    def test_configuration_others_may_change(self):
        os.chmod(self.tree.host("/etc/twofactord/twofactord.conf"), 0o666)
        self.assertFound(self.doctor(), "daemon-file-writable",
                         "/etc/twofactord/twofactord.conf", 0, "critical")

    def test_key_others_may_read(self):
        os.chmod(self.tree.host("/etc/twofactord/key"), 0o644)
        self.assertFound(self.doctor(), "daemon-file-readable", "/etc/twofactord/key", 0,
                         "critical")

    def test_secret_file_named_by_the_configuration(self):
        self.tree.write("/etc/twofactord/twofactord.conf",
                        "[twilio]\naccount_sid = AC0123456789abcdef0123456789abcdef\n"
                        "auth_token_file = /etc/twofactord/token\n")
        self.tree.write("/etc/twofactord/token", "secret\n", mode=0o640)
        # A group that is neither root's nor the daemon's.
        os.chown(self.tree.host("/etc/twofactord/token"), 0, 100)
        self.assertFound(self.doctor(), "daemon-file-readable", "/etc/twofactord/twofactord.conf",
                         3, "critical")

    def test_shared_key_fleet(self):
        self.tree.write("/etc/twofactord/twofactord.conf",
                        "[store]\nbackend = postgresql\n\n[postgresql]\nconninfo = host=db1\n")
        self.assertFound(self.doctor(), "daemon-shared-key", "/etc/twofactord/twofactord.conf",
                         2, "warning")

    # -- bad input ----------------------------------------------------------------------------

    def test_unreadable_files_are_warnings(self):
        # Root reads any mode: a FIFO (which must not hang doctor) and a symlink loop stand in
        # for a file that cannot be read.
        os.remove(self.tree.host("/etc/pam.d/common-auth"))
        os.mkfifo(self.tree.host("/etc/pam.d/common-auth"))
        os.remove(self.tree.host("/etc/sudoers"))
        os.symlink("sudoers", self.tree.host("/etc/sudoers"))
        os.remove(self.tree.host("/etc/ssh/sshd_config"))
        os.mkfifo(self.tree.host("/etc/ssh/sshd_config"))
        report = self.doctor()
        self.assertFound(report, "pam-unreadable", "/etc/pam.d/sshd", 1, "warning")
        # libpam refuses a stack with an unreadable include: no way in, only the warning.
        self.assertNotFound(report, "pam-no-module")
        self.assertFound(report, "sudoers-syntax", "/etc/sudoers", 0, "warning")
        self.assertFound(report, "sshd-config", "/etc/ssh/sshd_config", 0, "warning")

    def test_empty_tree(self):
        empty = self.tree.root + "/empty"
        os.mkdir(empty)
        rc, report, err = run_doctor("--socket", self.socket, "--root", empty)
        self.assertEqual(rc, 1, err)
        self.assertEqual([f[0] for f in problems(report)], ["daemon-unreachable"])

    def test_usage(self):
        rc, _, err = run_doctor("--root", self.tree.root + "/missing")
        self.assertEqual(rc, 2, err)
        self.assertIn("not a directory", err)
        rc, _, err = run_doctor("extra")
        self.assertEqual(rc, 2, err)
        rc, _, err = run_doctor("--code", "1")
        self.assertEqual(rc, 2, err)

    def test_root_only(self):
        rc, report, err = run_doctor("--root", self.tree.root, preexec_fn=drop_to_nobody)
        self.assertEqual(rc, 2, err)
        self.assertIsNone(report)
        self.assertIn("run it as root", err)

    def read(self, path):
        with open(self.tree.host(path), encoding="utf-8") as f:
            return f.read()


if __name__ == "__main__":
    unittest.main(verbosity=2)
