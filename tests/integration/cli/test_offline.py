# SPDX-License-Identifier: BSD-2-Clause
"""twofactorctl without a working daemon: usage errors (exit 2, the daemon never contacted),
an unreachable or silent daemon (exit 69), and argv hygiene."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import binary, run_as, wait_until  # noqa: E402

SECRET = "8MJJfCY4ERBtotvenSc3"


class Listener:
    """A Unix socket that accepts connections and never answers: it records who came."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.held = []

    def connections(self):
        """Accepts what is queued; returns how many connections came in all."""
        while True:
            try:
                connection, _ = self.sock.accept()
            except BlockingIOError:
                return len(self.held)
            self.held.append(connection)

    def close(self):
        for connection in self.held:
            connection.close()
        self.sock.close()


class OfflineTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="twofactorctl-test-")
        self.addCleanup(lambda: __import__("shutil").rmtree(self.dir, ignore_errors=True))
        self.socket_path = os.path.join(self.dir, "socket")
        self.ctl_path = binary("TWOFACTORCTL")

    def ctl(self, *args, socket_path=None, input=None, timeout=30):
        path = self.socket_path if socket_path is None else socket_path
        return run_as([self.ctl_path, "--socket", path, *args], input=input, timeout=timeout)

    def test_usage_errors_exit_2_before_contacting_the_daemon(self):
        listener = Listener(self.socket_path)
        self.addCleanup(listener.close)
        cases = [
            (),
            ("frobnicate",),
            ("--frobnicate", "status"),
            ("-x", "status"),
            ("status", "alice", "bob"),
            ("secret", "extra"),
            ("disable",),
            ("unlock",),
            ("login",),
            ("login", "alice", "--code", "123456"),
            ("send",),
            ("send", "--phone", "+15555555555"),
            ("send", "--secret", SECRET),
            ("send", "--two-factor-id", "X", "--phone", "+15555555555"),
            ("enable", "alice", "--secret", SECRET),
            ("enable", "alice", "--code", "123456", "--phone", "+15555555555"),
            ("enable", "alice", "--secret", SECRET, "--code", "123456"),
            ("enable", "alice", "--secret", SECRET, "--code", "1", "--delivery", "Sms",
             "--phone", "+15555555555"),
            ("enable", "alice", "--secret", SECRET, "--code", "1", "--delivery", "None",
             "--phone", "+15555555555"),
            ("enable", "alice", "--secret", SECRET, "--code", "1", "--code", "2", "--phone", "1"),
            ("complete", "--code", "123456"),
            ("complete", "--two-factor-id", "X"),
            ("complete", "--two-factor-id", "X", "--code"),
            ("complete", "--two-factor-id=", "--code", "1"),
            ("enroll", "alice", "bob"),
            ("enroll", "--delivery", "None", "--phone", "+15555555555"),
            ("--timeout", "abc", "status"),
            ("--timeout", "0", "status"),
            ("--timeout", "-3", "status"),
            ("--json=yes", "status"),
        ]
        for args in cases:
            with self.subTest(args=args):
                rc, out, err = self.ctl(*args)
                self.assertEqual(rc, 2, f"{args}: {out!r} {err!r}")
                self.assertEqual(out, "")
                self.assertRegex(err, r"^twofactorctl: .+\n")
                self.assertIn("--help", err)
                self.assertEqual(listener.connections(), 0, f"{args} contacted the daemon")

    def test_empty_stdin_for_a_dash_value_is_a_usage_error(self):
        listener = Listener(self.socket_path)
        self.addCleanup(listener.close)
        rc, _, err = self.ctl("complete", "--two-factor-id", "X", "--code", "-", input="")
        self.assertEqual(rc, 2, err)
        self.assertIn("standard input", err)
        self.assertEqual(listener.connections(), 0)

    def test_help_and_version(self):
        for args in (("--help",), ("-h",), ("status", "--help")):
            with self.subTest(args=args):
                rc, out, err = self.ctl(*args)
                self.assertEqual(rc, 0, err)
                self.assertIn("Usage: twofactorctl", out)
                for command in ("secret", "send", "enable", "disable", "status", "unlock",
                                "login", "complete", "enroll"):
                    self.assertIn(command, out)
        rc, out, err = self.ctl("--version")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^twofactorctl \d+\.\d+\.\d+\n$")

    def test_missing_socket_exits_69(self):
        for args in (("secret",), ("status", "root"), ("--json", "status", "root")):
            with self.subTest(args=args):
                rc, out, err = self.ctl(*args)
                self.assertEqual(rc, 69, (out, err))
                self.assertIn("cannot reach twofactord", err)
                self.assertIn(self.socket_path, err)

    def test_socket_nobody_listens_on_exits_69(self):
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(self.socket_path)
        stale.close()  # the file stays, as after a kill -9
        rc, out, err = self.ctl("secret")
        self.assertEqual(rc, 69, (out, err))

    def test_silent_daemon_times_out_with_69(self):
        listener = Listener(self.socket_path)
        self.addCleanup(listener.close)
        started = time.monotonic()
        rc, out, err = self.ctl("--timeout", "1", "secret")
        elapsed = time.monotonic() - started
        self.assertEqual(rc, 69, (out, err))
        self.assertIn("timed out", err)
        self.assertLess(elapsed, 10)
        self.assertEqual(listener.connections(), 1)

    def test_secret_and_code_vanish_from_the_command_line(self):
        listener = Listener(self.socket_path)
        self.addCleanup(listener.close)
        code = "914263"
        process = subprocess.Popen(
            [self.ctl_path, "--socket", self.socket_path, "--timeout", "20", "enable", "alice",
             "--secret", SECRET, "--code=" + code, "--phone", "+15555555555"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(process.wait, 30)
        self.addCleanup(process.kill)
        # Once it connects, parsing (and wiping) is over; it then waits for an answer.
        self.assertTrue(wait_until(listener.connections, timeout=10), "it never connected")
        with open(f"/proc/{process.pid}/cmdline", "rb") as f:
            cmdline = f.read().decode(errors="replace")
        self.assertIn("alice", cmdline)
        self.assertIn("+15555555555", cmdline)
        self.assertNotIn(SECRET, cmdline)
        self.assertNotIn(code, cmdline)
        self.assertIsNone(process.poll())
        self.assertFalse(re.search(r"[0-9]{6}", cmdline.replace("15555555555", "")), cmdline)


if __name__ == "__main__":
    unittest.main(verbosity=2)
