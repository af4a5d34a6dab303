# SPDX-License-Identifier: BSD-2-Clause
"""The daemon's log as evidence, and the audit trail.

Forged lines: a newline or other control character in PAM_RHOST, PAM_TTY, the service or a
caller's ipAddress is escaped, so no caller writes a line of its own into the log. The audit
trail: enabling, disabling, a lockout and an unlock each log one line with the event and the
user (and, for a lockout, the remote host and the service), as the fields USER=, RHOST=,
SERVICE= and TWOFACTOR_EVENT= in the journal and event=, user=, rhost=, service= on stderr."""

import re

from security_support import (LIBERAL_LIMITS, SecurityTestCase, error_of, main, merged,
                              require_root, totp, wrong_code)

FORGED = "twofactord: notice: two-factor login succeeded user=root ip=198.51.100.1"


@require_root
class AuditLogTest(SecurityTestCase):
    config = merged(LIBERAL_LIMITS, {"lockout": {"failures": 3}})

    def log_since(self, offset):
        return self.h.daemon_log()[offset:]

    def line_with(self, log, *parts):
        for line in log.splitlines():
            if all(part in line for part in parts):
                return line
        self.fail(f"no line with {parts} in:\n{log[-3000:]}")

    def test_control_characters_in_logged_fields_are_escaped(self):
        user = self.h.create_user()
        self.enable_texted_quietly(user)
        offset = len(self.h.daemon_log())
        reply = self.wire("Begin", {"user": user, "ipAddress": "203.0.113.5\n" + FORGED,
                                    "service": "sshd\r" + FORGED, "tty": "pts/1\x1b[2J\x07"})
        self.assertIsNone(error_of(reply), reply)
        two_factor_id = reply["parameters"]["twoFactorId"]
        reply = self.wire("Complete", {"twoFactorId": two_factor_id, "code": wrong_code(),
                                       "ipAddress": "203.0.113.5\n" + FORGED})
        self.assertEqual(error_of(reply), "InvalidCode", reply)
        log = self.log_since(offset)
        for line in log.splitlines():
            self.assertFalse(line.startswith(FORGED), f"a forged line: {line!r}")
        self.assertNotIn("\r", log)
        self.assertNotIn("\x1b", log)
        self.assertNotIn("\x07", log)
        self.line_with(log, "two-factor challenge started", "203.0.113.5\\x0a" + FORGED,
                       "sshd\\x0d", "pts/1\\x1b[2J\\x07")
        self.line_with(log, "wrong two-factor code", "203.0.113.5\\x0a" + FORGED)

    def test_changes_locks_and_unlocks_are_audit_events(self):
        user = self.h.create_user()
        offset = len(self.h.daemon_log())
        secret = self.new_secret()
        self.ok("enable", user, "--delivery", "None", "--secret", secret, "--code", totp(secret))
        for _ in range(3):
            reply = self.wire("Begin", {"user": user, "ipAddress": "203.0.113.7",
                                        "service": "sshd", "tty": "ssh"})
            if error_of(reply) == "Locked":
                break
            reply = self.wire("Complete", {"twoFactorId": reply["parameters"]["twoFactorId"],
                                           "code": wrong_code(*[totp(secret, offset=o)
                                                                for o in (-1, 0, 1)]),
                                           "ipAddress": "203.0.113.7"})
        self.assertIs(self.status(user)["locked"], True)
        self.ok("unlock", user)
        self.ok("disable", user)
        log = self.log_since(offset)
        self.line_with(log, "event=enable", f"user={user}")
        lockout = self.line_with(log, "event=lockout", f"user={user}")
        self.assertRegex(lockout, r"\brhost=203\.0\.113\.7\b")
        self.assertRegex(lockout, r"\bservice=sshd\b")
        self.line_with(log, "event=unlock", f"user={user}")
        self.line_with(log, "event=disable", f"user={user}")
        events = re.findall(rf"event=(\w+)[^\n]*user={re.escape(user)}\b", log)
        self.assertEqual(events, ["enable", "lockout", "unlock", "disable"], log[-3000:])


if __name__ == "__main__":
    main()
