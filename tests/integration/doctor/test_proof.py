# SPDX-License-Identifier: BSD-2-Clause
"""The findings are real: under each configuration a real sshd or sudo lets a user in without a
code, and `twofactorctl doctor` flags it; with the fix, the same login asks for the code and
doctor is quiet about it. The module and the daemon are the build tree's; sshd runs through a
link named after a PAM service of the test's own and sudo through sudoers `Defaults
pam_service=` (no existing file in /etc/pam.d or /etc/sudoers.d is touched); everything is
removed when a test ends.

- a public key without AuthenticationMethods requiring keyboard-interactive (sshd-pubkey-alone,
  doctor run on this machine with --sshd-config, through sshd -T)
- the module as `optional` (pam-optional; the service's lines copied into a --root tree as
  /etc/pam.d/sudo, as doctor checks the services by their names)
- a sudoers NOPASSWD (sudo-nopasswd, doctor run on this machine's sudoers)
"""

import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
E2E = os.path.join(os.path.dirname(os.path.dirname(HERE)), "e2e")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "cli"))
sys.path.insert(0, E2E)

import pexpect  # noqa: E402

from cli_support import CliTestCase, main  # noqa: E402
from doctor_tree import DoctorTree, run_doctor  # noqa: E402
from e2e_case import converse  # noqa: E402
from harness import binary  # noqa: E402
from installed import LoginUser  # noqa: E402
from sshd import SshServer  # noqa: E402

PHONE = "+15555550123"
SUDO = "/usr/bin/sudo"
ID = "/usr/bin/id"
SUDOERS_DIR = "/etc/sudoers.d"
PAM_DIR = "/etc/pam.d"


