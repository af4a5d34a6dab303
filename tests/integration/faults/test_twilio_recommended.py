# SPDX-License-Identifier: BSD-2-Clause
"""Issue 12: Twilio the way Twilio recommends, through pam_twofactor.so against a real twofactord
and the loopback endpoint: an API key signs the requests (the auth token still works), every
text carries ValidityPeriod and its accepted journal line Twilio's message SID, and the endpoint
served over HTTPS by a test CA is trusted through [twilio] ca_file while another CA's
certificate is refused with no text sent."""

import os
import re
import shutil
import tempfile

from faults_support import FaultTestCase, main
from tls_support import make_ca_and_server

API_KEY_SID = "SK" + "fedcba9876543210" * 2
API_KEY_SECRET = "api-key-secret-for-the-tests-0123"
MESSAGE_SID = re.compile(r"message_sid=(SM[0-9a-f]{32})\b")


def _tls_files():
    """Two CAs, each with a server certificate for 127.0.0.1; made once for this process."""
    directory = tempfile.mkdtemp(prefix="twofactor-tls-")
    os.chmod(directory, 0o755)
    return directory, make_ca_and_server(directory, "trusted"), \
        make_ca_and_server(directory, "other")


TLS_DIR, TRUSTED, OTHER = _tls_files()


class ApiKey(FaultTestCase):
    """[twilio] api_key_sid + api_key_secret_file: Basic auth SK...:secret, the account in the
    path; the endpoint knows the key and the auth token, the daemon holds only the key."""

    harness_options = {"endpoint_args": ["--api-key-sid", API_KEY_SID,
                                         "--api-key-secret", API_KEY_SECRET]}

    @classmethod
    def setUpClass(cls):
        secret_file = os.path.join(TLS_DIR, "api-key-secret")
        with open(secret_file, "w", encoding="ascii") as f:
            f.write(API_KEY_SECRET + "\n")
        cls.config = {"twilio": {"auth_token": None, "api_key_sid": API_KEY_SID,
                                 "api_key_secret_file": secret_file}}
        super().setUpClass()

    def test_key_signs_the_login_text(self):
        user = self.enrolled_user()
        finished = self.login_until_prompt_or_end(user)
        self.assertLoggedIn(finished)
        request = self.assertRequestCount(1, finished)[0]
        self.assertEqual(request["auth_user"], API_KEY_SID)
        self.assertTrue(request["path"].startswith("/2010-04-01/Accounts/AC"), request)
        self.assertNotIn(API_KEY_SECRET, self.h.daemon_log())


class TokenOnly(FaultTestCase):
    """No key: the auth token signs, as before."""

    def test_token_signs_the_login_text(self):
        user = self.enrolled_user()
        finished = self.login_until_prompt_or_end(user)
        self.assertLoggedIn(finished)
        request = self.assertRequestCount(1, finished)[0]
        self.assertTrue(request["auth_user"].startswith("AC"), request)


class ValidityAndJournal(FaultTestCase):
    """ValidityPeriod is the challenge's remaining lifetime (300 s here); the accepted text's
    journal line names its message SID; the User-Agent names the version."""

    def test_validity_period_sid_and_user_agent(self):
        user = self.enrolled_user()
        finished = self.login_until_prompt_or_end(user)
        self.assertLoggedIn(finished)
        request = self.assertRequestCount(1, finished)[0]
        validity = int(request["form"]["ValidityPeriod"])
        self.assertTrue(295 <= validity <= 300, request)
        self.assertRegex(request["user_agent"], r"^twofactord/\d+\.\d+\.\d+ \(libcurl/")
        accepted = finished.daemon("text message accepted")
        self.assertEqual(len(accepted), 1, finished)
        self.assertIn(f"user={user}", accepted[0])
        sid = MESSAGE_SID.search(accepted[0])
        self.assertIsNotNone(sid, accepted[0])
        print(f"\nValidityPeriod={validity}; {accepted[0].strip()}")

    def test_setup_text_carries_a_validity_period(self):
        secret = self.new_secret()
        self.ctl_ok("send", "--phone", "+15555555555", "--secret", secret)
        request = self.h.wait_for_messages(1)[-1]
        self.assertEqual(request["form"]["ValidityPeriod"], "300")


class TlsTrustedByCaFile(FaultTestCase):
    """The endpoint serves HTTPS with a certificate of the tests' CA; ca_file trusts it."""

    harness_options = {"endpoint_tls": TRUSTED}
    config = {"twilio": {"ca_file": TRUSTED["ca"]}}

    def test_https_with_ca_file_logs_in(self):
        self.assertTrue(self.h.endpoint_url.startswith("https://127.0.0.1:"))
        user = self.enrolled_user()
        finished = self.login_until_prompt_or_end(user)
        self.assertLoggedIn(finished)
        self.assertRequestCount(1, finished)


class TlsFromAnotherCaRefused(FaultTestCase):
    """The endpoint's certificate comes from a CA that ca_file does not name: the handshake
    fails, nothing reaches the endpoint, no retry follows, and the login goes on with the
    authenticator app's code (no dead end)."""

    harness_options = {"endpoint_tls": OTHER}
    config = {"twilio": {"ca_file": TRUSTED["ca"]}}

    def test_another_ca_is_refused_and_no_text_sent(self):
        user = self.enrolled_user()
        finished = self.login_until_prompt_or_end(user, answer_code=False)
        line = self.assertNotTexted(finished, 0, 0)
        self.assertIn("reason=Twilio's TLS certificate could not be verified", line)
        self.assertRequestCount(0, finished)


def tearDownModule():
    shutil.rmtree(TLS_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
