# SPDX-License-Identifier: BSD-2-Clause
"""`groups=` when a source of the group database is down. glibc's getgrouplist() skips a source
that answers NSS_STATUS_UNAVAIL and reports the groups of the others as if they were all, so a
user whose groups come from a directory (LDAP through nslcd, winbind) that cannot be reached
looks like a user outside groups=. The module must not take that for certain: it asks for the
code and says why in the log.

The source that is down is libnss_tfstub.so.2 (nss_tfstub.c). Each login runs pam_driver in a
mount namespace of its own (`unshare --mount --propagation private`) where an nsswitch.conf of
the test's, with "group: files tfstub", is bound over /etc/nsswitch.conf; LD_LIBRARY_PATH lets
glibc load the stub. Neither the machine's nsswitch.conf nor its library directories change,
and the mount ends with the driver's process."""

import os
import shutil
import secrets
import subprocess
import unittest

import harness
from pam_support import PamTestCase, main

GROUP_PREFIX = "tf_grp_"
NSSWITCH = "/etc/nsswitch.conf"

# Binds $1 over /etc/nsswitch.conf in the new namespace, then becomes the driver.
IN_NAMESPACE = 'mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"'


def nsswitch_with_stub():
    """The machine's nsswitch.conf with its group (and initgroups) line replaced."""
    kept = []
    with open(NSSWITCH) as f:
        for line in f:
            if line.split(":", 1)[0].strip() not in ("group", "initgroups"):
                kept.append(line)
    return "".join(kept) + "group: files tfstub\n"


class GroupSourceDownTests(PamTestCase):

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("mount"):
            raise unittest.SkipTest("needs root, unshare and mount")
        super().setUpClass()
        cls.nsswitch = os.path.join(cls.h.dir, "nsswitch.conf")
        with open(cls.nsswitch, "w") as f:
            f.write(nsswitch_with_stub())
        os.chmod(cls.nsswitch, 0o644)

    def new_group(self):
        name = GROUP_PREFIX + secrets.token_hex(3)
        subprocess.run(["groupadd", name], check=True, capture_output=True, timeout=30)
        self.addCleanup(subprocess.run, ["groupdel", name], capture_output=True, timeout=30)
        return name

    def login_with_stub(self, user, options, **stub_env):
        """A login whose group database is "files tfstub"; stub_env tells the stub what to
        answer (nss_tfstub.c)."""
        wrapper = [shutil.which("unshare"), "--mount", "--propagation", "private", "--",
                   "/bin/sh", "-c", IN_NAMESPACE, "sh", self.nsswitch]
        env = {"LD_LIBRARY_PATH": os.environ["NSS_STUB_DIR"], **stub_env}
        return self.login(user, options, wrapper=wrapper, env=env)

    def assertAskedBecauseUnsure(self, stub_env):
        """An enrolled user in no group of groups= is asked for the code, gets in with it, and
        the log says why the module asked."""
        admins = self.new_group()
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login_with_stub(user, f"groups={admins}", **stub_env)
        # A login that is not asked ends without a prompt: show how, with the module's log.
        if login.expect(r"(prompt: [^\n]*\n|result=\w+\n)").group(1).startswith("result="):
            login.process.wait(timeout=30)
            self.fail(f"not asked for the code: {login.out.seen}"
                      f"{login.process.stderr.read().decode(errors='replace')}")
        login.answer(self.texted_code(before))
        result = login.finish()
        self.assertEqual(result.name, "PAM_SUCCESS", result)
        lines = [line for line in result.log.splitlines() if "group database" in line]
        self.assertEqual(len(lines), 1, result.log)
        self.assertTrue(lines[0].startswith("log: 4 "), lines[0])  # LOG_WARNING
        self.assertIn("cannot tell for certain whether the user is inside groups=", lines[0])
        self.assertIn("asking for the code as for a member", lines[0])
        self.assertNotIn("outside groups", result.log)
        return lines[0]

    def test_a_source_that_is_down_gets_the_code_asked(self):
        line = self.assertAskedBecauseUnsure({})
        self.assertIn("No such file or directory", line)  # the stub's ENOENT, as nslcd's

    def test_a_source_down_without_an_error_number_gets_the_code_asked(self):
        self.assertAskedBecauseUnsure({"TFSTUB_ERRNO": "keep"})

    def test_a_source_that_answers_keeps_an_outsider_outside(self):
        # The same stack with the stub answering "no such group": the user is outside.
        admins = self.new_group()
        user = self.h.create_user()
        self.enroll_texted(user)
        before = len(self.h.messages())
        result = self.login_with_stub(user, f"groups={admins}", TFSTUB_STATUS="notfound").finish()
        self.assertEqual(result.name, "PAM_PERM_DENIED", result)  # PAM_IGNORE alone in the stack
        self.assertIn("outside groups (PAM_IGNORE)", result.log)
        self.assertEqual(result.lines("prompt"), [], result)
        self.assertEqual(len(self.h.messages()), before)
        self.assertNotIn("group database", result.log)

    def test_a_member_is_asked_whatever_the_source_says(self):
        admins = self.new_group()
        user = self.h.create_user()
        result = harness._run_retrying_on_lock(["usermod", "-a", "-G", admins, user])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.enroll_texted(user)
        before = len(self.h.messages())
        login = self.login_with_stub(user, f"groups={admins}")
        login.prompt()
        login.answer(self.texted_code(before))
        result = login.finish()
        self.assertEqual(result.name, "PAM_SUCCESS", result)
        self.assertNotIn("group database", result.log)  # no doubt to report: a member


if __name__ == "__main__":
    main()
