# SPDX-License-Identifier: BSD-2-Clause
"""PostgreSQL stopped during logins. This test stops and starts a cluster, so it runs
its own (about a second to make) instead of the one the other tests share.

While the server is down, a login waiting at its prompt and new logins are refused within the
module's timeout (failmode=secure: PAM_AUTHINFO_UNAVAIL), twofactorctl exits 69, and the daemon
stays up; once the server is back, the next login works without restarting the daemon."""

import json
import os
import tempfile
import time
import unittest

from fleet_support import (Database, Harness, LIBERAL_LIMITS, Login, code_for, enroll_quietly,
                           merged, pg_cluster, phone_for)

MODULE_TIMEOUT = 10


class StoreOutage(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        state_dir = tempfile.mkdtemp(prefix="twofactor-outage-")
        cls.addClassCleanup(os.rmdir, state_dir)
        cls.state_file = os.path.join(state_dir, "pg.json")
        pg_cluster.start(cls.state_file)
        cls.addClassCleanup(pg_cluster.stop, cls.state_file)
        with open(cls.state_file) as f:
            cls.state = json.load(f)
        cls.db = Database(cls.state)
        cls.addClassCleanup(cls.db.close)
        cls.h = Harness(config=merged(LIBERAL_LIMITS, cls.db.config(),
                                      {"store": {"timeout": 5}}))
        cls.h.__enter__()
        cls.addClassCleanup(cls.h.stop)

    def login(self, user):
        login = Login(self.h.dir, user, self.h.socket_path,
                      f"timeout={MODULE_TIMEOUT} failmode=secure")
        self.addCleanup(login.kill)
        return login

    def test_refused_while_down_and_working_again_without_a_restart(self):
        user, phone = self.h.create_user(), phone_for(3001)
        enroll_quietly(self, self.h, user, phone)
        waiting = self.login(user)
        waiting.prompt()
        code = code_for(self.h, phone)

        pg_cluster.pg_ctl(self.state, "stop")
        try:
            waiting.answer(code)
            result = waiting.finish()
            elapsed = time.monotonic() - waiting.started
            self.assertEqual(result.name, "PAM_AUTHINFO_UNAVAIL", result)
            self.assertLess(elapsed, MODULE_TIMEOUT + 5, result)

            for _ in range(3):
                started = time.monotonic()
                result = self.login(user).finish()
                self.assertEqual(result.name, "PAM_AUTHINFO_UNAVAIL", result)
                self.assertLess(time.monotonic() - started, MODULE_TIMEOUT, result)
            rc, out, err = self.h.ctl("status", user)
            self.assertEqual(rc, 69, f"{out} {err}")
            self.assertIsNone(self.h.daemon.poll(), "twofactord died while the store was down")
        finally:
            pg_cluster.pg_ctl(self.state, "start")

        # The waiting login's code was never used and its step may come again: take the new text.
        self.h.reset_endpoint()
        login = self.login(user)
        login.prompt()
        login.answer(code_for(self.h, phone))
        result = login.finish()
        self.assertEqual(result.name, "PAM_SUCCESS", result)
        self.assertIsNone(self.h.daemon.poll())
        self.assertIn("the store is unavailable", self.h.daemon_log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
