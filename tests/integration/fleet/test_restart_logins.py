# SPDX-License-Identifier: BSD-2-Clause
"""No login lost to a restart. Twenty logins wait at the prompt (their codes texted)
while twofactord is killed with SIGKILL, and again with SIGTERM, and started again on the same
store; then every one of them types its code and gets in. The store is SQLite or PostgreSQL,
as $FLEET_BACKEND says (`sqlite`, the default, or `postgresql`)."""

import os
import unittest

from fleet_support import (Database, Harness, LIBERAL_LIMITS, Login, cluster_state, code_for,
                           enroll_quietly, merged, phone_for)

LOGINS = 20
BACKEND = os.environ.get("FLEET_BACKEND", "sqlite")


class RestartLosesNoLogin(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        config = dict(LIBERAL_LIMITS)
        if BACKEND == "postgresql":
            cls.db = Database(cluster_state())
            cls.addClassCleanup(cls.db.close)
            config = merged(config, cls.db.config())
        cls.h = Harness(config=config)
        cls.h.__enter__()
        cls.addClassCleanup(cls.h.stop)
        cls.users = []
        for i in range(LOGINS):
            user, phone = cls.h.create_user(), phone_for(2000 + i)
            enroll_quietly(cls._probe(), cls.h, user, phone)
            cls.users.append((user, phone))

    @classmethod
    def _probe(cls):
        # enroll_quietly asserts through a TestCase; any instance will do.
        return cls("test_kill_9")

    def logins_survive(self, kill9):
        self.h.reset_endpoint()
        waiting = []
        for user, phone in self.users:
            login = Login(self.h.dir, user, self.h.socket_path, "timeout=30")
            self.addCleanup(login.kill)
            waiting.append((login, phone))
        for login, _ in waiting:
            login.prompt()
        codes = [code_for(self.h, phone) for _, phone in waiting]

        self.h.restart_daemon(kill9=kill9)

        for (login, _), code in zip(waiting, codes):
            login.answer(code)
        results = [login.finish() for login, _ in waiting]
        names = [r.name for r in results]
        self.assertEqual(names, ["PAM_SUCCESS"] * LOGINS,
                         "\n".join(repr(r) for r in results if r.name != "PAM_SUCCESS"))

    def test_kill_9(self):
        self.logins_survive(kill9=True)

    def test_sigterm(self):
        self.logins_survive(kill9=False)


if __name__ == "__main__":
    unittest.main(verbosity=2)
