# SPDX-License-Identifier: BSD-2-Clause
"""`enroll`: interactive self-service set-up, by text message or authenticator app."""

import base64
import json
import os
import subprocess
import urllib.parse

from cli_support import CliTestCase, main, totp, wrong_code
from harness import Expect

PHONE = "+15555550123"
MASKED = "***-***-0123"


class EnrollTest(CliTestCase):
    def converse(self, *args, as_user=None, stdin=subprocess.PIPE):
        process = self.h.spawn_ctl(*args, as_user=as_user, stdin=stdin)
        self.addCleanup(self.reap, process)
        return process, Expect(process.stdout.fileno()), Expect(process.stderr.fileno())

    @staticmethod
    def reap(process):
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    def finish(self, process, out, err):
        rc = process.wait(timeout=30)
        return rc, out.rest(), err.rest()

    def test_texted_enroll(self):
        user = self.h.create_user()
        before = len(self.texts())
        process, out, err = self.converse("enroll", user, "--phone", PHONE)
        out.expect(r"A code was sent to \*\*\*-\*\*\*-0123")
        message = self.next_text(before)
        self.assertEqual(message["form"]["To"], PHONE)
        process.stdin.write(self.code_in(message).encode() + b"\n")
        out.expect("enabled for " + user)
        out.expect(r"Recovery codes(?:.*\n)+?(?:  [2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}){2}\n")
        rc, stdout, stderr = self.finish(process, out, err)
        self.assertEqual(rc, 0, stderr)
        status = self.status(user)
        self.assertIs(status["enabled"], True)
        self.assertEqual(status["delivery"], "TextMessage")
        self.assertEqual(status["mobilePhone"], MASKED)

    def test_phone_number_is_asked_when_not_given(self):
        user = self.h.create_user()
        before = len(self.texts())
        process, out, err = self.converse("enroll", user)
        process.stdin.write(b"555-555-0123\n")
        message = self.next_text(before)
        self.assertEqual(message["form"]["To"], PHONE)
        process.stdin.write(self.code_in(message).encode() + b"\n")
        rc, stdout, stderr = self.finish(process, out, err)
        self.assertEqual(rc, 0, stderr)
        self.assertEqual(self.status(user)["mobilePhone"], MASKED)

    def test_wrong_code_then_right_code(self):
        user = self.h.create_user()
        before = len(self.texts())
        process, out, err = self.converse("enroll", user, "--phone", PHONE)
        code = self.code_in(self.next_text(before))
        process.stdin.write(wrong_code(code).encode() + b"\n")
        err.expect(r"invalid code.*2 tries left")
        self.assertIs(self.status(user)["enabled"], False)
        process.stdin.write(code.encode() + b"\n")
        rc, stdout, stderr = self.finish(process, out, err)
        self.assertEqual(rc, 0, stderr)
        self.assertIs(self.status(user)["enabled"], True)

    def test_three_wrong_codes_give_up(self):
        user = self.h.create_user()
        before = len(self.texts())
        process, out, err = self.converse("enroll", user, "--phone", PHONE)
        bad = wrong_code(self.code_in(self.next_text(before)))
        process.stdin.write(((bad + "\n") * 3).encode())
        rc, stdout, stderr = self.finish(process, out, err)
        self.assertEqual(rc, 1, stdout)
        self.assertEqual(stderr.lower().count("invalid code"), 3, stderr)
        self.assertIs(self.status(user)["enabled"], False)

    def test_end_of_input_enables_nothing(self):
        user = self.h.create_user()
        before = len(self.texts())
        process, out, err = self.converse("enroll", user, "--phone", PHONE)
        self.next_text(before)
        process.stdin.close()
        rc, stdout, stderr = self.finish(process, out, err)
        self.assertEqual(rc, 1)
        self.assertIn("not enabled", stderr)
        self.assertIs(self.status(user)["enabled"], False)

    def test_authenticator_enroll_at_a_terminal(self):
        user = self.h.create_user()
        master, slave = os.openpty()
        self.addCleanup(os.close, master)
        try:
            process, out, err = self.converse("enroll", user, "--delivery", "None", stdin=slave)
        finally:
            os.close(slave)
        key = out.expect(r"secretBase32Encoded: ([A-Z2-7=]+)\n").group(1)
        uri_text = out.expect(r"uri: (\S+)\n").group(1)
        uri = urllib.parse.urlsplit(uri_text)
        err.expect(r"Code from the app: ")  # prompts only because stdin is a terminal
        # Everything before the prompt is written: the QR code from one quiet zone to the other.
        qr_code = out.expect(r"\u2588+\n(?:[\u2588\u2580\u2584 ]+\n)+?\u2588+\n").group(0)
        self.assert_scans_as(qr_code, uri_text)

        self.assertEqual((uri.scheme, uri.netloc), ("otpauth", "totp"))
        self.assertIn(user, urllib.parse.unquote(uri.path))
        query = dict(urllib.parse.parse_qsl(uri.query))
        self.assertEqual(query["secret"], key.rstrip("="))
        self.assertEqual((query["algorithm"], query["digits"], query["period"]),
                         ("SHA1", "6", "30"))
        self.assertTrue(query["issuer"])

        secret = base64.b32decode(key)  # what the app does with the key
        os.write(master, totp(secret).encode() + b"\n")
        rc, stdout, stderr = self.finish(process, out, err)
        self.assertEqual(rc, 0, stderr)
        status = self.status(user)
        self.assertIs(status["enabled"], True)
        self.assertEqual(status["delivery"], "None")

    def assert_scans_as(self, qr_code, text):
        """The drawing is the reference encoder's (qrencode, same level, mode and margin) and a
        QR reader (zbarimg) decodes it to `text`."""
        reference = subprocess.run(["qrencode", "-t", "UTF8", "-l", "L", "-m", "2", text],
                                   capture_output=True, text=True, check=True).stdout
        self.assertEqual(qr_code, reference)

        # Back to modules, two rows per character: a block is light, a space dark.
        halves = {"\u2588": (1, 1), "\u2580": (1, 0), "\u2584": (0, 1), " ": (0, 0)}
        rows = []
        for line in qr_code.splitlines():
            cells = [halves[c] for c in line]
            rows += [[upper for upper, _ in cells], [lower for _, lower in cells]]
        scale, border = 4, 8
        width = len(rows[0]) * scale + 2 * border
        pixels = [[255] * width for _ in range(border)]
        for row in rows:
            line = [255] * border + [255 * m for m in row for _ in range(scale)] + [255] * border
            pixels += [line] * scale
        pixels += [[255] * width for _ in range(border)]
        image = os.path.join(self.h.dir, "qr.pgm")
        with open(image, "wb") as out:
            out.write(b"P5 %d %d 255\n" % (width, len(pixels)))
            out.write(bytes(v for line in pixels for v in line))
        decoded = subprocess.run(["zbarimg", "--quiet", "--raw", image], capture_output=True,
                                 text=True, timeout=30)
        self.assertEqual(decoded.returncode, 0, decoded.stderr)
        self.assertEqual(decoded.stdout.rstrip("\n"), text)

    def test_json_enroll_prints_one_object(self):
        user = self.h.create_user()
        process, out, err = self.converse("--json", "enroll", user, "--delivery", "None")
        key = err.expect(r"secretBase32Encoded: ([A-Z2-7=]+)\n").group(1)
        process.stdin.write(totp(base64.b32decode(key)).encode() + b"\n")
        rc, stdout, stderr = self.finish(process, out, err)
        self.assertEqual(rc, 0, stderr)
        reply = json.loads(stdout)
        self.assertEqual(len(reply.pop("recoveryCodes")), 10)
        self.assertEqual(reply, {"user": user, "delivery": "None", "mobilePhone": None})

    def test_self_service_enroll_of_own_account(self):
        alice = self.h.create_user()
        before = len(self.texts())
        process, out, err = self.converse("enroll", "--phone", PHONE, as_user=alice)
        code = self.code_in(self.next_text(before))
        process.stdin.write(code.encode() + b"\n")
        rc, stdout, stderr = self.finish(process, out, err)
        self.assertEqual(rc, 0, stderr)
        self.assertIs(self.ok_json("status", as_user=alice)["enabled"], True)


if __name__ == "__main__":
    main()
