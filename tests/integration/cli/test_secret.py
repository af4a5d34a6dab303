# SPDX-License-Identifier: BSD-2-Clause
"""Issue 2, line 1: `secret` prints a fresh secret and its RFC 4648 base32."""

import base64
import math

from cli_support import CliTestCase, main


class SecretTest(CliTestCase):
    def test_json_has_the_models_keys_and_base32_of_the_same_bytes(self):
        reply = self.ok_json("secret")
        self.assertEqual(set(reply), {"secret", "secretBase32Encoded"})
        secret = reply["secret"]
        self.assertEqual(reply["secretBase32Encoded"],
                         base64.b32encode(secret.encode()).decode("ascii"))

    def test_secret_carries_at_least_160_bits(self):
        secret = self.ok_json("secret")["secret"]
        self.assertTrue(secret.isascii() and secret.isalnum(), secret)
        # Letters and digits: at most log2(62) bits a character.
        self.assertGreaterEqual(len(secret) * math.log2(62), 160, secret)

    def test_two_calls_differ(self):
        first = self.ok_json("secret")["secret"]
        second = self.ok_json("secret")["secret"]
        self.assertNotEqual(first, second)

    def test_plain_output_names_both_values(self):
        out = self.ok("secret")
        lines = dict(line.split(": ", 1) for line in out.splitlines())
        self.assertEqual(set(lines), {"secret", "secretBase32Encoded"})
        self.assertEqual(lines["secretBase32Encoded"],
                         base64.b32encode(lines["secret"].encode()).decode("ascii"))


if __name__ == "__main__":
    main()
