# SPDX-License-Identifier: BSD-2-Clause
"""Issue 3: the daemon cannot be reached: no socket, a socket that never answers (within
`timeout`), a socket whose accept queue is full (the daemon is busy), and a socket served by a
uid that is neither root nor the daemon's user, under failmode=secure and failmode=safe."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from pam_support import Login, PAM_CODES, harness, main

USER = "nobody"  # an account NSS knows (the module checks); the daemon is never asked

IMPOSTOR = r"""
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(8)
print("listening", flush=True)
s.settimeout(1.0)
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        conn, _ = s.accept()
    except socket.timeout:
        continue
    conn.recv(65536)
    conn.sendall(b'{"parameters":{"twoFactorId":"x","delivery":"None"}}\0')
"""


class UnavailableTests(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="twofactor-pam-down-")
        os.chmod(self.dir, 0o755)
        self.addCleanup(shutil.rmtree, self.dir, True)

    def run_login(self, socket_path, options):
        login = Login(self.dir, USER, socket_path, options)
        self.addCleanup(login.kill)
        started = time.monotonic()
        result = login.finish(timeout=30)
        return result, time.monotonic() - started

    def check(self, result, name):
        self.assertEqual(result.name, name, result)
        self.assertEqual(result.status, PAM_CODES[name], result)
        self.assertEqual(result.lines("prompt"), [], result)

    def test_no_daemon_failmode_secure(self):
        result, _ = self.run_login(os.path.join(self.dir, "missing"), "")
        self.check(result, "PAM_AUTHINFO_UNAVAIL")
        self.assertEqual(result.lines("error"), [
            "The two-factor service is not answering, so you cannot log in now; please try "
            "again later."])
        self.assertIn("log: 3 ", result.log)
        self.assertIn("daemon unreachable, failmode=secure (PAM_AUTHINFO_UNAVAIL)", result.log)

    def test_no_daemon_failmode_safe(self):
        result, _ = self.run_login(os.path.join(self.dir, "missing"), "failmode=safe")
        self.check(result, "PAM_SUCCESS")
        self.assertEqual(result.lines("error"), [
            "The two-factor service is not answering; you are let in without a code."])
        loud = [line for line in result.log.splitlines() if line.startswith("log: 3 ")]
        self.assertTrue(any("letting the user in because failmode=safe" in line
                            for line in loud), result.log)

    def silent_listener(self):
        # Accepts connections (the kernel does, from the backlog) and never answers.
        path = os.path.join(self.dir, "silent")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(8)
        self.addCleanup(listener.close)
        return path

    def test_silent_daemon_times_out_failmode_secure(self):
        result, took = self.run_login(self.silent_listener(), "timeout=1")
        self.check(result, "PAM_AUTHINFO_UNAVAIL")
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 10)
        self.assertIn("timed out", result.log)

    def test_silent_daemon_times_out_failmode_safe(self):
        result, took = self.run_login(self.silent_listener(), "timeout=2 failmode=safe")
        self.check(result, "PAM_SUCCESS")
        self.assertGreaterEqual(took, 1.9)
        self.assertLess(took, 10)

    def full_listener(self):
        """A socket nobody accepts on, whose accept queue is full: connect() on it fails with
        EAGAIN, as on a daemon too busy to accept. Returns the path and the listening socket."""
        path = os.path.join(self.dir, "busy")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(0)  # Linux queues backlog + 1 connections on a Unix socket
        self.addCleanup(listener.close)
        for _ in range(16):
            waiting = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.addCleanup(waiting.close)
            waiting.setblocking(False)
            try:
                waiting.connect(path)
            except BlockingIOError:
                return path, listener
        self.fail("the accept queue never filled up")

    def test_full_accept_queue_is_a_busy_daemon_not_an_impostor(self):
        path, _ = self.full_listener()
        result, took = self.run_login(path, "timeout=2 failmode=safe")
        self.check(result, "PAM_SUCCESS")  # unreachable, so failmode=safe applies
        self.assertNotIn("is served by uid", result.log)
        self.assertIn("timed out connecting", result.log)
        self.assertIn("letting the user in because failmode=safe", result.log)
        self.assertGreaterEqual(took, 1.9)  # it waited for a free slot, within the timeout
        self.assertLess(took, 10)

    def test_full_accept_queue_failmode_secure(self):
        path, _ = self.full_listener()
        result, took = self.run_login(path, "timeout=1")
        self.check(result, "PAM_AUTHINFO_UNAVAIL")
        self.assertIn("daemon unreachable, failmode=secure (PAM_AUTHINFO_UNAVAIL)", result.log)
        self.assertIn("timed out connecting", result.log)
        self.assertGreaterEqual(took, 0.9)

    def test_a_slot_freed_within_the_timeout_is_taken(self):
        # The daemon accepts again after a second: the module, still waiting, gets in and has
        # its answer (here: not enrolled) well within its timeout.
        path, listener = self.full_listener()
        stop = threading.Event()
        self.addCleanup(stop.set)

        def accept_late():
            if stop.wait(1.0):
                return
            listener.settimeout(1.0)
            for _ in range(20):  # the queued connection first, then the module's
                if stop.is_set():
                    return
                try:
                    conn, _ = listener.accept()
                except (socket.timeout, OSError):
                    continue
                with conn:
                    conn.settimeout(1.0)
                    try:
                        if conn.recv(65536):
                            conn.sendall(b'{"error":"io.twofactor.NotEnrolled","parameters":{}}\0')
                    except OSError:
                        pass

        thread = threading.Thread(target=accept_late, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 30)
        result, took = self.run_login(path, "timeout=20")
        self.assertEqual(result.name, "PAM_USER_UNKNOWN", result)
        self.assertIn("not enrolled (PAM_USER_UNKNOWN)", result.log)
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 15)

    def test_socket_of_another_uid_is_refused_even_with_failmode_safe(self):
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root and setpriv to run a listener as nobody")
        nobody = pwd.getpwnam("nobody")
        directory = os.path.join(self.dir, "impostor")
        os.mkdir(directory)
        os.chown(directory, nobody.pw_uid, nobody.pw_gid)
        path = os.path.join(directory, "socket")
        impostor = subprocess.Popen(
            ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
             "--clear-groups", "--", harness.PYTHON, "-c", IMPOSTOR, path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=harness._die_with_parent)
        self.addCleanup(impostor.wait, 10)
        self.addCleanup(impostor.kill)
        self.addCleanup(impostor.stdout.close)
        self.addCleanup(impostor.stderr.close)
        self.assertEqual(impostor.stdout.readline().strip(), b"listening")
        self.assertEqual(os.stat(path).st_uid, nobody.pw_uid)

        result, _ = self.run_login(path, "failmode=safe")
        self.check(result, "PAM_AUTHINFO_UNAVAIL")
        self.assertIn(f"is served by uid {nobody.pw_uid}, not root or the daemon's user",
                      result.log)
        self.assertNotIn("letting the user in", result.log)


if __name__ == "__main__":
    main()