class ProofTest(CliTestCase):

    def setUp(self):
        for program in ("/usr/sbin/sshd", SUDO, "/usr/bin/ssh", "/usr/sbin/visudo"):
            if not os.access(program, os.X_OK):
                # scripts/install-deps.sh installs them: a proof that cannot run is a failure.
                self.fail(f"{program} is not installed")
        self.user = LoginUser().__enter__()
        self.addCleanup(self.user.remove)
        self.enroll_texted(self.user.name, phone=PHONE)
        self.module = f"{binary('PAM_MODULE')} socket={self.h.socket_path}"

    def texted_code(self):
        before = len(self.texts())
        return lambda: self.code_in(self.next_text(before))

    def findings(self, *args):
        rc, report, err = run_doctor("--socket", self.h.socket_path, *args)
        self.assertIsNotNone(report, f"exit {rc}: {err}")
        return report["findings"]

    def at(self, findings, path):
        return [(f["finding"], f["line"]) for f in findings
                if f["file"] == path and f["severity"] != "note"]

    # -- sshd ---------------------------------------------------------------------------------

    def sshd(self, methods):
        stack = [f"auth     requisite {self.module}",
                 "account  required  pam_unix.so",
                 "session  required  pam_unix.so"]
        server = SshServer(stack, [self.user.name], methods=methods, prefix="tfdoc-sshd")
        server.__enter__()
        self.addCleanup(server.stop)
        key_dir = tempfile.mkdtemp(prefix="tfdoc-key-")
        self.addCleanup(shutil.rmtree, key_dir, True)
        key = os.path.join(key_dir, "id_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True,
                       timeout=30)
        server.authorize_key(self.user.name, key + ".pub")
        return server, key

    def line_of(self, path, prefix):
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if line.startswith(prefix):
                    return number
        raise AssertionError(f"no {prefix} in {path}")

    def test_public_key_without_authentication_methods(self):
        # "publickey keyboard-interactive": either method alone is enough.
        server, key = self.sshd("publickey keyboard-interactive")
        dialogue = converse(server.ssh(self.user.name, identity=key), self.user.password, [])
        self.assertIn(f"LOGGED-IN as {self.user.name}", dialogue.transcript, dialogue)
        self.assertEqual(dialogue.typed_codes, [])  # in, and no code was asked
        findings = self.findings("--sshd-config", server.config)
        line = self.line_of(server.config, "AuthenticationMethods")
        self.assertIn(("sshd-pubkey-alone", line), self.at(findings, server.config))
        self.assertNotIn("sshd-parsed", [f["finding"] for f in findings])  # sshd -T was used

        server.stop()
        server, key = self.sshd("publickey,keyboard-interactive")
        dialogue = converse(server.ssh(self.user.name, identity=key), self.user.password,
                            [self.texted_code()])
        self.assertIn(f"LOGGED-IN as {self.user.name}", dialogue.transcript, dialogue)
        self.assertEqual(len(dialogue.typed_codes), 1, dialogue)  # the code was asked
        self.assertEqual(self.at(self.findings("--sshd-config", server.config), server.config),
                         [])

    # -- sudo ---------------------------------------------------------------------------------

    def pam_service(self, lines):
        name = f"tfdoc-sudo-{secrets.token_hex(3)}"
        path = os.path.join(PAM_DIR, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        return name

    def sudoers(self, service, rule):
        """A drop-in that sends the user's sudo through `service`, checked with visudo -cf
        first; removed when the test ends. Returns its path."""
        name = f"tfdoc-{secrets.token_hex(3)}"  # no dot, no ~: sudo reads it
        text = (f"Defaults:{self.user.name} pam_service={service}\n"
                f"Defaults:{self.user.name} timestamp_timeout=0\n"
                f"Defaults:{self.user.name} !lecture, passwd_tries=1\n"
                f"{self.user.name} ALL=(root) {rule}{ID}\n")
        path = os.path.join(SUDOERS_DIR, name)
        partial = os.path.join(SUDOERS_DIR, f".{name}.partial")  # sudo skips names with a dot
        self.addCleanup(lambda: os.path.lexists(partial) and os.unlink(partial))
        self.addCleanup(lambda: os.path.lexists(path) and os.unlink(path))
        with open(partial, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(partial, 0o440)
        check = subprocess.run(["visudo", "-cf", partial], capture_output=True, text=True,
                               timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        os.rename(partial, path)
        return path

    def sudo(self, codes):
        entry = pwd.getpwnam(self.user.name)
        child = pexpect.spawn(
            "setpriv", [f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups",
                        "--", SUDO, ID, "-un"],
            timeout=30, encoding="utf-8", codec_errors="replace",
            env={"PATH": "/usr/bin:/bin", "TERM": "dumb", "HOME": entry.pw_dir,
                 "USER": self.user.name, "LOGNAME": self.user.name})
        return converse(child, self.user.password, codes)

    def ran_as_root(self, dialogue):
        return "\nroot\n" in "\n" + dialogue.transcript and dialogue.status == 0

    def stack(self, control):
        # tries=1: one wrong code ends the module's turn (and counts once towards the lock).
        return ["auth     required  pam_unix.so",
                f"auth     {control}  {self.module} tries=1",
                "account  required  pam_unix.so",
                "session  required  pam_unix.so"]

    def doctor_on_sudo_stack(self, lines):
        tree = DoctorTree()
        self.addCleanup(tree.close)
        tree.write("/etc/pam.d/sudo", "\n".join(lines) + "\n")
        return self.at(self.findings("--root", tree.root), "/etc/pam.d/sudo")

    def test_module_as_optional(self):
        lines = self.stack("optional")
        drop_in = self.sudoers(self.pam_service(lines), "")
        dialogue = self.sudo(["000000"])  # a wrong code
        self.assertEqual(dialogue.typed_codes, ["000000"], dialogue)
        self.assertTrue(self.ran_as_root(dialogue), dialogue)
        self.assertIn(("pam-optional", 2), self.doctor_on_sudo_stack(lines))

        lines = self.stack("requisite")
        os.unlink(drop_in)  # one pam_service= for the user at a time
        self.sudoers(self.pam_service(lines), "")
        dialogue = self.sudo(["000000"])
        self.assertFalse(self.ran_as_root(dialogue), dialogue)
        dialogue = self.sudo([self.texted_code()])
        self.assertTrue(self.ran_as_root(dialogue), dialogue)
        self.assertEqual(self.doctor_on_sudo_stack(lines), [])

    def test_sudoers_nopasswd(self):
        service = self.pam_service(self.stack("requisite"))
        path = self.sudoers(service, "NOPASSWD: ")
        dialogue = self.sudo([])  # no prompt at all
        self.assertTrue(self.ran_as_root(dialogue), dialogue)
        self.assertEqual((dialogue.passwords, dialogue.typed_codes), (0, []), dialogue)
        self.assertIn(("sudo-nopasswd", 4), self.at(self.findings(), path))

        os.unlink(path)
        path = self.sudoers(service, "")
        dialogue = self.sudo([self.texted_code()])
        self.assertTrue(self.ran_as_root(dialogue), dialogue)
        self.assertEqual((dialogue.passwords, len(dialogue.typed_codes)), (1, 1), dialogue)
        self.assertEqual(self.at(self.findings(), path), [])


if __name__ == "__main__":
    main()
