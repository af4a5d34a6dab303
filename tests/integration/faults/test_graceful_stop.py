# SPDX-License-Identifier: BSD-2-Clause
"""SIGTERM (systemctl stop, an upgrade, a server of a fleet taken out) fails no call in flight:
the daemon stops accepting, answers the calls it has begun, closes each connection once its
answer is written, and only then exits. A login whose Begin is waiting for Twilio when the signal
comes gets its prompt, and its code works on the next daemon (the challenge is stored)."""

import signal
import time

from faults_support import MODULE_TIMEOUT, FaultTestCase, main

TWILIO_DELAY_MS = 2000  # Begin waits this long for Twilio's answer
STOP_BOUND = 10.0  # seconds: the daemon exits this soon after its last call is answered


class GracefulStopTest(FaultTestCase):

    def stop_while_begin_waits(self):
        """Starts a login whose text takes TWILIO_DELAY_MS, sends SIGTERM while Begin waits,
        and returns (login, seconds from the signal to the daemon's exit)."""
        user = self.enrolled_user()
        self.user = user
        self.h.behave(delay_ms=TWILIO_DELAY_MS)
        log_before = len(self.h.daemon_log())
        login = self.login(user, f"timeout={MODULE_TIMEOUT}")
        # Begin is in flight once the daemon has asked Twilio.
        deadline = time.monotonic() + 10
        while "sending a text" not in self.h.daemon_log()[log_before:]:
            self.assertLess(time.monotonic(), deadline, "Begin never reached Twilio")
            time.sleep(0.02)
        daemon = self.h.daemon
        signalled = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        return login, daemon, signalled

    def test_a_begin_in_flight_is_answered_before_the_daemon_exits(self):
        login, daemon, signalled = self.stop_while_begin_waits()
        # The prompt comes: Begin was answered with its challenge, not cut off.
        login.prompt(timeout=MODULE_TIMEOUT)
        status = daemon.wait(timeout=STOP_BOUND + TWILIO_DELAY_MS / 1000)
        stopped_after = time.monotonic() - signalled
        print(f"\nSIGTERM with a Begin waiting for Twilio: answered, exited {status} "
              f"{stopped_after:.2f} s after the signal")
        self.assertEqual(status, 0)
        self.assertNotIn("stopping with calls still in flight", self.h.daemon_log())
        # The next daemon completes the login with the code the stopped one texted.
        self.h.daemon = None
        self.h.start_daemon()
        accepted = [m for m in self.h.messages() if m["status"] == 201]
        self.assertEqual(len(accepted), 1, accepted)
        login.answer(self.code_in(accepted[-1]))
        self.assertResult(login.finish(timeout=MODULE_TIMEOUT), "PAM_SUCCESS")

    def test_an_idle_daemon_exits_at_once(self):
        daemon = self.h.daemon
        signalled = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        status = daemon.wait(timeout=STOP_BOUND)
        self.assertEqual(status, 0)
        self.assertLess(time.monotonic() - signalled, 2.0)
        self.h.daemon = None
        self.h.start_daemon()


if __name__ == "__main__":
    main()
