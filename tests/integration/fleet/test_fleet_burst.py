# SPDX-License-Identifier: BSD-2-Clause
"""2 daemons x 32 processes logging in at once, sharing one PostgreSQL database.

On each host 32 pam_twofactor.so logins start together: 16 users answer a texted code (each
host texts its own users), and 16 users answer an authenticator code on BOTH hosts at the same
moment, the same code. No login may be lost (every texted login gets in) and none doubly
accepted (of each pair racing with one code exactly one gets in). Each daemon has its default
four store threads and connections, so its logins also race each other."""

import unittest

from fleet_support import (Database, Login, cluster_state, code_for, enroll_quietly, phone_for,
                           start_hosts, totp, wait_for_step_start)

PER_HOST = 32
RACERS = 16
TEXTED_PER_HOST = PER_HOST - RACERS
CONFIG = {"daemon": {"max_connections": 512, "max_connections_per_uid": 512},
          "sms": {"texts_per_minute": 100000, "user_texts_per_hour": 1000}}


class FleetBurst(unittest.TestCase):

    def test_two_daemons_32_processes_each(self):
        db = Database(cluster_state())
        self.addCleanup(db.close)
        a, b = start_hosts(db, config=CONFIG)
        self.addCleanup(a.stop)
        self.addCleanup(b.stop)

        # System users: the module asks NSS about each (removed when host A's harness stops).
        racers = [a.create_user() for _ in range(RACERS)]
        secrets = {u: enroll_quietly(self, a, u) for u in racers}
        texted = {a: [], b: []}
        for host_index, h in enumerate((a, b)):
            for i in range(TEXTED_PER_HOST):
                index = 4000 + host_index * 100 + i
                user, phone = a.create_user(), phone_for(index)
                enroll_quietly(self, a, user, phone)
                texted[h].append((user, phone))

        wait_for_step_start(margin=20)
        logins = []  # (host, user, kind, Login)
        for h in (a, b):
            for user in racers:
                logins.append((h, user, "race",
                               Login(h.dir, user, h.socket_path, "timeout=30 tries=1")))
            for user, phone in texted[h]:
                logins.append((h, user, phone, Login(h.dir, user, h.socket_path, "timeout=30")))
        for entry in logins:
            self.addCleanup(entry[3].kill)
        for h, user, kind, login in logins:
            login.prompt(timeout=60)
        # The racers' enrollment used the current step: they answer the next one's code, which
        # the ±1 window accepts, one code per user for both hosts.
        race_codes = {u: totp(secrets[u], offset=1) for u in racers}
        answers = [race_codes[user] if kind == "race" else code_for(h, kind)
                   for h, user, kind, login in logins]
        for (h, user, kind, login), answer in zip(logins, answers):
            login.answer(answer)
        results = [(h, user, kind, login.finish(timeout=60)) for h, user, kind, login in logins]

        texted_results = [r.name for h, user, kind, r in results if kind != "race"]
        self.assertEqual(texted_results, ["PAM_SUCCESS"] * (2 * TEXTED_PER_HOST),
                         [repr(r) for _, _, kind, r in results
                          if kind != "race" and r.name != "PAM_SUCCESS"])
        for user in racers:
            outcomes = [r for h, u, kind, r in results if u == user]
            names = sorted(r.name for r in outcomes)
            self.assertEqual(names.count("PAM_SUCCESS"), 1, outcomes)
            self.assertIn(names[0], ("PAM_AUTH_ERR", "PAM_MAXTRIES"), outcomes)
        self.assertIsNone(a.daemon.poll())
        self.assertIsNone(b.daemon.poll())
        # More connections than one per daemon served the burst, and no more than four each.
        out = db.sql("SELECT count(*) FROM pg_stat_activity "
                     "WHERE application_name = 'twofactord' AND datname = current_database()")
        connections = int(next(line for line in out.split() if line.isdigit()))
        self.assertGreater(connections, 2)
        self.assertLessEqual(connections, 8)


if __name__ == "__main__":
    unittest.main(verbosity=2)
