#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The fake Twilio endpoint's own behaviours, against a real server process on 127.0.0.1."""

import base64
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "fake_twilio.py")
SID = "AC" + "0123456789abcdef" * 2
TOKEN = "test-token-0123456789"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"
STARTUP_SECONDS = 10


class Endpoint:
    """One server process, started with --port 0 and found through --port-file."""

    def __init__(self, *extra):
        self.directory = tempfile.TemporaryDirectory(prefix="fake-twilio-test-")
        port_file = os.path.join(self.directory.name, "port")
        self.process = subprocess.Popen(
            [sys.executable, SCRIPT, "--port", "0", "--account-sid", SID, "--auth-token", TOKEN,
             "--port-file", port_file, *extra],
            stdout=subprocess.PIPE, text=True)
        try:
            line = self._read_line_within(STARTUP_SECONDS)
            match = re.fullmatch(r"listening on (\d+)\n", line)
            if not match:
                raise RuntimeError(f"unexpected first line: {line!r}")
            self.port = int(match.group(1))
            with open(port_file, encoding="ascii") as f:
                if int(f.read().strip()) != self.port:
                    raise RuntimeError("--port-file disagrees with stdout")
        except BaseException:
            self.stop()
            raise

    def _read_line_within(self, seconds):
        result = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(seconds)
        if not result:
            raise RuntimeError(f"the endpoint did not start within {seconds} s")
        return result[0]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process.stdout.close()
        self.directory.cleanup()

    def request(self, method, path, body=None, headers=None, timeout=10):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            return response.status, dict(response.getheaders()), data
        finally:
            connection.close()

    def send(self, fields, sid=SID, token=TOKEN, timeout=10):
        credentials = base64.b64encode(f"{sid}:{token}".encode()).decode()
        headers = {"Authorization": "Basic " + credentials,
                   "Content-Type": "application/x-www-form-urlencoded"}
        status, headers, data = self.request("POST", MESSAGES, urllib.parse.urlencode(fields),
                                             headers, timeout)
        return status, headers, json.loads(data)

    def control(self, path, document=None):
        body = json.dumps(document) if document is not None else None
        status, _, data = self.request("POST" if body is not None or "reset" in path else "GET",
                                       "/_control/" + path, body)
        return status, json.loads(data)


GOOD = {"To": "+15005550006", "From": "+15005550001", "Body": "Your verification code is 123456"}


class EndpointTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.endpoint = Endpoint()

    @classmethod
    def tearDownClass(cls):
        cls.endpoint.stop()

    def setUp(self):
        self.assertEqual(self.endpoint.control("reset")[0], 200)

    def test_accepts_a_valid_message_like_twilio(self):
        status, _, answer = self.endpoint.send(GOOD)
        self.assertEqual(status, 201)
        self.assertRegex(answer["sid"], r"^SM[0-9a-f]{32}$")
        self.assertEqual(answer["account_sid"], SID)
        self.assertEqual(answer["to"], GOOD["To"])
        self.assertEqual(answer["from"], GOOD["From"])
        self.assertEqual(answer["body"], GOOD["Body"])
        self.assertEqual(answer["status"], "queued")
        self.assertEqual(answer["num_segments"], "1")
        self.assertEqual(answer["uri"], f"/2010-04-01/Accounts/{SID}/Messages/{answer['sid']}.json")
        self.assertRegex(answer["date_created"],
                         r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")
        _, records = self.endpoint.control("messages")
        self.assertEqual(len(records), 1)
        self.assertTrue(records[0]["auth_ok"])
        self.assertEqual(records[0]["form"], GOOD)
        self.assertEqual(records[0]["status"], 201)

    def test_messaging_service_instead_of_from(self):
        fields = {"To": "+15005550006", "MessagingServiceSid": "MG" + "a" * 32, "Body": "hi"}
        status, _, answer = self.endpoint.send(fields)
        self.assertEqual(status, 201)
        self.assertEqual(answer["messaging_service_sid"], fields["MessagingServiceSid"])
        self.assertIsNone(answer["from"])

    def test_long_unicode_text_counts_segments(self):
        status, _, answer = self.endpoint.send(dict(GOOD, Body="é" * 100 + "✓"))
        self.assertEqual(status, 201)
        self.assertEqual(answer["num_segments"], "2")

    def test_wrong_token_is_20003(self):
        status, headers, answer = self.endpoint.send(GOOD, token="wrong")
        self.assertEqual(status, 401)
        self.assertEqual(answer["code"], 20003)
        self.assertEqual(answer["status"], 401)
        self.assertIn("more_info", answer)
        self.assertIn("WWW-Authenticate", headers)
        _, records = self.endpoint.control("messages")
        self.assertFalse(records[0]["auth_ok"])

    def test_no_credentials_is_20003(self):
        status, _, data = self.endpoint.request("POST", MESSAGES, urllib.parse.urlencode(GOOD))
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(data)["code"], 20003)

    def test_other_account_in_path_is_not_found(self):
        other = "AC" + "f" * 32
        credentials = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        status, _, data = self.endpoint.request(
            "POST", f"/2010-04-01/Accounts/{other}/Messages.json", urllib.parse.urlencode(GOOD),
            {"Authorization": "Basic " + credentials})
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(data)["code"], 20404)

    def test_form_errors_carry_twilio_codes(self):
        cases = [
            ({"To": "5551234", "From": "+15005550001", "Body": "x"}, 21211),
            ({"To": "+0123", "From": "+15005550001", "Body": "x"}, 21211),
            ({"From": "+15005550001", "Body": "x"}, 21604),
            ({"To": "+15005550006", "Body": "x"}, 21603),
            ({"To": "+15005550006", "From": "+15005550001"}, 21602),
            ({"To": "+15005550006", "From": "+15005550001", "Body": ""}, 21602),
            ({"To": "+15005550006", "From": "+15005550001", "Body": "x" * 1601}, 21617),
        ]
        for fields, code in cases:
            with self.subTest(fields=fields):
                status, _, answer = self.endpoint.send(fields)
                self.assertEqual(status, 400)
                self.assertEqual(answer["code"], code)
                self.assertIsInstance(answer["message"], str)

    def test_status_behaviour_for_n_times_then_normal(self):
        self.assertEqual(self.endpoint.control(
            "behaviour", {"status": 429, "retry_after": 2, "times": 2})[0], 200)
        for _ in range(2):
            status, headers, answer = self.endpoint.send(GOOD)
            self.assertEqual(status, 429)
            self.assertEqual(headers.get("Retry-After"), "2")
            self.assertEqual(answer["status"], 429)
        status, _, _ = self.endpoint.send(GOOD)
        self.assertEqual(status, 201)
        _, records = self.endpoint.control("messages")
        self.assertEqual([r["status"] for r in records], [429, 429, 201])

    def test_behaviour_without_times_lasts_until_reset(self):
        self.endpoint.control("behaviour", {"status": 500, "code": 20500, "message": "boom"})
        for _ in range(3):
            status, _, answer = self.endpoint.send(GOOD)
            self.assertEqual((status, answer["code"], answer["message"]), (500, 20500, "boom"))
        self.endpoint.control("reset")
        self.assertEqual(self.endpoint.send(GOOD)[0], 201)

    def test_raw_body(self):
        self.endpoint.control("behaviour", {"status": 502, "body": "<html>bad gateway</html>",
                                            "times": 1})
        status, _, data = self.endpoint.request("POST", MESSAGES, urllib.parse.urlencode(GOOD))
        self.assertEqual((status, data), (502, b"<html>bad gateway</html>"))

    def test_raw_body_chunked(self):
        body = "y" * 20000
        self.endpoint.control("behaviour", {"status": 500, "body": body, "chunked": True,
                                            "times": 1})
        status, headers, data = self.endpoint.request("POST", MESSAGES, "")
        self.assertEqual((status, data.decode()), (500, body))
        self.assertEqual(headers.get("Transfer-Encoding"), "chunked")
        self.assertNotIn("Content-Length", headers)

    def test_close_without_answer(self):
        self.endpoint.control("behaviour", {"close": True, "times": 1})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.endpoint.send(GOOD)
        self.assertEqual(self.endpoint.send(GOOD)[0], 201)
        _, records = self.endpoint.control("messages")
        self.assertEqual([(r["closed"], r["status"]) for r in records], [(True, None),
                                                                          (False, 201)])

    def test_delay_and_a_slow_answer_does_not_block_others(self):
        self.endpoint.control("behaviour", {"delay_ms": 1500, "times": 1})
        slow_result = []
        slow = threading.Thread(target=lambda: slow_result.append(self.endpoint.send(GOOD)[0]))
        started = time.monotonic()
        slow.start()
        time.sleep(0.2)  # the slow request has consumed the behaviour by now
        fast_started = time.monotonic()
        self.assertEqual(self.endpoint.send(GOOD)[0], 201)
        self.assertLess(time.monotonic() - fast_started, 1.0)
        slow.join(10)
        self.assertEqual(slow_result, [201])
        self.assertGreaterEqual(time.monotonic() - started, 1.5)

    def test_last_code(self):
        self.assertEqual(self.endpoint.control("last_code")[0], 404)
        self.endpoint.send(dict(GOOD, Body="Code 111111, then 654321 (not 1234567)"))
        self.assertEqual(self.endpoint.control("last_code"), (200, {"code": "654321"}))

    def test_bad_behaviours_are_refused(self):
        for document in (["not", "an", "object"], {"status": "429"}, {"times": 0},
                         {"surprise": 1}, {"status": 700}, {"close": "yes"}):
            with self.subTest(document=document):
                status, answer = self.endpoint.control("behaviour", document)
                self.assertEqual(status, 400)
                self.assertIn("error", answer)
        status, _, data = self.endpoint.request("POST", "/_control/behaviour", "{not json")
        self.assertEqual(status, 400)
        self.assertEqual(self.endpoint.send(GOOD)[0], 201)

    def test_unknown_paths(self):
        self.assertEqual(self.endpoint.request("GET", "/nothing")[0], 404)
        self.assertEqual(self.endpoint.request("POST", "/2010-04-01/Accounts/x/Faxes.json",
                                               "")[0], 404)


