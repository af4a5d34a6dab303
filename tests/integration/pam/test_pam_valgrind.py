# SPDX-License-Identifier: BSD-2-Clause
"""Issue 3: pamtester (its own libpam conversation, reading the code from stdin) under
libpam_wrapper and valgrind: a full login through pam_twofactor.so with no definite leak and
no invalid memory access."""

import os
import shutil
import subprocess
import tempfile
import unittest

from pam_support import PamTestCase, binary, main, wrong_code

PAM_WRAPPER = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so"
SERVICE = "twofactor-valgrind"
VALGRIND = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
            "--error-exitcode=99", "--num-callers=30"]


@unittest.skipUnless(shutil.which("valgrind"), "valgrind is not installed")
@unittest.skipUnless(shutil.which("pamtester"), "pamtester is not installed")
@unittest.skipUnless(os.path.exists(PAM_WRAPPER), "libpam-wrapper is not installed")
class ValgrindTests(PamTestCase):

    def run_pamtester(self, user, answer_with_code, options=""):
        service_dir = tempfile.mkdtemp(prefix="pam_wrapper-", dir=self.h.dir)
        with open(os.path.join(service_dir, SERVICE), "w") as f:
            f.write(f"auth required {binary('PAM_MODULE')} socket={self.h.socket_path} "
                    f"timeout=60 {options}\n")
        env = dict(os.environ, LD_PRELOAD=PAM_WRAPPER, PAM_WRAPPER="1",
                   PAM_WRAPPER_SERVICE_DIR=service_dir)
        before = len(self.h.messages())
        process = subprocess.Popen([*VALGRIND, "pamtester", "-v", SERVICE, user, "authenticate"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, env=env)
        self.addCleanup(lambda: process.poll() is None and process.kill())
        # Begin has texted the code once the endpoint holds a new message.
        messages = self.h.wait_for_messages(before + 1, timeout=120)
        self.assertEqual(len(messages), before + 1, "the module sent no Begin")
        code = self.code_in(messages[-1])
        answer = code if answer_with_code else wrong_code(code)
        output, _ = process.communicate((answer + "\n").encode(), timeout=240)
        return process.returncode, output.decode(errors="replace")

    def test_login_under_valgrind(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        rc, output = self.run_pamtester(user, answer_with_code=True)
        self.assertEqual(rc, 0, output)  # 99 would be valgrind's: an error or a definite leak
        self.assertIn("successfully authenticated", output)
        self.assertIn("ERROR SUMMARY: 0 errors", output)

    def test_refusal_under_valgrind(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        rc, output = self.run_pamtester(user, answer_with_code=False, options="tries=1")
        self.assertNotEqual(rc, 99, output)  # 99: valgrind found an error
        self.assertEqual(rc, 1, output)      # pamtester's failure status
        self.assertIn("Too many wrong codes; please log in again.", output)
        self.assertIn("ERROR SUMMARY: 0 errors", output)


if __name__ == "__main__":
    main()
