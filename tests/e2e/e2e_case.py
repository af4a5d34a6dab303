# SPDX-License-Identifier: BSD-2-Clause
"""What the end-to-end tests share: the installed packages and daemon for a test class, login
users, enrollment, and a driver that answers the prompts of ssh or sudo on a pty and records
what the user saw and when.

Each test module holds one test class: the packages are installed when it starts and purged when
it ends, so every ctest test leaves the machine as it found it.
"""

import io
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import pexpect

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import installed  # noqa: E402  (also puts tests/integration on the path)
from installed import MODULE, InstalledDaemon, LoginUser, Packages  # noqa: E402,F401
from sshd import SshServer  # noqa: E402
from syslog_capture import SyslogCapture  # noqa: E402

import harness  # noqa: E402

PHONE = "+15555550123"
MASKED = "***-***-0123"
CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")
PASSWORD_PROMPT = r"[Pp]assword(?: for [^:\r\n]+)?: "
CODE_PROMPT = r"Verification code[^:\r\n]*: "
SUDO = "/usr/bin/sudo"
ID = "/usr/bin/id"
SUDOERS_DIR = "/etc/sudoers.d"
PAM_DIR = "/etc/pam.d"
DIALOGUE_TIMEOUT = 90.0  # seconds for one whole login, every prompt included
MAX_PROMPTS = 20

# The tests send texts quickly; the limits have tests of their own.
LIBERAL_LIMITS = {"sms": {"user_texts_per_hour": 1000, "texts_per_minute": 1000,
                          "enroll_texts_per_hour": 1000}}


class Dialogue:
    """One interactive login: what the user saw and how it ended."""

    def __init__(self):
        self.transcript = ""       # everything the program wrote, without carriage returns
        self.status = None         # exit status (None when killed by a signal)
        self.passwords = 0         # password prompts answered
        self.typed_codes = []      # what was typed at each code prompt
        self.events = []           # (seconds since start, "password"|"code"|"end")

    def seconds_from_last_password_to_end(self):
        passwords = [t for t, kind in self.events if kind == "password"]
        end = [t for t, kind in self.events if kind == "end"]
        return end[-1] - passwords[-1]

    def __repr__(self):
        return (f"Dialogue(status={self.status}, passwords={self.passwords}, "
                f"codes={self.typed_codes}, transcript={self.transcript!r})")


def converse(child, password, codes, timeout=DIALOGUE_TIMEOUT):
    """Answers `child`'s prompts until it ends: each password prompt with `password`, each code
    prompt with the next of `codes` (a list of strings or callables that return one, called
    when the prompt comes, or a single callable for every prompt). A code prompt with no answer
    left is a test failure. Returns a Dialogue."""
    dialogue = Dialogue()
    seen = io.StringIO()
    child.logfile_read = seen
    queue = list(codes) if not callable(codes) else None
    started = time.monotonic()
    deadline = started + timeout
    try:
        for _ in range(MAX_PROMPTS):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the login took over {timeout} s: {seen.getvalue()!r}")
            which = child.expect([PASSWORD_PROMPT, CODE_PROMPT, pexpect.EOF], timeout=left)
            now = time.monotonic() - started
            if which == 0:
                child.sendline(password)
                dialogue.passwords += 1
                dialogue.events.append((now, "password"))
            elif which == 1:
                if queue is not None and not queue:
                    raise AssertionError(f"an unexpected code prompt: {seen.getvalue()!r}")
                answer = codes if queue is None else queue.pop(0)
                text = answer() if callable(answer) else answer
                child.sendline(text)
                dialogue.typed_codes.append(text)
                dialogue.events.append((now, "code"))
            else:
                dialogue.events.append((now, "end"))
                break
        else:
            raise AssertionError(f"more than {MAX_PROMPTS} prompts: {seen.getvalue()!r}")
    except pexpect.TIMEOUT:
        raise AssertionError(f"no prompt and no end within {timeout} s: {seen.getvalue()!r}")
    finally:
        child.close(force=True)
        dialogue.transcript = seen.getvalue().replace("\r", "")
        dialogue.status = child.exitstatus
    return dialogue


