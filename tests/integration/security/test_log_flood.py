# SPDX-License-Identifier: BSD-2-Clause
"""A local user cannot flood the log or start challenges without end.

Lines a non-root caller causes (surplus connections, malformed messages, challenges begun) are
limited per uid: past the budget they are held back, and one line says that they are. And a
user's challenges are limited per minute, whatever the delivery: an app user who may call Begin
as often as they like no longer can."""

import time

from security_support import (LIBERAL_LIMITS, SecurityTestCase, call, closed_by_peer, connect_as,
                              error_of, ids_of, main, merged, require_root)

PER_UID = 4
BUDGET = 20  # [daemon] log_lines_per_uid
SURPLUS = 150


@require_root
class LogFloodTest(SecurityTestCase):
    config = merged(LIBERAL_LIMITS, {"daemon": {"max_connections_per_uid": PER_UID,
                                                "log_lines_per_uid": BUDGET},
                                     "login": {"challenges_per_minute": 5}})

    def test_surplus_connections_log_a_bounded_number_of_lines(self):
        user = self.h.create_user()
        uid, gid = ids_of(user)
        offset = len(self.h.daemon_log())
        held = [connect_as(self.h.socket_path, uid, gid) for _ in range(PER_UID)]
        try:
            for s in held:  # each is admitted: it answers
                self.assertIsNotNone(call(s, "GenerateSecret"))
            started = time.monotonic()
            refused = 0
            for _ in range(SURPLUS):
                with connect_as(self.h.socket_path, uid, gid) as s:
                    refused += closed_by_peer(s, 5.0)
            self.assertEqual(refused, SURPLUS)
        finally:
            for s in held:
                s.close()
        self.assertServes()
        log = self.h.daemon_log()[offset:]
        lines = [line for line in log.splitlines() if "refusing a connection" in line]
        print(f"\nlog flood: {SURPLUS} surplus connections in {time.monotonic() - started:.1f} s "
              f"logged {len(lines)} lines")
        self.assertLessEqual(len(lines), BUDGET, log[-2000:])
        self.assertGreater(len(lines), 0)
        self.assertIn(f"holding back further log lines caused by uid {uid}", log)

    def test_challenges_per_user_per_minute_are_limited(self):
        user = self.h.create_user()
        self.enroll_app(user)
        answers = [self.wire("Begin", {"user": user}, as_user=user) for _ in range(8)]
        errors = [error_of(reply) for reply in answers]
        self.assertEqual(errors[:5], [None] * 5, answers)
        self.assertEqual(errors[5:], ["RateLimited"] * 3, answers)
        retry = answers[-1]["parameters"]["retryAfter"]
        self.assertTrue(0 < retry <= 60, answers[-1])
        # Another user is not held back by it.
        other = self.h.create_user()
        self.enroll_app(other)
        self.assertIsNone(error_of(self.wire("Begin", {"user": other})))


if __name__ == "__main__":
    main()
