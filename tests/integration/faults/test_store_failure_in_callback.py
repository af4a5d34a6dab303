# SPDX-License-Identifier: BSD-2-Clause
"""A store failure while Twilio answers is an answer, never silence. The database is locked by
another writer (longer than the daemon's 5 s busy timeout) while a login's text or Verify's
verification is on its way, so the daemon's handling of Twilio's answer fails in the store.
Every call must still get exactly one answer before the module stops waiting, the answer must be
a refusal even under failmode=safe (a challenge exists and a text went out), and the daemon's end
of the connection must be gone once the module has its answer."""

import sqlite3
import subprocess
import threading
import time

import harness
from faults_support import FaultTestCase, main
from test_twilio_verify import VerifyTestCase

MODULE_OPTIONS = "timeout=10 failmode=safe"
# Twilio answers after TWILIO_DELAY_MS; the daemon's store then waits its 5 s busy timeout and
# fails while the lock is still held (until LOCK_SECONDS), before the module's 10 s are up.
TWILIO_DELAY_MS = 1000
LOCK_SECONDS = 12


class DatabaseLock:
    """Holds the write lock of the daemon's SQLite database from another connection, as a
    backup job or a second writer would, for `seconds`."""

    def __init__(self, path, seconds):
        self.path = path
        self.seconds = seconds
        self.taken = threading.Event()
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self):
        connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            self.taken.set()
            time.sleep(self.seconds)
            connection.execute("ROLLBACK")
        finally:
            connection.close()

    def __enter__(self):
        self.thread.start()
        if not self.taken.wait(10):
            raise AssertionError("could not take the database's write lock")
        return self

    def __exit__(self, *exc):
        self.thread.join(self.seconds + 10)


def daemon_connections(socket_path):
    """The connections open on the daemon's socket (ss counts both ends of each)."""
    out = subprocess.run(["ss", "-x", "-H", "src", socket_path], capture_output=True, text=True,
                         check=True).stdout
    return [line for line in out.splitlines() if line.strip()]


class StoreFailureCase:
    """Mixed into a FaultTestCase: the assertions both cases share."""

    def assertRefusedInTime(self, result, elapsed):
        self.assertNotEqual(result.name, "PAM_SUCCESS", result)
        self.assertNotIn("letting the user in because failmode=safe", result.log)
        # The daemon's answer (InternalError), not the module's own timeout, ended the wait.
        self.assertIn("Begin: the daemon failed", result.log)
        self.assertNotIn("timed out", result.log)
        # Within the module's timeout, plus the failure delay libpam adds to a refusal (2 s,
        # up to a quarter more).
        self.assertLess(elapsed, 10.0 + 2.5, result)

    def assertNoConnectionKept(self):
        self.assertTrue(harness.wait_until(lambda: daemon_connections(self.h.socket_path) == [],
                                           timeout=5.0),
                        daemon_connections(self.h.socket_path))


class StoreFailsWhileTheTextIsOnItsWay(FaultTestCase, StoreFailureCase):

    def test_locked_database_after_a_refused_text_is_a_refusal(self):
        # Twilio refuses the number (21211) after 1 s; the daemon must then mark the challenge
        # as holding no texted code, and the database is locked.
        user = self.enrolled_user()
        self.h.behave(status=400, code=21211, message="Invalid 'To' Phone Number",
                      delay_ms=TWILIO_DELAY_MS, times=1)
        login = self.login(user, MODULE_OPTIONS)
        self.assertTrue(harness.wait_until(lambda: len(self.h.messages()) == 1, timeout=10.0))
        with DatabaseLock(self.h.database_path, LOCK_SECONDS):
            result = login.finish(timeout=30)
            elapsed = time.monotonic() - login.started
        self.assertRefusedInTime(result, elapsed)
        self.assertIn("database failure", self.h.daemon_log())
        self.assertNoConnectionKept()


class StoreFailsWhileVerifyStarts(VerifyTestCase, StoreFailureCase):

    def test_locked_database_while_verify_approves_the_start_is_a_refusal(self):
        # Verify takes the verification after 1 s; the daemon must then record the challenge's
        # step, and the database is locked.
        user = self.enrolled_user()
        self.h.behave(delay_ms=TWILIO_DELAY_MS, times=1)
        login = self.login(user, MODULE_OPTIONS)
        self.assertTrue(harness.wait_until(lambda: len(self.verify_requests()) == 1,
                                           timeout=10.0))
        with DatabaseLock(self.h.database_path, LOCK_SECONDS):
            result = login.finish(timeout=30)
            elapsed = time.monotonic() - login.started
        self.assertRefusedInTime(result, elapsed)
        self.assertNoConnectionKept()


if __name__ == "__main__":
    main()
