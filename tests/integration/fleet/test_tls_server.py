# SPDX-License-Identifier: BSD-2-Clause
"""A server's TLS port for login hosts: real TLS 1.3 with certificates made here under a
temporary CA. An admitted host logs a user in with the texted code; what a host may ask is
limited (PermissionDenied for the rest, Status without the number); a twoFactorId is bound to
the host that started it; a certificate not in hosts_file, one of another CA and none at all are
refused; a host removed from hosts_file and reloaded (SIGHUP) is cut off."""

import os
import socket
import time
import re
import signal
import sys
import tempfile
import shutil
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))

from cli_support import LIBERAL_LIMITS, CliTestCase, merged  # noqa: E402
from harness import free_loopback_port, wait_until  # noqa: E402
import tls_support as tls  # noqa: E402

ADMITTED = ["login1.test", "login2.test", "cnonly.test"]
LOGINS_PER_MINUTE = 5
IDLE_TIMEOUT = 3  # seconds: handshakes and idle connections are cut off after it


class TlsServerTest(CliTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki_dir = tempfile.mkdtemp(prefix="twofactor-pki-")
        cls.addClassCleanup(shutil.rmtree, cls.pki_dir, True)
        cls.ca = tls.Pki(cls.pki_dir)
        cls.other_ca = tls.Pki(cls.pki_dir, name="other")
        cls.server_cert = cls.ca.issue("localhost", ip="127.0.0.1")
        cls.hosts = {name: cls.ca.issue(name) for name in ["login1.test", "login2.test",
                                                           "stranger.test"]}
        cls.hosts["cnonly.test"] = cls.ca.issue("cnonly.test", san=False)
        cls.rogue = cls.other_ca.issue("login1.test")
        cls.hosts_file = os.path.join(cls.pki_dir, "hosts")
        cls.write_hosts(ADMITTED)
        cls.port = free_loopback_port()
        cls.config = merged(LIBERAL_LIMITS, {"listen": {
            "address": f"127.0.0.1:{cls.port}",
            "certificate_file": cls.server_cert[0], "key_file": cls.server_cert[1],
            "client_ca_file": cls.ca.ca, "hosts_file": cls.hosts_file,
            "logins_per_host_per_minute": LOGINS_PER_MINUTE},
            "daemon": {"idle_timeout": IDLE_TIMEOUT}})
        super().setUpClass()

    @classmethod
    def write_hosts(cls, names):
        with open(cls.hosts_file, "w") as f:
            f.write("# admitted login hosts\n" + "".join(f"{n}  \n" for n in names))

    def connect(self, host):
        certificate, key = self.hosts[host]
        sock = tls.connect(self.port, self.ca.ca, certificate, key)
        self.addCleanup(sock.close)
        return sock

    def begin(self, sock, user):
        before = len(self.texts())
        reply = tls.call(sock, "Begin", {"user": user, "ipAddress": "192.0.2.7",
                                         "service": "sshd"})
        self.assertIsNone(tls.error_of(reply), reply)
        return reply["parameters"]["twoFactorId"], self.code_in(self.next_text(before))

    def test_a_host_logs_a_user_in_with_the_texted_code(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        sock = self.connect("login1.test")
        factor_id, code = self.begin(sock, user)
        self.assertRegex(factor_id, r"^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$")
        reply = tls.call(sock, "Complete", {"twoFactorId": factor_id, "code": code,
                                            "ipAddress": "192.0.2.7"})
        self.assertIsNone(tls.error_of(reply), reply)
        self.assertEqual(reply["parameters"]["user"], user)
        # The journal's lines about the call name the host.
        self.assertTrue(re.search(r"host=login1\.test", self.h.daemon_log()),
                        self.h.daemon_log()[-3000:])

    def test_a_twofactorid_is_bound_to_its_host(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        one, two = self.connect("login1.test"), self.connect("login2.test")
        factor_id, code = self.begin(one, user)
        reply = tls.call(two, "Complete", {"twoFactorId": factor_id, "code": code})
        self.assertEqual(tls.error_of(reply), "NotFound", reply)
        reply = tls.call(two, "SendCode", {"twoFactorId": factor_id})
        self.assertEqual(tls.error_of(reply), "NotFound", reply)
        # The challenge's own id, without the host's binding: NotFound as well.
        reply = tls.call(one, "Complete", {"twoFactorId": factor_id.split(".")[0],
                                           "code": code})
        self.assertEqual(tls.error_of(reply), "NotFound", reply)
        # None of that spent the challenge: its host completes it.
        reply = tls.call(one, "Complete", {"twoFactorId": factor_id, "code": code})
        self.assertIsNone(tls.error_of(reply), reply)

    def test_a_host_may_do_only_what_logins_need(self):
        user = self.h.create_user()
        secret = self.enroll_texted(user)
        sock = self.connect("login1.test")
        forbidden = [
            ("Unlock", {"user": user}),
            ("Disable", {"user": user}),
            ("Forget", {"user": user}),
            ("RegenerateRecoveryCodes", {"user": user}),
            ("GenerateSecret", {}),
            ("Enable", {"user": user, "secret": secret, "code": "123456",
                        "delivery": "None"}),
            ("SendCode", {"mobilePhone": "+15005550009", "secret": secret}),
        ]
        for method, parameters in forbidden:
            with self.subTest(method=method):
                reply = tls.call(sock, method, parameters)
                self.assertEqual(tls.error_of(reply), "PermissionDenied", reply)
        # Status: enrolled or locked, never the number, the failures or the trusts.
        reply = tls.call(sock, "Status", {"user": user})
        self.assertIsNone(tls.error_of(reply), reply)
        self.assertEqual(set(reply["parameters"]) - {"lockedUntil"},
                         {"user", "enabled", "delivery", "locked"}, reply)
        # A user of the host acts as that user only, and never unlocks.
        other = self.h.create_user()
        reply = tls.call(sock, "Status", {"user": user}, uid=4242, user=other)
        self.assertEqual(tls.error_of(reply), "PermissionDenied", reply)
        reply = tls.call(sock, "Unlock", {"user": other}, uid=4242, user=other)
        self.assertEqual(tls.error_of(reply), "PermissionDenied", reply)
        reply = tls.call(sock, "Status", {"user": other}, uid=4242, user=other)
        self.assertIsNone(tls.error_of(reply), reply)
        self.assertFalse(reply["parameters"]["enabled"], reply)
        # A call that names no caller is malformed.
        sock.sendall(b'{"method":"io.twofactor.Status","parameters":{"user":"root"}}\0')
        self.assertEqual(tls.error_of(tls.read_reply(sock)), "InvalidParameter")

    def test_logins_are_limited_per_host(self):
        sock = self.connect("cnonly.test")
        for _ in range(LOGINS_PER_MINUTE):
            reply = tls.call(sock, "Begin", {"user": "nobody-enrolled"})
            self.assertEqual(tls.error_of(reply), "NotEnrolled", reply)
        reply = tls.call(sock, "Begin", {"user": "nobody-enrolled"})
        self.assertEqual(tls.error_of(reply), "RateLimited", reply)
        self.assertGreater(reply["parameters"]["retryAfter"], 0, reply)
        # Another host is not held back by it.
        reply = tls.call(self.connect("login2.test"), "Begin", {"user": "nobody-enrolled"})
        self.assertEqual(tls.error_of(reply), "NotEnrolled", reply)

    def closed_within(self, sock, seconds):
        """True when the server closes `sock` within `seconds` (what it sends is dropped)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                if not sock.recv(65536):
                    return True
            except socket.timeout:
                return False
            except OSError:
                return True
        return False

    def test_bad_input_on_the_port_leaves_other_hosts_served(self):
        # Plain text instead of a handshake: closed at once.
        plain = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self.addCleanup(plain.close)
        plain.sendall(b"GET / HTTP/1.0\r\n\r\n" + b"\0" * 100)
        self.assertTrue(self.closed_within(plain, 5.0))
        # Fifty connections that never finish a handshake: cut off after the idle timeout, and
        # an admitted host is served meanwhile.
        idle = [socket.create_connection(("127.0.0.1", self.port), timeout=5) for _ in range(50)]
        for sock in idle:
            self.addCleanup(sock.close)
        started = time.monotonic()
        reply = tls.call(self.connect("login1.test"), "Status", {"user": "root"})
        self.assertIsNone(tls.error_of(reply), reply)
        self.assertLess(time.monotonic() - started, 2.0)
        for sock in idle:
            self.assertTrue(self.closed_within(sock, IDLE_TIMEOUT + 3.0))
        # An oversize frame inside TLS: the connection is closed, the server stays up.
        big = self.connect("login2.test")
        big.sendall(b"{" + b" " * (70 * 1024))
        self.assertIsNone(tls.read_reply(big, timeout=10.0))
        reply = tls.call(self.connect("login2.test"), "Status", {"user": "root"})
        self.assertIsNone(tls.error_of(reply), reply)

    def test_strangers_are_refused(self):
        cases = {
            "the CA's certificate of a host not in hosts_file": self.hosts["stranger.test"],
            "another CA's certificate of an admitted name": self.rogue,
            "no certificate": (None, None),
        }
        for what, (certificate, key) in cases.items():
            with self.subTest(what):
                self.assertTrue(tls.refused(self.port, self.ca.ca, certificate, key))
        # The same checks admit the hosts that are listed, by DNS name or by CN alone.
        for host in ("login1.test", "cnonly.test"):
            self.assertFalse(tls.refused(self.port, self.ca.ca, *self.hosts[host]), host)
        self.assertIn("refusing a host not in the hosts file", self.h.daemon_log())

    def test_a_removed_host_is_cut_off_on_reload(self):
        sock = self.connect("login2.test")
        self.assertIsNotNone(tls.call(sock, "Status", {"user": "root"}))
        try:
            self.write_hosts([n for n in ADMITTED if n != "login2.test"])
            self.h.daemon.send_signal(signal.SIGHUP)
            self.assertTrue(wait_until(lambda: "reread the hosts file" in self.h.daemon_log(),
                                       10.0), self.h.daemon_log()[-2000:])
            self.assertIsNone(tls.read_reply(sock, timeout=10.0))
            self.assertTrue(tls.refused(self.port, self.ca.ca, *self.hosts["login2.test"]))
            self.assertFalse(tls.refused(self.port, self.ca.ca, *self.hosts["login1.test"]))
        finally:
            self.write_hosts(ADMITTED)
            self.h.daemon.send_signal(signal.SIGHUP)


if __name__ == "__main__":
    unittest.main(verbosity=2)