VERIFY_SID = "VA" + "0123456789abcdef" * 2
KEY_SID = "SK" + "fedcba9876543210" * 2
KEY_SECRET = "key-secret-0123456789"
PHONE = "+15005550006"


class TwilioAsPublishedTest(unittest.TestCase):
    """Issue 12: Verify as Twilio documents it, API keys, ValidityPeriod, and gateway errors
    without invented Twilio codes."""

    @classmethod
    def setUpClass(cls):
        cls.endpoint = Endpoint("--verify-service-sid", VERIFY_SID, "--api-key-sid", KEY_SID,
                                "--api-key-secret", KEY_SECRET)

    @classmethod
    def tearDownClass(cls):
        cls.endpoint.stop()

    def setUp(self):
        self.assertEqual(self.endpoint.control("reset")[0], 200)

    def verify(self, resource, fields, sid=SID, token=TOKEN, service=VERIFY_SID):
        credentials = base64.b64encode(f"{sid}:{token}".encode()).decode()
        headers = {"Authorization": "Basic " + credentials,
                   "Content-Type": "application/x-www-form-urlencoded"}
        status, _, data = self.endpoint.request("POST", f"/v2/Services/{service}/{resource}",
                                                urllib.parse.urlencode(fields), headers)
        return status, json.loads(data)

    def code(self):
        status, _, data = self.endpoint.request("GET", "/_control/verify_code?To=%2B15005550006")
        self.assertEqual(status, 200)
        return json.loads(data)["code"]

    def test_verification_pending_then_approved_once(self):
        status, answer = self.verify("Verifications", {"To": PHONE, "Channel": "sms"})
        self.assertEqual(status, 201)
        self.assertEqual(answer["status"], "pending")
        self.assertRegex(answer["sid"], r"^VE[0-9a-f]{32}$")
        self.assertEqual(answer["service_sid"], VERIFY_SID)
        code = self.code()
        # Starting it again while pending sends the same code.
        status, again = self.verify("Verifications", {"To": PHONE, "Channel": "sms"})
        self.assertEqual((status, again["sid"]), (201, answer["sid"]))
        self.assertEqual(self.code(), code)
        wrong = "000000" if code != "000000" else "111111"
        status, check = self.verify("VerificationCheck", {"To": PHONE, "Code": wrong})
        self.assertEqual((status, check["status"], check["valid"]), (200, "pending", False))
        status, check = self.verify("VerificationCheck", {"To": PHONE, "Code": code})
        self.assertEqual((status, check["status"], check["valid"]), (200, "approved", True))
        # Approved, it is gone.
        status, gone = self.verify("VerificationCheck", {"To": PHONE, "Code": code})
        self.assertEqual((status, gone["code"], gone["status"]), (404, 20404, 404))

    def test_five_checks_then_60202_and_five_sends_then_60203(self):
        for _ in range(5):
            self.assertEqual(self.verify("Verifications", {"To": PHONE, "Channel": "sms"})[0], 201)
        status, error = self.verify("Verifications", {"To": PHONE, "Channel": "sms"})
        self.assertEqual((status, error["code"]), (429, 60203))
        code = self.code()
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(5):
            status, check = self.verify("VerificationCheck", {"To": PHONE, "Code": wrong})
            self.assertEqual((status, check["status"]), (200, "pending"))
        status, error = self.verify("VerificationCheck", {"To": PHONE, "Code": code})
        self.assertEqual((status, error["code"], error["status"]), (429, 60202, 429))
        self.assertEqual(error["more_info"], "https://www.twilio.com/docs/errors/60202")

    def test_expired_check_is_20404_and_bad_parameters_60200(self):
        self.verify("Verifications", {"To": PHONE, "Channel": "sms"})
        self.assertEqual(self.endpoint.control("verify_expire", {})[0], 200)
        status, error = self.verify("VerificationCheck", {"To": PHONE, "Code": "123456"})
        self.assertEqual((status, error["code"]), (404, 20404))
        status, error = self.verify("Verifications", {"To": "5005550006", "Channel": "sms"})
        self.assertEqual((status, error["code"]), (400, 60200))
        status, error = self.verify("Verifications", {"To": PHONE, "Channel": "pigeon"})
        self.assertEqual((status, error["code"]), (400, 60200))
        status, error = self.verify("Verifications", {"To": PHONE, "Channel": "sms"},
                                    service="VA" + "f" * 32)
        self.assertEqual((status, error["code"]), (404, 20404))

    def test_api_key_signs_messages_and_verify(self):
        status, _, answer = self.endpoint.send(GOOD, sid=KEY_SID, token=KEY_SECRET)
        self.assertEqual(status, 201)
        _, records = self.endpoint.control("messages")
        self.assertEqual(records[-1]["auth_user"], KEY_SID)
        status, _ = self.verify("Verifications", {"To": PHONE, "Channel": "call"}, sid=KEY_SID,
                                token=KEY_SECRET)
        self.assertEqual(status, 201)
        status, error = self.verify("Verifications", {"To": PHONE, "Channel": "sms"},
                                    token="wrong")
        self.assertEqual((status, error["code"]), (401, 20003))

    def test_validity_period_is_1_to_36000(self):
        for value, expected in (("300", 201), ("36000", 201), ("0", 400), ("36001", 400),
                                ("ten", 400)):
            with self.subTest(value=value):
                status, _, answer = self.endpoint.send(dict(GOOD, ValidityPeriod=value))
                self.assertEqual(status, expected, answer)
                if expected == 400:
                    self.assertEqual(answer["code"], 21624)

    def test_gateway_errors_are_not_twilio_json(self):
        for status in (502, 504):
            with self.subTest(status=status):
                self.endpoint.control("behaviour", {"status": status, "times": 1})
                credentials = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
                got, headers, data = self.endpoint.request(
                    "POST", MESSAGES, urllib.parse.urlencode(GOOD),
                    {"Authorization": "Basic " + credentials,
                     "Content-Type": "application/x-www-form-urlencoded"})
                self.assertEqual(got, status)
                self.assertTrue(headers["Content-Type"].startswith("text/html"))
                self.assertNotIn(b"50200", data)

    def test_published_status_of_each_error_code(self):
        # Twilio's error pages: 20003 is 401, 21211/21610/21614 are 400, 20429 is 429.
        for status, code in ((401, 20003), (400, 21211), (400, 21610), (400, 21614),
                             (429, 20429)):
            with self.subTest(code=code):
                self.endpoint.control("behaviour", {"status": status, "code": code, "times": 1})
                got, _, answer = self.endpoint.send(GOOD)
                self.assertEqual((got, answer["code"], answer["status"]), (status, code, status))
                self.assertEqual(answer["more_info"], f"https://www.twilio.com/docs/errors/{code}")


