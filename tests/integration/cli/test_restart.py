# SPDX-License-Identifier: BSD-2-Clause
"""Issue 2, line 6: enrollments, used steps and failure counts survive a restart and kill -9."""

import time

from cli_support import MASKED, CliTestCase, main, totp, wrong_code
from harness import wait_for_step_start


class RestartTest(CliTestCase):
    def check_state_survives(self, kill9):
        texted_user = self.h.create_user()
        app_user = self.h.create_user()
        self.enroll_texted(texted_user)
        # Enable used this step's code; log in with the next step's, which stays acceptable
        # (current ±1) for the rest of the test, so only the record of its use can refuse it.
        wait_for_step_start(margin=20)
        secret = self.new_secret()
        self.ok("enable", app_user, "--delivery", "None", "--secret", secret, "--code",
                totp(secret))
        used_at = time.time()
        used_code = totp(secret, used_at, 1)
        two_factor_id, _ = self.login(app_user)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", used_code)

        two_factor_id, code = self.login(texted_user)
        self.refused("complete", "--two-factor-id", two_factor_id, "--code", wrong_code(code))
        self.assertEqual(self.status(texted_user)["failures"], 1)

        self.h.restart_daemon(kill9=kill9)

        status = self.status(texted_user)
        self.assertIs(status["enabled"], True)
        self.assertEqual(status["delivery"], "TextMessage")
        self.assertEqual(status["mobilePhone"], MASKED)
        self.assertEqual(status["failures"], 1)
        self.assertIs(self.status(app_user)["enabled"], True)

        two_factor_id, _ = self.login(app_user)
        self.assertLess(time.time() - used_at, 25, "too slow: the replayed step left the window")
        parameters = self.refused_json("complete", "--two-factor-id", two_factor_id, "--code",
                                       used_code, error="InvalidCode")
        self.assertIn("attemptsLeft", parameters)

        # The key survived too: the stored secret still decrypts and texted logins work.
        two_factor_id, code = self.login(texted_user)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", code)
        self.assertEqual(self.status(texted_user)["failures"], 0)

    def test_state_survives_a_restart(self):
        self.check_state_survives(kill9=False)

    def test_state_survives_kill_9(self):
        self.check_state_survives(kill9=True)

    def test_log_holds_no_secret_code_or_number(self):
        user = self.h.create_user()
        secret = self.enroll_texted(user)
        two_factor_id, code = self.login(user)
        self.ok("complete", "--two-factor-id", two_factor_id, "--code", code)
        log = self.h.daemon_log()
        self.assertIn(user, log, "the log seems empty; this test would prove nothing")
        for needle in (secret, code, "5555555555", self.h.auth_token):
            self.assertNotIn(needle, log)


if __name__ == "__main__":
    main()
