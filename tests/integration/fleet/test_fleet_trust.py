# SPDX-License-Identifier: BSD-2-Clause
"""Trusts in a fleet: hosts A and B (two twofactord with their own sockets, Twilio endpoints and
`[trust] host_id`) share one PostgreSQL database and one key.

- a trust made through the module on A is honoured on A and not on B, for sudo's origin (a
  terminal name every host has) and for an RHOST alike;
- a trust row written with psql as the twofactord role (the database password, not the key) is
  not honoured, and the daemon says so in its log, once; a trust made by a code still works."""

import os
import re
import subprocess
import time
import unittest

from fleet_support import (LIBERAL_LIMITS, Database, Harness, Login, cluster_state, code_for,
                           enroll_quietly, merged, phone_for)
from pam_support import SERVICE
import pg_cluster

TRUST = "timeout=30 trust=600"
TTY = "/dev/pts/0"
RHOST = "203.0.113.9"


class FleetTrustTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.state = cluster_state()
        cls.db = Database(cls.state)
        cls.addClassCleanup(cls.db.close)
        cls.a = cls.start_host("host-a")
        cls.b = cls.start_host("host-b", key_file=cls.a.key_path)
        cls.next_phone = 300

    @classmethod
    def start_host(cls, host_id, key_file=None):
        extra = {"trust": {"host_id": host_id}}
        if key_file:
            extra["daemon"] = {"key_file": key_file}
        h = Harness(config=merged(LIBERAL_LIMITS, cls.db.config(), extra))
        h.__enter__()
        cls.addClassCleanup(h.stop)
        return h

    def new_user(self):
        FleetTrustTest.next_phone += 1
        return self.a.create_user(), phone_for(FleetTrustTest.next_phone)

    def start_login(self, h, user, **where):
        login = Login(h.dir, user, h.socket_path, TRUST, **where)
        self.addCleanup(login.kill)
        return login

    def login_with_code(self, h, user, phone, **where):
        """A login on `h` that must be asked for the code; answers the one `h` texted."""
        login = self.start_login(h, user, **where)
        self.assertEqual(login.prompt(), "Verification code: ",
                         f"no code asked on {h.config_sections()['trust']['host_id']}")
        login.answer(code_for(h, phone))
        result = login.finish()
        self.assertEqual(result.name, "PAM_SUCCESS", result)

    def trusted_login(self, h, user, **where):
        result = self.start_login(h, user, **where).finish()
        self.assertEqual(result.name, "PAM_SUCCESS", result)
        self.assertEqual(result.lines("prompt"), [], result)
        self.assertRegex(result.log, r": trusted \(PAM_SUCCESS\)")

    def test_a_trust_made_on_a_is_not_honoured_on_b(self):
        user, phone = self.new_user()
        enroll_quietly(self, self.a, user, phone)
        for where in ({"rhost": None, "tty": TTY}, {"rhost": RHOST}):
            with self.subTest(**where):
                self.login_with_code(self.a, user, phone, **where)
                self.trusted_login(self.a, user, **where)
                # The same user, service and origin on B: the code, as if no trust existed.
                self.login_with_code(self.b, user, phone, **where)
                # B's login made B's own trust; A's is still there.
                self.trusted_login(self.b, user, **where)
                self.trusted_login(self.a, user, **where)
        rc, status, err = self.b.ctl_json("status", user)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted((t["origin"], t.get("host")) for t in status["trusts"]),
                         sorted((origin, host) for origin in (RHOST, "tty:" + TTY)
                                for host in ("host-a", "host-b")), status)

    def role_sql(self, statement):
        """Runs `statement` as the twofactord role, with its password and nothing else."""
        conninfo = (f"host={self.state['host']} port={self.state['port']} user=twofactord "
                    f"dbname={self.db.name}")
        env = dict(os.environ, PGPASSWORD=self.state["password"])
        subprocess.run([f"{pg_cluster.BIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                        conninfo, "-c", statement], check=True, timeout=60, capture_output=True,
                       text=True, env=env)

    def forged_lines(self, h, user):
        return [line for line in h.daemon_log().splitlines()
                if "trust ignored" in line and user in line]

    def test_a_trust_row_written_without_the_key_is_not_honoured(self):
        user, phone = self.new_user()
        enroll_quietly(self, self.a, user, phone)
        now = int(time.time())
        self.role_sql("INSERT INTO trusts (user_name, service, origin, host, created_at, "
                      f"expires_at) VALUES ('{user}', '{SERVICE}', 'tty:{TTY}', 'host-a', "
                      f"{now}, {now + 600})")
        where = {"rhost": None, "tty": TTY}
        self.login_with_code(self.a, user, phone, **where)
        lines = self.forged_lines(self.a, user)
        self.assertEqual(len(lines), 1, self.a.daemon_log())
        self.assertRegex(lines[0], re.escape(f"tty:{TTY}"))
        # The code made a trust of the key's own, which replaced the forged row.
        self.trusted_login(self.a, user, **where)
        # A forged row again, after a genuine one was read: refused again, logged once more.
        self.role_sql(f"UPDATE trusts SET expires_at = expires_at + 86400 WHERE user_name = "
                      f"'{user}'")
        self.login_with_code(self.a, user, phone, **where)
        self.login_with_code(self.a, user, phone, rhost=RHOST)
        self.role_sql(f"UPDATE trusts SET host = 'host-b' WHERE user_name = '{user}' AND "
                      f"origin = '{RHOST}'")
        self.login_with_code(self.b, user, phone, rhost=RHOST)
        self.assertEqual(len(self.forged_lines(self.a, user)), 2, self.a.daemon_log())
        self.assertEqual(len(self.forged_lines(self.b, user)), 1, self.b.daemon_log())


if __name__ == "__main__":
    unittest.main()