class InstalledTestCase(unittest.TestCase):
    """The packages installed and the daemon started for the whole class; each test makes its
    own users, PAM services and servers, removed when it ends."""

    config = {}  # overrides of the daemon's configuration, {"section": {"key": value}}

    @classmethod
    def setUpClass(cls):
        reason = Packages.reason_to_stay_away()
        if reason:
            raise unittest.SkipTest(reason)
        cls.packages = Packages()
        cls.addClassCleanup(cls.packages.purge)
        try:
            cls.packages.install()
        except installed.Skip as e:
            raise unittest.SkipTest(str(e))
        print(f"\n[{cls.__name__}] apt-get install took {cls.packages.install_seconds:.1f} s",
              file=sys.stderr, flush=True)
        cls.syslog = SyslogCapture()
        cls.addClassCleanup(cls.syslog.stop)
        cls.syslog.start()
        config = {}
        for overrides in (LIBERAL_LIMITS, cls.config):
            for section, keys in overrides.items():
                config.setdefault(section, {}).update(keys)
        cls.daemon = InstalledDaemon(config=config, debug=True)
        cls.addClassCleanup(cls.daemon.stop)
        cls.daemon.start()

    def run(self, result=None):
        # On failure, what the daemon and the servers said helps more than the assertion.
        failures_before = len(result.failures) + len(result.errors) if result else 0
        started = time.monotonic()
        outcome = super().run(result)
        print(f"[{self.id()}] {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
        if result and len(result.failures) + len(result.errors) > failures_before:
            daemon = getattr(type(self), "daemon", None)
            if daemon is not None and daemon.dir:
                print(f"\n--- twofactord log ---\n{daemon.daemon_log()[-5000:]}",
                      file=sys.stderr)
            for service, log in getattr(self, "sshd_logs", []):
                print(f"\n--- sshd log ({service}) ---\n{log[-5000:]}", file=sys.stderr)
        return outcome

    def setUp(self):
        self.sshd_logs = []  # (service, log) of each sshd, kept for a failure's report
        if self.daemon.daemon is None:  # a test before this one stopped it
            self.daemon.start_daemon()
        self.syslog_mark = self.syslog.mark()
        self.addCleanup(self.assertNothingSecretLogged)

    # -- what the module logged (pam_syslog, from inside sshd and sudo) --------------------------

    def assertModuleLogged(self, service, user, outcome):
        """The installed module logged `outcome` (its name and PAM code, as pam_twofactor(8)
        lists them) for `user` in the PAM service `service` during this test."""
        if not self.syslog.available:
            print("  (/dev/log belongs to a syslog daemon here: the module's log is not read)",
                  file=sys.stderr)
            return
        pattern = (rf"pam_twofactor\({re.escape(service)}:auth\): user={re.escape(user.name)} "
                   rf".*: {re.escape(outcome)}")
        line = self.syslog.wait_for(pattern, since=self.syslog_mark)
        self.assertIsNotNone(line, f"no log line {pattern!r} in "
                                   f"{self.syslog.lines(self.syslog_mark)!r}")
        return line

    def assertNothingSecretLogged(self):
        """No texted code and no full phone number in anything logged to syslog (the module,
        sshd's PAM stack, sudo) during this test."""
        logged = "\n".join(self.syslog.lines(self.syslog_mark))
        self.assertNotIn(PHONE[2:], logged)
        for message in self.daemon.messages():
            for code in CODE.findall(message["form"].get("Body", "") or ""):
                self.assertNotRegex(logged, rf"(?<![0-9]){code}(?![0-9])")

    # -- users, enrollment, codes ---------------------------------------------------------------

    def new_user(self):
        user = LoginUser()
        user.__enter__()
        self.addCleanup(user.remove)
        return user

    def ctl_ok(self, *args):
        rc, out, err = self.daemon.ctl(*args)
        self.assertEqual(rc, 0, f"twofactorctl {' '.join(args)}: {out!r} {err!r}")
        return out

    def enroll(self, user):
        """Enrolls `user` the way an administrator does: a secret, a setup text, enable with
        the texted code. Returns the secret."""
        rc, reply, err = self.daemon.ctl_json("secret")
        self.assertEqual(rc, 0, err)
        secret = reply["secret"]
        before = len(self.daemon.messages())
        self.ctl_ok("send", "--phone", PHONE, "--secret", secret)
        code = self.texted_code(before)
        out = self.ctl_ok("enable", user.name, "--secret", secret, "--code", code,
                          "--phone", PHONE)
        self.assertIn(MASKED, out)
        return secret

    def texted_code(self, count_before):
        """The code in the one text that arrived after `count_before` texts."""
        messages = self.daemon.wait_for_messages(count_before + 1)
        self.assertEqual(len(messages), count_before + 1, messages)
        self.assertEqual(messages[-1]["form"].get("To"), PHONE)
        codes = CODE.findall(messages[-1]["form"].get("Body", ""))
        self.assertEqual(len(codes), 1, messages[-1])
        return codes[0]

    def last_texted_code(self):
        """The code of the newest text (for a prompt that has just come)."""
        code = self.daemon.last_code()
        self.assertIsNotNone(code, "no text reached the endpoint")
        return code

    def wrong_code(self, secret):
        """A well-formed code that the daemon cannot accept: no texted code, and none of the
        secret's codes around now (an authenticator app's window)."""
        texted = {CODE.findall(m["form"].get("Body", "") or "")[0]
                  for m in self.daemon.messages() if CODE.search(m["form"].get("Body", ""))}
        near = set(harness.totp_window(secret, around=3).values())
        for candidate in ("000000", "111111", "222222", "333333", "444444"):
            if candidate not in texted | near:
                return candidate
        raise AssertionError("no wrong code left to choose")

    # -- sshd -------------------------------------------------------------------------------------

    def sshd(self, pam_lines, users, methods="keyboard-interactive"):
        server = SshServer(pam_lines, [u.name for u in users], methods=methods,
                           prefix="tfe2e-sshd")
        server.__enter__()
        self.addCleanup(server.stop)
        # Runs before stop(), which removes the log with the server's directory.
        self.addCleanup(lambda: self.sshd_logs.append((server.service, server.read_log())))
        return server

    def ssh_login(self, server, user, codes, password=None, identity=None):
        child = server.ssh(user.name, identity=identity)
        return converse(child, user.password if password is None else password, codes)

    def assertLoggedIn(self, dialogue, user):
        self.assertIn(f"LOGGED-IN as {user.name}", dialogue.transcript, dialogue)
        self.assertEqual(dialogue.status, 0, dialogue)

    def assertRefused(self, dialogue):
        self.assertNotIn("LOGGED-IN", dialogue.transcript, dialogue)
        self.assertIn("Permission denied", dialogue.transcript, dialogue)
        self.assertEqual(dialogue.status, 255, dialogue)  # ssh: authentication failed

    def new_key(self):
        """A fresh ed25519 key pair without a passphrase; returns the private key's path."""
        directory = tempfile.mkdtemp(prefix="twofactor-e2e-key-")
        self.addCleanup(shutil.rmtree, directory, True)
        path = os.path.join(directory, "id_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path],
                       check=True, timeout=30)
        return path

    # -- a PAM service and sudoers rules of the test's own ------------------------------------------

    def pam_service(self, lines, prefix="tfe2e-sudo"):
        """A new /etc/pam.d/<name> holding `lines`; removed when the test ends."""
        name = f"{prefix}-{secrets.token_hex(3)}"
        path = os.path.join(PAM_DIR, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        with os.fdopen(fd, "w") as f:
            f.write("# twofactor end-to-end test service, removed when the test ends\n")
            f.write("\n".join(lines) + "\n")
        return name

    def sudoers_rule(self, user, service, extra=()):
        """A drop-in /etc/sudoers.d/<unique>: `user` may run /usr/bin/id as root, through the
        PAM service `service`, asked for credentials every time. Checked with visudo -cf before
        it is put in place; removed when the test ends."""
        name = f"tfe2e-{secrets.token_hex(3)}"  # no dot and no ~: sudo reads the file
        lines = [f"Defaults:{user.name} pam_service={service}",
                 f"Defaults:{user.name} timestamp_timeout=0",
                 f"Defaults:{user.name} !lecture",
                 *extra,
                 f"{user.name} ALL=(root) {ID}"]
        directory = tempfile.mkdtemp(prefix="twofactor-e2e-sudoers-")
        self.addCleanup(shutil.rmtree, directory, True)
        draft = os.path.join(directory, name)
        with open(draft, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(draft, 0o440)
        check = subprocess.run(["visudo", "-cf", draft], capture_output=True, text=True,
                               timeout=30)
        self.assertEqual(check.returncode, 0, f"visudo -cf: {check.stdout}{check.stderr}")
        path = os.path.join(SUDOERS_DIR, name)
        self.assertFalse(os.path.lexists(path))
        self.addCleanup(lambda: os.path.lexists(path) and os.unlink(path))
        # Written under a name sudo skips (it has a dot), then renamed: sudo never reads half.
        partial = os.path.join(SUDOERS_DIR, f".{name}.partial")
        self.addCleanup(lambda: os.path.lexists(partial) and os.unlink(partial))
        shutil.copyfile(draft, partial)
        os.chmod(partial, 0o440)
        os.rename(partial, path)
        return path

    def sudo(self, user, password, codes):
        """`sudo /usr/bin/id -un` typed by `user` on a terminal of its own."""
        entry = pwd.getpwnam(user.name)
        child = pexpect.spawn(
            "setpriv", [f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups",
                        "--", SUDO, ID, "-un"],
            timeout=30, encoding="utf-8", codec_errors="replace",
            env={"PATH": "/usr/bin:/bin", "TERM": "dumb", "HOME": entry.pw_dir,
                 "USER": user.name, "LOGNAME": user.name})
        return converse(child, password, codes)

    def assertRanAsRoot(self, dialogue):
        self.assertRegex(dialogue.transcript, r"(?m)^root$", dialogue)
        self.assertEqual(dialogue.status, 0, dialogue)

    def assertNotRun(self, dialogue):
        self.assertNotRegex(dialogue.transcript, r"(?m)^root$", dialogue)
        self.assertEqual(dialogue.status, 1, dialogue)


def main():
    """unittest.main, but a run in which every test was skipped exits 77 (ctest's
    SKIP_RETURN_CODE) instead of 0."""
    program = unittest.main(verbosity=2, exit=False)
    result = program.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.skipped and result.testsRun <= len(result.skipped):
        sys.exit(77)
    sys.exit(0)

