# SPDX-License-Identifier: BSD-2-Clause
"""Issue 6: 500 simultaneous PAM logins (500 processes, each pam_start_confdir, pam_authenticate,
pam_end through pam_twofactor.so) while the endpoint answers each text after 150 ms.

Every login must succeed, and none may wait behind another's text: one after another they
would take at least 500 x 150 ms = 75 s; together they must end in well under 30 s. The
processes are forked first and let go at once by the benchmark's harness (tests/bench/pam_bench),
which reads each user's texted code from the endpoint's codes directory. The distribution of
the time to the prompt is printed.

The daemon's connection limits are raised for the burst (root is one uid, and 500 processes
connect at once), and so are the text limits."""

import os
import sys
import unittest

sys.path.insert(0, os.environ.get("BENCH_DIR", os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench")))

from bench_rig import Rig, make_users  # noqa: E402

LOGINS = 500
DELAY_MS = 150
WALL_LIMIT = 30.0
CONFIG = {
    "daemon": {"max_connections": 2048, "max_connections_per_uid": 2048},
    "sms": {"texts_per_minute": 100000, "user_texts_per_hour": 1000},
}


class ConcurrentLogins(unittest.TestCase):

    def test_500_simultaneous_logins_do_not_queue_behind_each_others_texts(self):
        with Rig(delay_ms=DELAY_MS, config=CONFIG) as rig:
            users = make_users("tf_burst_", LOGINS, texted=True)
            rig.enroll(users, "TextMessage")
            report = rig.run("twofactor", users, processes=LOGINS, source="text",
                             label="500 simultaneous logins", time_limit=120)
            texts = rig.h.messages()
            memory = rig.daemon_memory()
            alive = rig.h.daemon.poll() is None
            log = rig.h.daemon_log()

        arrivals = sorted(t["time"] for t in texts)
        spread = arrivals[-1] - arrivals[0] if arrivals else 0.0
        prompt, login = report["prompt_ms"], report["login_ms"]
        summary = (f"{report['succeeded']}/{report['logins']} logins in "
                   f"{report['wall_seconds']:.2f} s ({report['logins_per_second']:.0f}/s); "
                   f"time to prompt ms p50 {prompt['p50']} p90 {prompt['p90']} p99 "
                   f"{prompt['p99']} max {prompt['max']}; whole login ms p50 {login['p50']} "
                   f"p99 {login['p99']} max {login['max']}; {len(texts)} texts reached the "
                   f"endpoint within {spread:.2f} s; daemon VmHWM {memory['VmHWM'] / 1024:.1f} "
                   f"MiB; load {report['load_before']:.2f} -> {report['load_after']:.2f}")
        print("\n" + summary)
        self.assertTrue(alive, "twofactord died")
        self.assertEqual(report["failures"], {}, f"{summary}\n{report['failure_samples']}")
        self.assertEqual(report["succeeded"], LOGINS, summary)
        self.assertEqual(len(texts), LOGINS, summary)
        self.assertEqual(sorted(t["form"]["To"] for t in texts), sorted(u.phone for u in users))
        self.assertTrue(all(t["status"] == 201 for t in texts), summary)
        # Every login saw its prompt only after its text was answered: the delay is real.
        self.assertEqual(prompt["count"], LOGINS, summary)
        self.assertGreaterEqual(min(prompt["p50"], prompt["p99"]), DELAY_MS, summary)
        # One after another: at least 75 s. Together: far less.
        self.assertLess(report["wall_seconds"], WALL_LIMIT, summary)
        self.assertNotIn("refusing a connection", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
