# SPDX-License-Identifier: BSD-2-Clause
"""Issue 22: two hosts (two twofactord on one PostgreSQL) take their texts from one budget: the
texts of a number prefix and of the day counted on either host hold on both."""

import unittest

from fleet_support import Database, cluster_state, start_hosts

PREFIX_BUDGET = 5
DAY_BUDGET = 12
SECRET = "F" * 24


class FleetSmsBudgetTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.state = cluster_state()
        cls.db = Database(cls.state)
        cls.addClassCleanup(cls.db.close)
        cls.a, cls.b = start_hosts(cls.db, config={
            "sms": {"texts_per_day": DAY_BUDGET, "texts_per_prefix_per_day": PREFIX_BUDGET}})
        cls.addClassCleanup(cls.a.stop)
        cls.addClassCleanup(cls.b.stop)

    def send(self, h, number):
        rc, out, err = h.ctl("send", "--phone", number, "--secret", SECRET)
        self.assertIn(rc, (0, 1), f"{out} {err}")
        if rc == 1:
            self.assertIn("try again", err.lower() + out.lower(), f"{out} {err}")
        return rc == 0

    def texted(self):
        return [m for h in (self.a, self.b) for m in h.messages() if m["status"] == 201]

    def test_both_hosts_share_the_prefix_and_the_day_budget(self):
        # One prefix, asked of A and B in turn: the prefix budget holds for both together.
        sent = [self.send((self.a, self.b)[i % 2], f"+1202555{i:04d}") for i in range(12)]
        self.assertEqual(sent.count(True), PREFIX_BUDGET, sent)
        self.assertTrue(any(m["form"]["To"].startswith("+1202555") for m in self.a.messages()))
        self.assertTrue(any(m["form"]["To"].startswith("+1202555") for m in self.b.messages()))
        # Other prefixes, until the day's budget is spent on both hosts.
        more = [self.send((self.b, self.a)[i % 2], f"+1{303 + i}5550100") for i in range(10)]
        self.assertEqual(more.count(True), DAY_BUDGET - PREFIX_BUDGET, more)
        self.assertEqual(len(self.texted()), DAY_BUDGET)
        log = self.a.daemon_log() + self.b.daemon_log()
        self.assertIn("budget=prefix prefix=+1202555", log)
        self.assertIn("budget=day", log)
        rc, out, err = self.b.ctl("status")
        self.assertEqual(rc, 0, err)
        self.assertIn(f"texts today: {DAY_BUDGET} of {DAY_BUDGET}", out)
        print(f"\n{len(sent) + len(more)} setup texts over two hosts: {len(self.texted())} sent"
              f"\n{out}")


if __name__ == "__main__":
    unittest.main()
