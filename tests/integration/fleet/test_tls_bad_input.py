# SPDX-License-Identifier: BSD-2-Clause
"""Bad input on a server's TLS port: plain text, handshakes begun and never finished, oversize
frames, a thousand idle connections from one admitted host, a client that sends a byte a second,
and the daemon out of file descriptors. After each, and during it, the daemon stays up and another
host's login (Begin, the texted code, Complete) is answered within a login's timeout."""

import contextlib
import os
import resource
import select
import socket
import ssl
import sys
import tempfile
import shutil
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))

from cli_support import LIBERAL_LIMITS, CliTestCase, merged  # noqa: E402
from harness import free_loopback_port, wait_until  # noqa: E402
import tls_support as tls  # noqa: E402

IDLE_TIMEOUT = 3  # seconds: handshakes and idle connections are cut off after it
PER_HOST = 8  # [listen] connections_per_host
FLOOD = 1000  # connections a misbehaving client opens
# A login is answered well within this while the port is under attack (pam_twofactor's own
# timeout is 30 s by default; an undisturbed login on loopback takes milliseconds).
SERVED_WITHIN = 3.0
# Where misbehaving clients connect from: another loopback address than the good hosts', as
# another machine would.
ATTACKER = "127.0.0.2"


def client_hello(server_name="localhost"):
    """The bytes of a TLS 1.3 ClientHello, as a client's first flight."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    session = context.wrap_bio(incoming, outgoing, server_hostname=server_name)
    try:
        session.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def cpu_seconds(pid):
    """User and system time the process has used, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class TlsBadInputTest(CliTestCase):
    @classmethod
    def setUpClass(cls):
        # The daemon starts with the soft descriptor limit most systems give a service (1024);
        # this process then takes what it needs for a thousand connections and more.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        cls.hard_limit = hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
        cls.pki_dir = tempfile.mkdtemp(prefix="twofactor-pki-")
        cls.addClassCleanup(shutil.rmtree, cls.pki_dir, True)
        cls.ca = tls.Pki(cls.pki_dir)
        cls.server_cert = cls.ca.issue("localhost", ip="127.0.0.1")
        cls.hosts = {name: cls.ca.issue(name) for name in ["good.test", "noisy.test"]}
        cls.hosts_file = os.path.join(cls.pki_dir, "hosts")
        with open(cls.hosts_file, "w") as f:
            f.write("good.test\nnoisy.test\n")
        cls.port = free_loopback_port()
        cls.config = merged(LIBERAL_LIMITS, {"listen": {
            "address": f"127.0.0.1:{cls.port}",
            "certificate_file": cls.server_cert[0], "key_file": cls.server_cert[1],
            "client_ca_file": cls.ca.ca, "hosts_file": cls.hosts_file,
            "connections_per_host": PER_HOST},
            "daemon": {"idle_timeout": IDLE_TIMEOUT}})
        try:
            super().setUpClass()
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1 << 16), hard))

    def setUp(self):
        self.user = self.h.create_user()
        self.enroll_texted(self.user)

    def tearDown(self):
        self.assertIsNone(self.h.daemon.poll(), "twofactord exited")

    # -- clients ------------------------------------------------------------------------------

    def connect(self, host, timeout=10.0):
        certificate, key = self.hosts[host]
        sock = tls.connect(self.port, self.ca.ca, certificate, key, timeout=timeout)
        self.addCleanup(sock.close)
        return sock

    def raw(self, source=ATTACKER):
        """A plain TCP connection to the port from `source`; closed after the test."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(sock.close)
        sock.settimeout(5)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", self.port))
        return sock

    def assert_login_served(self, within=SERVED_WITHIN, text=True):
        """Another host, good.test, logs the user in (Begin, the texted code, Complete) on a new
        connection, answered within `within` seconds. With text=False it asks for the user's
        Status instead (a daemon out of descriptors cannot reach Twilio)."""
        started = time.monotonic()
        try:
            sock = self.connect("good.test", timeout=within)
        except (ssl.SSLError, OSError) as e:
            self.fail(f"good.test could not connect: {e!r}")
        if not text:
            reply = tls.call(sock, "Status", {"user": self.user})
            self.assertIsNone(tls.error_of(reply), reply)
            self.assertLess(time.monotonic() - started, within, "answered too late")
            return
        before = len(self.texts())
        reply = tls.call(sock, "Begin", {"user": self.user, "ipAddress": "192.0.2.7",
                                         "service": "sshd"})
        self.assertIsNone(tls.error_of(reply), reply)
        begun = time.monotonic() - started
        code = self.code_in(self.next_text(before))
        reply = tls.call(sock, "Complete", {"twoFactorId": reply["parameters"]["twoFactorId"],
                                            "code": code, "ipAddress": "192.0.2.7"})
        self.assertIsNone(tls.error_of(reply), reply)
        self.assertLess(begun, within, "good.test's Begin was answered too late")
        self.assertIsNone(self.h.daemon.poll(), "twofactord exited")

    def closed_within(self, sock, seconds):
        """True when the server closes `sock` within `seconds` (what it sends is dropped)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                if not sock.recv(65536):
                    return True
            except (socket.timeout, ssl.SSLWantReadError):
                return False
            except OSError:
                return True
        return False

    # -- the tests ----------------------------------------------------------------------------

    def test_plain_text_is_closed(self):
        garbage = {
            "an HTTP request": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            "NUL bytes": b"\0" * 4096,
            "a TLS record header announcing the largest record": b"\x16\x03\x01\xff\xff" + b"A" * 64,
            "an SSLv2 hello": b"\x80\x2e\x01\x00\x02\x00\x15" + b"\x00" * 0x2b,
            "a Varlink call in the clear": b'{"method":"io.twofactor.Status","parameters":{}}\0',
            "64 KiB of noise": os.urandom(64 * 1024),
        }
        for what, data in garbage.items():
            with self.subTest(what):
                sock = self.raw()
                try:
                    sock.sendall(data)
                except OSError:
                    pass  # closed before all of it was taken: as good
                # At once: not left to the handshake's timeout.
                self.assertTrue(self.closed_within(sock, min(1.0, IDLE_TIMEOUT / 2)),
                                "the connection stayed open")
        self.assert_login_served()

    def test_a_flood_of_refused_connections_writes_a_few_lines(self):
        """Every refused connection's line would fill the journal's rate limit for the service,
        and the audit lines share it: an address gets its first line, then one every 10 s."""
        offset = len(self.h.daemon_log())
        flood = 300
        # Addresses of this test's own: the daemon serves the whole class, and its other tests'
        # refusals from ATTACKER may be recent.
        loud, other = "127.0.0.4", "127.0.0.5"
        for _ in range(flood):
            sock = self.raw(source=loud)
            with contextlib.suppress(OSError):
                sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
            self.closed_within(sock, 1.0)
            sock.close()
        log = self.h.daemon_log()[offset:]
        refused = log.count("the TLS handshake failed")
        print(f"\n{flood} plain-text connections from {loud}: {refused} lines")
        self.assertGreaterEqual(refused, 1, "the first refusal is not logged")
        self.assertLessEqual(refused, 3, log[-2000:])
        # Another address's first refusal is written at once, however loud the first one is.
        sock = self.raw(source=other)
        with contextlib.suppress(OSError):
            sock.sendall(b"\0" * 64)
        self.closed_within(sock, 1.0)
        self.assertTrue(wait_until(lambda: f"peer={other}" in self.h.daemon_log()[offset:],
                                   timeout=3.0), "the other address's refusal is not logged")
        self.assert_login_served()

    def test_handshakes_begun_and_never_finished(self):
        hello = client_hello()
        stalled = []
        for _ in range(FLOOD):
            try:
                sock = self.raw()
                sock.sendall(hello)
            except OSError:
                continue  # refused or reset at once: the server's right
            stalled.append(sock)
        # A host that is not the one flooding still connects and is answered, at once.
        self.assert_login_served()
        # The stalled handshakes are cut off after the timeout.
        deadline = time.monotonic() + IDLE_TIMEOUT + 5.0
        still_open = [s for s in stalled if not self.closed_within(
            s, max(deadline - time.monotonic(), 0.01))]
        self.assertEqual(still_open, [], f"{len(still_open)} stalled handshakes still open")
        self.assert_login_served()

    def test_oversize_frames_close_only_that_connection(self):
        # No NUL in a megabyte: the frame never ends.
        endless = self.connect("noisy.test")
        try:
            for _ in range(64):
                endless.sendall(b"{" + b" " * (16 * 1024))
        except OSError:
            pass  # closed while sending: what is asserted next
        # At once, not at the idle timeout.
        self.assertTrue(self.closed_within(endless, IDLE_TIMEOUT / 2),
                        "an endless frame was not cut off")
        # One byte more than the largest message, then its NUL.
        long = self.connect("noisy.test")
        try:
            long.sendall(b'{"method":"io.twofactor.Status","parameters":{"user":"'
                         + b"a" * (64 * 1024) + b'"}}\0')
        except OSError:
            pass
        self.assertIsNone(tls.read_reply(long, timeout=IDLE_TIMEOUT / 2))
        self.assert_login_served()

    def test_a_thousand_idle_connections_from_one_host(self):
        held = []
        started = time.monotonic()
        for _ in range(FLOOD):
            try:
                held.append(self.connect("noisy.test", timeout=5.0))
            except (ssl.SSLError, OSError):
                pass
            if time.monotonic() - started > 120:
                self.fail(f"{len(held)} connections in two minutes: the test is too slow")
        # The server kept at most PER_HOST of them open and closed the rest at once (its idle
        # timer closes the kept ones after IDLE_TIMEOUT, making room for later ones). A call
        # answered on each open one restarts its idle timer, so they stay for what follows.
        poller = select.poll()  # not select(): these descriptors pass FD_SETSIZE
        for sock in held:
            poller.register(sock, select.POLLIN)
        closed = {fd for fd, _ in poller.poll(0)}  # readable: the server's goodbye
        answered = [s for s in held if s.fileno() not in closed
                    and tls.call(s, "Status", {"user": "root"}) is not None]
        self.assertLessEqual(len(answered), PER_HOST)
        # Fill the host's share, and one more: refused, while another host is served.
        for _ in range(PER_HOST + 1 - len(answered)):
            sock = self.connect("noisy.test")
            if tls.call(sock, "Status", {"user": "root"}) is not None:
                answered.append(sock)
        self.assertEqual(len(answered), PER_HOST)
        self.assertTrue(tls.refused(self.port, self.ca.ca, *self.hosts["noisy.test"]))
        self.assertIn("too many open from this host", self.h.daemon_log())
        self.assert_login_served()
        # The idle ones are closed after the idle timeout; then the host is served again.
        for sock in answered:
            self.assertTrue(self.closed_within(sock, IDLE_TIMEOUT + 5.0))
        self.assertFalse(tls.refused(self.port, self.ca.ca, *self.hosts["noisy.test"]))

    def test_a_byte_a_second(self):
        hello = client_hello()
        # One in the handshake, one after it inside TLS, each sending a byte a second.
        handshaking = self.raw()
        admitted = self.connect("noisy.test")
        call = b'{"method":"io.twofactor.Status","parameters":{"user":"root"},' + b" " * 64
        closed = {}
        started = time.monotonic()
        for second in range(IDLE_TIMEOUT + 6):
            for name, sock, data in (("handshake", handshaking, hello), ("call", admitted, call)):
                if name in closed:
                    continue
                try:
                    sock.sendall(data[second:second + 1])
                except OSError:
                    closed[name] = time.monotonic() - started
                    continue
                if self.closed_within(sock, 0.05):
                    closed[name] = time.monotonic() - started
            if second % 3 == 0:
                self.assert_login_served()
            if len(closed) == 2:
                break
            time.sleep(max(started + second + 1 - time.monotonic(), 0))
        self.assertEqual(set(closed), {"handshake", "call"}, closed)
        for name, after in closed.items():
            self.assertLess(after, IDLE_TIMEOUT + 2.5, f"the slow {name} was cut off late")
        self.assert_login_served()

    def test_the_daemon_raises_its_descriptor_limit(self):
        # Started with a soft limit of 1024: a server of many hosts needs more (handshakes, and
        # connections_per_host for each host), so it takes what the hard limit allows.
        with open(f"/proc/{self.h.daemon.pid}/limits") as f:
            line = next(line for line in f if line.startswith("Max open files"))
        soft, hard = line.split()[3:5]
        self.assertEqual(soft, hard, line)

    def test_out_of_file_descriptors(self):
        pid = self.h.daemon.pid
        limits = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        self.addCleanup(resource.prlimit, pid, resource.RLIMIT_NOFILE, limits)
        # Room for a few connections more than it has open now.
        room = open_fds(pid) + 6
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (room, limits[1]))
        # Silent connections fill that room and queue behind it.
        for _ in range(60):
            self.raw()
        time.sleep(0.5)
        # The daemon neither spins on the listening socket nor fills its log...
        before = cpu_seconds(pid)
        time.sleep(2.0)
        used = cpu_seconds(pid) - before
        self.assertLess(used, 0.5, f"twofactord used {used:.2f} s of CPU in 2 s")
        self.assertLess(self.h.daemon_log().count("accept failed"), 50)
        # ...and another host gets in, well within a login's timeout, still out of room.
        self.assert_login_served(within=IDLE_TIMEOUT + 3.0, text=False)

    def test_out_of_file_descriptors_on_the_unix_socket(self):
        # The same on the daemon's own socket, where no handshake can give way: it waits.
        pid = self.h.daemon.pid
        limits = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        self.addCleanup(resource.prlimit, pid, resource.RLIMIT_NOFILE, limits)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (open_fds(pid) + 3, limits[1]))
        local = []
        for _ in range(40):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.addCleanup(sock.close)
            sock.settimeout(5)
            sock.connect(self.h.socket_path)
            local.append(sock)
        time.sleep(0.5)
        before = cpu_seconds(pid)
        time.sleep(2.0)
        used = cpu_seconds(pid) - before
        self.assertLess(used, 0.5, f"twofactord used {used:.2f} s of CPU in 2 s")
        lines = self.h.daemon_log().count("accept failed")
        self.assertLess(lines, 50, f"{lines} log lines 'accept failed'")
        # Room again: the daemon's own socket serves as before.
        for sock in local:
            sock.close()
        resource.prlimit(pid, resource.RLIMIT_NOFILE, limits)
        self.assertTrue(wait_until(lambda: self.h.ctl("status", self.user)[0] == 0, 10.0))
        self.assert_login_served()


if __name__ == "__main__":
    unittest.main(verbosity=2)
