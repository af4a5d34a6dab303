# SPDX-License-Identifier: BSD-2-Clause
"""Issue 11 through real libpam: `groups=` decides who gets a second factor (Duo's semantics),
every refusal asks libpam for pam_unix's 2 s failure delay, and recovery codes work once at
the prompt."""

import secrets
import subprocess

import harness
from pam_support import PamTestCase, main, wrong_code

GROUP_PREFIX = "tf_grp_"


class GroupsTests(PamTestCase):

    def new_group(self):
        name = GROUP_PREFIX + secrets.token_hex(3)
        subprocess.run(["groupadd", name], check=True, capture_output=True, timeout=30)
        self.addCleanup(subprocess.run, ["groupdel", name], capture_output=True, timeout=30)
        return name

    def join(self, user, group):
        result = harness._run_retrying_on_lock(["usermod", "-a", "-G", group, user])
        self.assertEqual(result.returncode, 0, result.stderr)

    def assertIgnored(self, user, options):
        """The module answers PAM_IGNORE: alone in the stack, libpam then denies (it is never
        PAM_SUCCESS); followed by pam_permit, pam_permit decides. No prompt either time."""
        alone = self.login(user, options).finish()
        self.assertResult(alone, "PAM_PERM_DENIED")
        self.assertIn("outside groups (PAM_IGNORE)", alone.log)
        with_permit = self.login(user, options, stack_after=["auth required pam_permit.so"])
        result = with_permit.finish()
        self.assertResult(result, "PAM_SUCCESS")
        for each in (alone, result):
            self.assertEqual(each.lines("prompt"), [])
        return alone

    def test_a_user_outside_the_groups_is_ignored_and_not_texted(self):
        admins = self.new_group()
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        result = self.assertIgnored(user, f"groups={admins},!nobody-at-all")
        self.assertEqual(len(self.h.messages()), before)
        lines = [line for line in result.log.splitlines() if "outside groups" in line]
        self.assertEqual(len(lines), 1, result.log)
        self.assertTrue(lines[0].startswith("log: 7 "), lines[0])  # LOG_DEBUG
        lines = [line for line in result.log.splitlines() if "outside groups" in line]
        self.assertEqual(len(lines), 1, result.log)
        self.assertTrue(lines[0].startswith("log: 7 "), lines[0])  # LOG_DEBUG

    def test_a_member_is_asked_for_the_code(self):
        admins = self.new_group()
        user = self.h.create_user()
        self.join(user, admins)
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user, f"groups={admins[:-2]}*")
        login.prompt()
        login.answer(self.texted_code(before))
        self.assertResult(login.finish(), "PAM_SUCCESS")

    def test_a_negated_group_excludes_a_member(self):
        admins, contractors = self.new_group(), self.new_group()
        user = self.h.create_user()
        self.join(user, admins)
        self.join(user, contractors)
        self.enroll_texted(user)
        before = len(self.h.messages())
        self.assertIgnored(user, f"groups={admins},!{contractors}")
        self.assertEqual(len(self.h.messages()), before)

    def test_an_unenrolled_outsider_is_ignored_without_nullok(self):
        user = self.h.create_user()
        self.assertIgnored(user, f"groups={self.new_group()}")

    def test_negations_only_are_logged(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        result = self.assertIgnored(user, "groups=!wheel")
        self.assertIn("only negated patterns", result.log)


class FailDelayTests(PamTestCase):

    @staticmethod
    def delays(result):
        return [int(value) for value in result.lines("delay")]

    def test_a_refused_code_asks_for_two_seconds(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user, "tries=3")
        code = None
        for _ in range(3):
            login.prompt()
            code = code or self.texted_code(before)
            login.answer(wrong_code(code))
        result = login.finish()
        self.assertResult(result, "PAM_MAXTRIES")
        # libpam spreads the 2 s request over [1 s, 3 s]; without a request there is no line.
        [delay] = self.delays(result)
        self.assertGreaterEqual(delay, 1_000_000, result)
        self.assertLessEqual(delay, 3_000_000, result)

    def test_a_right_code_asks_for_none(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login(user)
        login.prompt()
        login.answer(self.texted_code(before))
        result = login.finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertEqual(self.delays(result), [], result)


class RecoveryCodeTests(PamTestCase):

    def enroll_with_codes(self, user):
        secret = self.enroll_texted(user)
        rc, reply, err = self.h.ctl_json("recovery-codes", user)
        self.assertEqual(rc, 0, err)
        return secret, reply["recoveryCodes"]

    def login_with(self, user, typed):
        login = self.login(user)
        login.prompt()
        login.answer(typed)
        return login

    def test_a_recovery_code_gets_in_once(self):
        user = self.h.create_user()
        _, codes = self.enroll_with_codes(user)
        result = self.login_with(user, codes[2].lower()).finish()
        self.assertResult(result, "PAM_SUCCESS")
        self.assertIn("You used a recovery code; 9 are left.", result.lines("info"))
        self.assertIn("a recovery code was used", result.log)

        login = self.login_with(user, codes[2])
        login.expect(r"error: That code is wrong; 2 tries left\.\n")
        login.kill()

    def test_new_codes_kill_the_old_at_the_prompt(self):
        user = self.h.create_user()
        _, old = self.enroll_with_codes(user)
        rc, reply, err = self.h.ctl_json("recovery-codes", user)
        self.assertEqual(rc, 0, err)
        login = self.login_with(user, old[0])
        login.expect(r"error: That code is wrong; 2 tries left\.\n")
        login.prompt()
        login.answer(reply["recoveryCodes"][0])
        self.assertResult(login.finish(), "PAM_SUCCESS")

    def test_something_else_is_not_sent(self):
        user = self.h.create_user()
        self.enroll_with_codes(user)
        login = self.login_with(user, "ABCDE-2345")  # one symbol short
        login.expect(r"error: A code is 6 digits\.\n")
        login.kill()


if __name__ == "__main__":
    main()