CALLS = f"/2010-04-01/Accounts/{SID}/Calls.json"
TWIML = ("<Response><Say>Your verification code is</Say><Say>1, 2, 3, 4, 5, 6.</Say>"
         "<Pause length=\"1\"/><Say>Again: 1, 2, 3, 4, 5, 6.</Say></Response>")
GOOD_CALL = {"To": "+15005550006", "From": "+15005550001", "Twiml": TWIML}


class CallsTest(unittest.TestCase):
    """Issue 11, voice: Calls.json as Twilio answers it, and the TwiML recorded for the tests."""

    @classmethod
    def setUpClass(cls):
        cls.endpoint = Endpoint("--verify-service-sid", VERIFY_SID)

    @classmethod
    def tearDownClass(cls):
        cls.endpoint.stop()

    def setUp(self):
        self.assertEqual(self.endpoint.control("reset")[0], 200)

    def place(self, fields, token=TOKEN):
        credentials = base64.b64encode(f"{SID}:{token}".encode()).decode()
        headers = {"Authorization": "Basic " + credentials,
                   "Content-Type": "application/x-www-form-urlencoded"}
        status, _, data = self.endpoint.request("POST", CALLS, urllib.parse.urlencode(fields),
                                                headers)
        return status, json.loads(data)

    def test_a_call_is_queued_like_twilio(self):
        status, answer = self.place(GOOD_CALL)
        self.assertEqual(status, 201)
        self.assertRegex(answer["sid"], r"^CA[0-9a-f]{32}$")
        self.assertEqual(answer["account_sid"], SID)
        self.assertEqual((answer["to"], answer["from"]), (GOOD_CALL["To"], GOOD_CALL["From"]))
        self.assertEqual(answer["status"], "queued")
        self.assertEqual(answer["direction"], "outbound-api")
        self.assertEqual(answer["api_version"], "2010-04-01")
        self.assertRegex(answer["date_created"], r"^\w{3}, \d{2} \w{3} \d{4} [0-9:]{8} \+0000$")
        self.assertEqual(answer["uri"], f"/2010-04-01/Accounts/{SID}/Calls/{answer['sid']}.json")
        calls = self.endpoint.control("calls")[1]
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0]["form"]["Twiml"], TWIML)
        self.assertEqual(calls[0]["status"], 201)
        self.assertEqual(calls[0]["spoken"], "Your verification code is\n1, 2, 3, 4, 5, 6.\n"
                                             "Again: 1, 2, 3, 4, 5, 6.")
        # Calls and texts are recorded apart: a call is no message.
        self.assertEqual(self.endpoint.control("messages")[1], [])

    def test_call_errors_carry_twilio_codes(self):
        cases = [
            ({"From": "+15005550001", "Twiml": TWIML}, 21201),
            ({**GOOD_CALL, "To": "5005550006"}, 21211),
            ({"To": "+15005550006", "Twiml": TWIML}, 21213),
            ({**GOOD_CALL, "From": "MG" + "0" * 32}, 21212),
            ({"To": "+15005550006", "From": "+15005550001"}, 21205),
        ]
        for fields, code in cases:
            with self.subTest(code=code):
                status, answer = self.place(fields)
                self.assertEqual((status, answer["code"], answer["status"]), (400, code, 400))
        status, answer = self.place(GOOD_CALL, token="wrong")
        self.assertEqual((status, answer["code"]), (401, 20003))

    def test_twiml_that_is_no_response_is_recorded_as_unspeakable(self):
        status, _ = self.place({**GOOD_CALL, "Twiml": "<Say>1, 2"})
        self.assertEqual(status, 201)  # Twilio queues it, then fails the call (12100)
        self.assertIsNone(self.endpoint.control("calls")[1][0]["spoken"])

    def test_behaviours_apply_to_calls(self):
        self.endpoint.control("behaviour", {"status": 503, "times": 1})
        self.assertEqual(self.place(GOOD_CALL), (503, {
            "code": 20503, "message": "Service Unavailable",
            "more_info": "https://www.twilio.com/docs/errors/20503", "status": 503}))
        self.assertEqual(self.place(GOOD_CALL)[0], 201)

    def test_verify_takes_the_call_channel(self):
        credentials = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        headers = {"Authorization": "Basic " + credentials,
                   "Content-Type": "application/x-www-form-urlencoded"}
        status, _, data = self.endpoint.request(
            "POST", f"/v2/Services/{VERIFY_SID}/Verifications",
            urllib.parse.urlencode({"To": PHONE, "Channel": "call"}), headers)
        self.assertEqual(status, 201)
        self.assertEqual(json.loads(data)["channel"], "call")


class CommandLineTest(unittest.TestCase):
    def test_default_delay_from_the_command_line(self):
        endpoint = Endpoint("--delay-ms", "400")
        try:
            started = time.monotonic()
            self.assertEqual(endpoint.send(GOOD)[0], 201)
            self.assertGreaterEqual(time.monotonic() - started, 0.4)
        finally:
            endpoint.stop()

    def test_refuses_a_negative_delay(self):
        result = subprocess.run(
            [sys.executable, SCRIPT, "--account-sid", SID, "--auth-token", TOKEN,
             "--delay-ms", "-1"], capture_output=True, text=True, timeout=20)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--delay-ms", result.stderr)


if __name__ == "__main__":
    unittest.main()
