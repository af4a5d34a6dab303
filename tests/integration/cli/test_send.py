# SPDX-License-Identifier: BSD-2-Clause
"""Issue 2, line 2: `send --phone P --secret S` texts the TOTP code of S, once."""

import time

from cli_support import MASKED, PHONE, CliTestCase, main, totp


class SendTest(CliTestCase):
    def assert_texted_code_of(self, secret, before, to=PHONE):
        sent_at = time.time()
        message = self.next_text(before)
        self.assertEqual(message["form"].get("To"), to)
        self.assertEqual(message["status"], 201)
        self.assertTrue(message["auth_ok"])
        code = self.code_in(message)
        window = {totp(secret, sent_at, k) for k in (-1, 0, 1)}
        self.assertIn(code, window, "the text holds no TOTP code of the secret near now")
        return code

    def test_one_post_with_the_secrets_code(self):
        secret = self.new_secret()
        before = len(self.texts())
        out = self.ok("send", "--phone", PHONE, "--secret", secret)
        self.assertIn(MASKED, out)
        self.assertNotIn(PHONE, out)
        self.assert_texted_code_of(secret, before)
        time.sleep(0.5)
        self.assertEqual(len(self.texts()), before + 1, "more than one text was sent")

    def test_json_reply_masks_the_number(self):
        secret = self.new_secret()
        before = len(self.texts())
        reply = self.ok_json("send", "--phone", PHONE, "--secret", secret)
        self.assertEqual(reply.get("mobilePhone"), MASKED)
        self.assert_texted_code_of(secret, before)

    def test_national_number_with_default_country_code(self):
        secret = self.new_secret()
        before = len(self.texts())
        self.ok("send", "--phone", "555-555-5555", "--secret", secret)
        self.assert_texted_code_of(secret, before, to=PHONE)

    def test_secret_from_stdin(self):
        secret = self.new_secret()
        before = len(self.texts())
        self.ok("send", "--phone", PHONE, "--secret", "-", input=secret + "\n")
        self.assert_texted_code_of(secret, before)

    def test_letters_in_the_number_are_refused_and_nothing_is_sent(self):
        secret = self.new_secret()
        before = len(self.texts())
        rc, out, err = self.h.ctl("send", "--phone", "12ab", "--secret", secret)
        self.assertIn(rc, (1, 2), (out, err))
        self.assertIn("phone", err.lower())
        self.assertEqual(err.count("\n"), 1 if rc == 1 else 2, err)
        time.sleep(0.5)
        self.assertEqual(len(self.texts()), before)

    def test_short_secret_is_refused_and_nothing_is_sent(self):
        before = len(self.texts())
        err = self.refused("send", "--phone", PHONE, "--secret", "tooShort")
        self.assertIn("secret", err.lower())
        time.sleep(0.5)
        self.assertEqual(len(self.texts()), before)

    def test_refused_delivery_reports_twilios_error(self):
        secret = self.new_secret()
        self.h.behave(status=400, code=21211, message="The 'To' number is not valid.", times=1)
        try:
            err = self.refused("send", "--phone", PHONE, "--secret", secret)
        finally:
            self.h.reset_endpoint()  # drops the behaviour had the daemon never asked
        self.assertIn("21211", err)


if __name__ == "__main__":
    main()
