# SPDX-License-Identifier: BSD-2-Clause
"""Two hosts, A and B (two twofactord with their own sockets and Twilio endpoints),
sharing one PostgreSQL database and one key.

- enrolled on A, the user logs in through the PAM module on B with the code B texted; the same
  code replayed on A is refused;
- ten wrong codes, alternating between A and B, lock the user on both; `unlock` on B unlocks A;
- `twofactord --import-sqlite` twice: the first copies (and prints the counts), the second
  copies nothing, and B sees what was imported."""

import json
import subprocess
import unittest

from fleet_support import (Database, Harness, Login, cluster_state, code_for, enroll_quietly,
                           phone_for, start_hosts, totp)
from harness import binary

RHOST = "203.0.113.9"


class FleetTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.state = cluster_state()
        cls.db = Database(cls.state)
        cls.addClassCleanup(cls.db.close)
        cls.a, cls.b = start_hosts(cls.db, config={"login": {"tries": 5},
                                                   "lockout": {"failures": 10}})
        cls.addClassCleanup(cls.a.stop)
        cls.addClassCleanup(cls.b.stop)
        cls.next_phone = 100

    def new_user(self, prefix=None):
        """A system user (the module asks NSS about it) and a phone number of its own; with a
        prefix, only a name (twofactorctl needs no account)."""
        FleetTest.next_phone += 1
        name = f"{prefix}{FleetTest.next_phone}" if prefix else self.a.create_user()
        return name, phone_for(FleetTest.next_phone)

    def pam_login(self, h, user, code=None, options="timeout=30"):
        """A PAM login on host `h`; answers `code`, or the code `h` texted. Returns the result."""
        login = Login(h.dir, user, h.socket_path, options, rhost=RHOST)
        self.addCleanup(login.kill)
        login.prompt()
        login.answer(code)
        return login.finish()

    def ctl_login(self, h, user):
        rc, reply, err = h.ctl_json("login", user)
        self.assertEqual(rc, 0, err)
        return reply["twoFactorId"]

    def test_enrolled_on_a_logs_in_on_b_and_the_code_is_refused_on_a(self):
        user, phone = self.new_user()
        enroll_quietly(self, self.a, user, phone)
        login = Login(self.b.dir, user, self.b.socket_path, "timeout=30", rhost=RHOST)
        self.addCleanup(login.kill)
        login.prompt()
        code = code_for(self.b, phone)
        self.assertEqual([m for m in self.a.messages() if m["form"]["To"] == phone], [],
                         "host A texted for a login on B")
        login.answer(code)
        result = login.finish()
        self.assertEqual(result.name, "PAM_SUCCESS", result)

        # The same code on A: the step was used on B, in the shared database.
        two_factor_id = self.ctl_login(self.a, user)
        rc, out, err = self.a.ctl("complete", "--two-factor-id", two_factor_id, "--code", code)
        self.assertEqual(rc, 1, f"{out} {err}")
        self.assertIn("invalid code", err.lower())
        # And through the module on A, with one try.
        result = self.pam_login(self.a, user, code, options="timeout=30 tries=1")
        self.assertIn(result.name, ("PAM_AUTH_ERR", "PAM_MAXTRIES"), result)
        self.assertTrue(any("wrong" in line for line in result.lines("error")), result)

    def test_a_challenge_begun_on_a_is_completed_on_b(self):
        user, phone = self.new_user()
        enroll_quietly(self, self.a, user, phone)
        two_factor_id = self.ctl_login(self.a, user)
        code = code_for(self.a, phone)
        rc, out, err = self.b.ctl("complete", "--two-factor-id", two_factor_id, "--code", code)
        self.assertEqual(rc, 0, f"{out} {err}")
        rc, out, err = self.a.ctl("complete", "--two-factor-id", two_factor_id, "--code", code)
        self.assertEqual(rc, 1, f"{out} {err}")

    def test_wrong_codes_on_both_hosts_lock_on_both_and_unlock_on_b_frees_a(self):
        user, phone = self.new_user()
        secret = enroll_quietly(self, self.a, user, phone)
        wrong = next(c for c in ("000000", "111111", "222222", "333333")
                     if c not in {totp(secret, offset=k) for k in (-1, 0, 1, 2)})
        answers = []
        for i in range(10):
            h = self.a if i % 2 == 0 else self.b
            two_factor_id = self.ctl_login(h, user)
            rc, reply, err = h.ctl_json("complete", "--two-factor-id", two_factor_id,
                                        "--code", wrong)
            answers.append(reply.get("error") if isinstance(reply, dict) else err)
        self.assertEqual(answers[:9], ["io.twofactor.InvalidCode"] * 9, answers)
        self.assertEqual(answers[9], "io.twofactor.Locked", answers)
        for h in (self.a, self.b):
            rc, status, err = h.ctl_json("status", user)
            self.assertEqual(rc, 0, err)
            self.assertTrue(status["locked"], status)
            self.assertEqual(status["failures"], 10, status)
            rc, reply, err = h.ctl_json("login", user)
            self.assertEqual(reply.get("error"), "io.twofactor.Locked", reply)

        rc, out, err = self.b.ctl("unlock", user)
        self.assertEqual(rc, 0, f"{out} {err}")
        rc, status, err = self.a.ctl_json("status", user)
        self.assertFalse(status["locked"], status)
        login = Login(self.a.dir, user, self.a.socket_path, "timeout=30", rhost=RHOST)
        self.addCleanup(login.kill)
        login.prompt()
        login.answer(code_for(self.a, phone))
        result = login.finish()
        self.assertEqual(result.name, "PAM_SUCCESS", result)

    def test_import_from_sqlite_twice(self):
        # A single host with its own SQLite database, sealed with the fleet's key.
        single = Harness(config={"daemon": {"key_file": self.a.key_path}})
        single.start_daemon = lambda: None  # started below, once the empty database exists
        single.__enter__()
        self.addCleanup(single.stop)
        open(single.database_path, "w").close()  # the deliberate fresh start (twofactord(8))
        Harness.start_daemon(single)
        users, phones = [], {}
        for i in range(3):
            # The second logs in through the module, which asks NSS: a system user.
            user, phone = self.new_user(None if i == 1 else "tf_single_")
            enroll_quietly(self, single, user, phone)
            users.append(user)
            phones[user] = phone
        locked_user, trusted_user = users[0], users[1]
        # A login through the module with trust=: the trust it leaves is copied too.
        login = Login(single.dir, trusted_user, single.socket_path, "timeout=30 trust=600",
                      rhost=RHOST)
        self.addCleanup(login.kill)
        login.prompt()
        login.answer(code_for(single, phones[trusted_user]))
        self.assertEqual(login.finish().name, "PAM_SUCCESS")
        for _ in range(2):
            two_factor_id = json.loads(single.ctl("login", locked_user, "--json")[1])["twoFactorId"]
            single.ctl("complete", "--two-factor-id", two_factor_id, "--code", "000000")
        single.stop_daemon()

        command = [binary("TWOFACTORD"), "--config", self.a.config_path, "--import-sqlite",
                   single.database_path]
        first = subprocess.run(command, capture_output=True, text=True, timeout=60)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("enrollments: 3 copied, 0 already there", first.stdout)
        self.assertIn("used steps: 4 copied, 0 already there", first.stdout)
        self.assertIn("failure counts and lockouts: 1 copied, 0 already there", first.stdout)
        self.assertIn("trusts: 1 copied, 0 already there", first.stdout)
        second = subprocess.run(command, capture_output=True, text=True, timeout=60)
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertIn("enrollments: 0 copied, 3 already there", second.stdout)
        self.assertIn("used steps: 0 copied, 4 already there", second.stdout)
        self.assertIn("failure counts and lockouts: 0 copied, 1 already there", second.stdout)
        self.assertIn("trusts: 0 copied, 1 already there", second.stdout)

        for user in users:
            rc, status, err = self.b.ctl_json("status", user)
            self.assertEqual(rc, 0, err)
            self.assertTrue(status["enabled"], status)
        rc, status, err = self.b.ctl_json("status", locked_user)
        self.assertEqual(status["failures"], 2, status)
        rc, status, err = self.b.ctl_json("status", trusted_user)
        self.assertEqual([t["origin"] for t in status["trusts"]], [RHOST], status)


if __name__ == "__main__":
    unittest.main(verbosity=2)
