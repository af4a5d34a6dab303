# SPDX-License-Identifier: BSD-2-Clause
"""What the PAM module's integration tests share: a run of the module through real libpam
(pam_driver), enrollment through twofactorctl, and a harness per test class."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import harness  # noqa: E402  (the path above first)
from harness import Expect, Harness, binary, totp  # noqa: E402,F401

PHONE = "+15555555555"
MASKED = "***-***-5555"
SERVICE = "twofactor-test"
RHOST = "203.0.113.7"
TTY = "pts/7"
CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")

# Linux-PAM's return codes, as the driver's exit status.
PAM_CODES = {"PAM_SUCCESS": 0, "PAM_SERVICE_ERR": 3, "PAM_PERM_DENIED": 6, "PAM_AUTH_ERR": 7,
             "PAM_AUTHINFO_UNAVAIL": 9, "PAM_USER_UNKNOWN": 10, "PAM_MAXTRIES": 11,
             "PAM_CONV_ERR": 19, "PAM_IGNORE": 25}

# Generous text limits: the tests send many texts quickly.
LIBERAL_LIMITS = {"sms": {"user_texts_per_hour": 1000, "texts_per_minute": 1000,
                          "enroll_texts_per_hour": 1000}}


def merged(*configs):
    result = {}
    for config in configs:
        for section, keys in config.items():
            result.setdefault(section, {}).update(keys)
    return result


def wrong_code(*avoid):
    """A well-formed code that is none of `avoid`."""
    for candidate in ("000000", "111111", "222222", "333333"):
        if candidate not in avoid:
            return candidate
    raise AssertionError("unreachable")


class Result:
    def __init__(self, name, status, transcript, log):
        self.name = name            # "PAM_SUCCESS", ...
        self.status = status        # the driver's exit status: the PAM code
        self.transcript = transcript  # what the user saw, one "kind: text" line each
        self.log = log              # the module's pam_syslog lines ("log: PRIORITY TEXT")

    def lines(self, kind):
        prefix = kind + ": "
        return [line[len(prefix):] for line in self.transcript.splitlines()
                if line.startswith(prefix)]

    def __repr__(self):
        return f"Result({self.name}, {self.status})\n{self.transcript}\n{self.log}"


class Login:
    """One pam_authenticate() through libpam and pam_twofactor.so, answered prompt by prompt."""

    def __init__(self, workdir, user, socket_path, options="", stack_after=(), rhost=RHOST,
                 tty=TTY, silent=False, fake_account=False, service=SERVICE, wrapper=(),
                 env=None):
        """fake_account: `user` is no system account; the driver answers NSS for it.
        wrapper: a command to run the driver under; the driver's command line is appended.
        env: more environment variables for the driver."""
        self.confdir = tempfile.mkdtemp(prefix="pam.d-", dir=workdir)
        lines = [f"auth required {binary('PAM_MODULE')} socket={socket_path} {options}".rstrip()]
        lines.extend(stack_after)
        with open(os.path.join(self.confdir, service), "w") as f:
            f.write("\n".join(lines) + "\n")
        command = [*wrapper, binary("PAM_DRIVER"), "--confdir", self.confdir, "--service",
                   service, "--user", user]
        if rhost:
            command += ["--rhost", rhost]
        if tty:
            command += ["--tty", tty]
        if silent:
            command.append("--silent")
        env = dict(os.environ, **(env or {}))
        if fake_account:
            env["PAM_DRIVER_ACCOUNT"] = user
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, bufsize=0, env=env,
                                        preexec_fn=harness._die_with_parent)
        self.out = Expect(self.process.stdout.fileno())
        self.started = time.monotonic()

    def expect(self, pattern, timeout=30.0):
        return self.out.expect(pattern, timeout)

    def prompt(self, timeout=30.0):
        """Waits for the next prompt; returns its text."""
        return self.expect(r"prompt(?:-echo)?: ([^\n]*)\n", timeout).group(1)

    def answer(self, text):
        self.process.stdin.write((text + "\n").encode())
        self.process.stdin.flush()

    def finish(self, timeout=60.0):
        """Ends the input, waits for the result line and the exit."""
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        name = self.expect(r"result=(\w+)\n", timeout).group(1)
        status = self.process.wait(timeout=timeout)
        log = self.process.stderr.read().decode(errors="replace")
        self.process.stderr.close()
        self.process.stdout.close()
        shutil.rmtree(self.confdir, ignore_errors=True)
        return Result(name, status, self.out.seen, log)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass


class PamTestCase(unittest.TestCase):
    """One daemon and endpoint for the whole class; each test works on its own new users."""

    config = {}
    harness_options = {}  # more keyword arguments for Harness (endpoint_tls)

    @classmethod
    def setUpClass(cls):
        cls.h = Harness(config=merged(LIBERAL_LIMITS, cls.config), **cls.harness_options)
        cls.h.__enter__()
        cls.addClassCleanup(cls.h.stop)

    def run(self, result=None):
        # On failure the daemon's log says what the daemon thought; print it with the failure.
        failures_before = len(result.failures) + len(result.errors) if result else 0
        outcome = super().run(result)
        if result and len(result.failures) + len(result.errors) > failures_before:
            print(f"\n--- twofactord log ({self.id()}) ---\n{self.h.daemon_log()[-6000:]}",
                  file=sys.stderr)
        return outcome

    # -- the module ---------------------------------------------------------------------------

    def login(self, user, options="", socket_path=None, **kw):
        started = Login(self.h.dir, user, socket_path or self.h.socket_path, options, **kw)
        self.addCleanup(started.kill)
        return started

    def assertResult(self, result, name):
        self.assertEqual(result.name, name, result)
        self.assertEqual(result.status, PAM_CODES[name], result)

    def assertNothingSecretLogged(self, result, *codes):
        for code in codes:
            if code:
                self.assertNotIn(code, result.log)
        self.assertNotIn(PHONE[2:], result.log)  # the full number, with or without +1

    # -- twofactorctl and the endpoint --------------------------------------------------------

    def ctl_ok(self, *args):
        rc, out, err = self.h.ctl(*args)
        self.assertEqual(rc, 0, f"twofactorctl {' '.join(args)}: {out!r} {err!r}")
        return out

    def new_secret(self):
        rc, reply, err = self.h.ctl_json("secret")
        self.assertEqual(rc, 0, err)
        return reply["secret"]

    def code_in(self, message):
        codes = CODE.findall(message["form"].get("Body", ""))
        self.assertEqual(len(codes), 1, message)
        return codes[0]

    def enroll_texted(self, user):
        """Secret, a setup text, enable with its code. Returns the secret."""
        secret = self.new_secret()
        before = len(self.h.messages())
        self.ctl_ok("send", "--phone", PHONE, "--secret", secret)
        messages = self.h.wait_for_messages(before + 1)
        self.ctl_ok("enable", user, "--secret", secret, "--code", self.code_in(messages[-1]),
                    "--phone", PHONE)
        return secret

    def enroll_app(self, user):
        """Delivery None: the user types an authenticator app's code. Returns the secret."""
        harness.wait_for_step_start(margin=10)
        secret = self.new_secret()
        self.ctl_ok("enable", user, "--delivery", "None", "--secret", secret, "--code",
                    totp(secret))
        return secret

    def texted_code(self, count_before):
        """The code of the one text that arrived after `count_before` texts."""
        messages = self.h.wait_for_messages(count_before + 1)
        self.assertEqual(len(messages), count_before + 1, messages)
        return self.code_in(messages[-1])


def main():
    unittest.main(verbosity=2)
