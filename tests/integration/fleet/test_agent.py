# SPDX-License-Identifier: BSD-2-Clause
"""Agents: a twofactord with [store] backend = remote forwards its socket's calls over mutual TLS
to a server. Through real libpam and pam_twofactor.so: a login through an agent with the texted
code; failover past a server that is down; no server at all: Unavailable, and failmode decides;
an agent's configuration that names a secret is refused with its file and line."""

import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pam"))

from pam_support import LIBERAL_LIMITS, PHONE, SERVICE, PamTestCase, merged  # noqa: E402
import harness  # noqa: E402
from harness import binary, free_loopback_port, wait_until  # noqa: E402
import tls_support as tls  # noqa: E402


# How the agent's memory is read: regions up to this size, in chunks of this size.
LARGEST_REGION = 1 << 30
CHUNK = 16 << 20
OVERLAP = 128


class SilentServer:
    """A TLS server with a certificate the agent trusts that reads one call and never answers,
    as a server that hangs once it has the call."""

    def __init__(self, certificate, key):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certificate, key)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.5)
        self.port = self.listener.getsockname()[1]
        self.received = threading.Event()
        self.stop = threading.Event()
        self.held = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                raw, _ = self.listener.accept()
            except OSError:
                continue
            try:
                connection = self.context.wrap_socket(raw, server_side=True)
                connection.settimeout(5)
                data = b""
                while b"\0" not in data:
                    chunk = connection.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if b"\0" in data:
                    self.received.set()
                self.held.append(connection)  # open, and never answered
            except (OSError, ssl.SSLError):
                raw.close()

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for connection in self.held:
            connection.close()
        self.listener.close()


class AgentTest(PamTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki_dir = tempfile.mkdtemp(prefix="twofactor-pki-")
        cls.addClassCleanup(shutil.rmtree, cls.pki_dir, True)
        cls.ca = tls.Pki(cls.pki_dir)
        server_cert, server_key = cls.ca.issue("localhost", ip="127.0.0.1")
        cls.agent_cert = cls.ca.issue("login1.test")
        cls.hosts_file = os.path.join(cls.pki_dir, "hosts")
        with open(cls.hosts_file, "w") as f:
            f.write("login1.test\n")
        cls.port = free_loopback_port()
        cls.config = merged(LIBERAL_LIMITS, {"listen": {
            "address": f"127.0.0.1:{cls.port}", "certificate_file": server_cert,
            "key_file": server_key, "client_ca_file": cls.ca.ca, "hosts_file": cls.hosts_file},
            # The daemon's default text: it names the agent's host (issue 22).
            "sms": {"message": None}})
        super().setUpClass()

    def start_agent(self, servers, extra="", ca=None):
        """(socket path, a function returning the agent's log); self.agent_process and
        self.agent_dir are the last agent's."""
        """An agent on its own socket forwarding to `servers`; stopped after the test."""
        directory = tempfile.mkdtemp(prefix="agent-", dir=self.h.dir)
        os.chmod(directory, 0o755)
        socket_path = os.path.join(directory, "socket")
        config = os.path.join(directory, "twofactord.conf")
        with open(config, "w") as f:
            f.write(f"[daemon]\nsocket = {socket_path}\ndebug = yes\n"
                    f"[store]\nbackend = remote\n"
                    f"[remote]\nservers = {servers}\nca_file = {ca or self.ca.ca}\n"
                    f"certificate_file = {self.agent_cert[0]}\nkey_file = {self.agent_cert[1]}\n"
                    f"timeout = 10\nretry_after = 60\n{extra}")
        os.chmod(config, 0o600)
        log_path = os.path.join(directory, "agent.log")
        log = open(log_path, "ab")
        self.addCleanup(log.close)
        process = subprocess.Popen([binary("TWOFACTORD"), "--config", config],
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   preexec_fn=harness._die_with_parent)

        def stop():
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=15)
        self.addCleanup(stop)
        self.agent_process, self.agent_dir = process, directory
        def read_log():
            with open(log_path) as f:
                return f.read()
        ready = wait_until(lambda: process.poll() is not None or os.path.exists(socket_path),
                           10.0)
        self.assertTrue(ready and process.poll() is None,
                        f"the agent did not start: {read_log()}")
        return socket_path, read_log

    def login_with_texted_code(self, user, socket_path):
        before = len(self.h.messages())
        login = self.login(user, socket_path=socket_path)
        login.prompt()
        login.answer(self.texted_code(before))
        return login.finish()

    def test_a_pam_login_through_an_agent(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        agent, agent_log = self.start_agent(f"127.0.0.1:{self.port}")
        result = self.login_with_texted_code(user, agent)
        self.assertResult(result, "PAM_SUCCESS")
        self.assertIn("host=login1.test", self.h.daemon_log())
        # The text names the service and the login host, the agent's: not the server's own.
        body = self.h.messages()[-1]["form"]["Body"]
        self.assertRegex(body, rf"^\d{{6}} is your code for {re.escape(SERVICE)} on login1\.test$")
        # Root on the agent's host may not administer: the server says no, the agent relays it.
        rc, reply, err = self.h.ctl_json("unlock", user, socket_path=agent)
        self.assertEqual(rc, 1, (reply, err))
        self.assertEqual(reply.get("error"), "io.twofactor.PermissionDenied", reply)

    def test_the_agent_holds_no_secret(self):
        user = self.h.create_user()
        secret = self.enroll_texted(user)
        agent, agent_log = self.start_agent(f"127.0.0.1:{self.port}")
        self.assertResult(self.login_with_texted_code(user, agent), "PAM_SUCCESS")
        with open(self.h.key_path, "rb") as f:
            key_file = f.read().strip()
        # The number in full, as the server holds it (ten 5s alone are a common constant in
        # machine code, 0x5555...).
        canaries = {"the TOTP secret": secret.encode(), "the phone number": PHONE.encode(),
                    "the key file's text": key_file, "the Twilio token": self.h.auth_token.encode()}
        if len(key_file) == 64:
            canaries["the key's bytes"] = bytes.fromhex(key_file.decode())
        # Its configuration and state directory, and every byte of its memory.
        files = b""
        for name in os.listdir(self.agent_dir):
            path = os.path.join(self.agent_dir, name)
            if os.path.isfile(path):  # not the socket
                with open(path, "rb") as f:
                    files += f.read()
        found = set()  # the canaries found in the agent's memory, region by region
        read_bytes = 0
        seen_name = False
        pid = self.agent_process.pid
        with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
            for line in maps:
                fields = line.split()
                if "r" not in fields[1] or line.rstrip().endswith(("[vvar]", "[vsyscall]")):
                    continue
                start, end = (int(x, 16) for x in fields[0].split("-"))
                # AddressSanitizer's shadow is terabytes of readable, never-touched mappings;
                # the agent itself maps nothing near that size.
                if end - start > LARGEST_REGION:
                    continue
                # In chunks that overlap by the longest canary, so none is cut in two.
                position, tail = start, b""
                while position < end:
                    try:
                        mem.seek(position)
                        chunk = tail + mem.read(min(CHUNK, end - position))
                    except (OSError, ValueError, OverflowError):
                        break
                    read_bytes += len(chunk) - len(tail)
                    seen_name = seen_name or b"login1.test" in chunk
                    found.update(what for what, canary in canaries.items() if canary in chunk)
                    tail = chunk[-OVERLAP:]
                    position += CHUNK
        self.assertGreater(read_bytes, 1 << 20)  # the agent's memory was read
        self.assertTrue(seen_name)  # its own certificate is there: the search finds what is
        for what, canary in canaries.items():
            with self.subTest(what):
                # Not assertNotIn: it would print the whole memory.
                self.assertFalse(canary in files, f"{what} is in the agent's files")
                self.assertNotIn(what, found, f"{what} is in the agent's memory")

    def test_failover_past_a_server_that_is_down(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        dead = free_loopback_port()  # nothing listens there
        agent, agent_log = self.start_agent(f"localhost:{dead}, 127.0.0.1:{self.port}")
        for _ in range(2):
            self.assertResult(self.login_with_texted_code(user, agent), "PAM_SUCCESS")
        # The dead server was tried once, then skipped for retry_after.
        self.assertEqual(agent_log().count("a server failed"), 1, agent_log())

    def test_no_server_is_unavailable_and_failmode_decides(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        agent, agent_log = self.start_agent(f"127.0.0.1:{free_loopback_port()}")
        rc, reply, err = self.h.ctl_json("status", user, socket_path=agent)
        self.assertEqual(reply.get("error"), "io.twofactor.Unavailable", (rc, reply, err))
        result = self.login(user, socket_path=agent).finish()
        self.assertResult(result, "PAM_AUTHINFO_UNAVAIL")

    def test_a_server_that_took_the_call_and_went_silent_is_a_refusal(self):
        # The server received Begin (it may have made a challenge and sent a text) and never
        # answered: "no daemon" (Unavailable) would let failmode=safe in; it must be refused.
        user = self.h.create_user()
        self.enroll_texted(user)
        silent = SilentServer(*self.ca.issue("localhost", ip="127.0.0.1"))
        self.addCleanup(silent.close)
        agent, agent_log = self.start_agent(f"127.0.0.1:{silent.port}")
        result = self.login(user, "timeout=5 failmode=safe", socket_path=agent).finish()
        self.assertTrue(silent.received.wait(5), "the server never got the call")
        self.assertNotEqual(result.name, "PAM_SUCCESS", result)
        self.assertNotIn("letting the user in because failmode=safe", result.log)
        self.assertIn("Begin: the daemon failed", result.log)

    def status_through(self, agent, users):
        """`twofactorctl status` of each user through the agent, at once; the replies."""
        replies = [None] * len(users)

        def ask(i):
            replies[i] = self.h.ctl_json("status", users[i], socket_path=agent)
        threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(users))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return replies

    def test_calls_reuse_the_agents_connections(self):
        user = self.h.create_user()
        self.enroll_texted(user)
        agent, agent_log = self.start_agent(f"127.0.0.1:{self.port}")
        admitted = self.h.daemon_log().count("admitted a host")
        for _ in range(10):
            rc, reply, err = self.h.ctl_json("status", user, socket_path=agent)
            self.assertEqual(rc, 0, (reply, err))
        self.assertResult(self.login_with_texted_code(user, agent), "PAM_SUCCESS")
        # Ten calls and a login's two, one after another: one TLS connection, not twelve.
        connections = self.h.daemon_log().count("admitted a host") - admitted
        self.assertEqual(connections, 1, agent_log())

    def test_a_server_restart_is_survived_by_the_open_connections(self):
        users = [self.h.create_user() for _ in range(4)]
        for user in users:
            self.enroll_texted(user)
        agent, agent_log = self.start_agent(f"127.0.0.1:{self.port}")
        for rc, reply, err in self.status_through(agent, users):
            self.assertEqual(rc, 0, (reply, err))
        # The agent holds up to four idle connections the restart closes under it: each call
        # after it must find them closed and open a new one, with no call failed and the server
        # not skipped.
        self.h.restart_daemon()
        for _ in range(3):
            for rc, reply, err in self.status_through(agent, users):
                self.assertEqual(rc, 0, (reply, err, agent_log()))
        self.assertNotIn("a server failed", agent_log())
        self.assertResult(self.login_with_texted_code(users[0], agent), "PAM_SUCCESS")

    def test_a_server_the_agents_ca_did_not_sign_is_not_trusted(self):
        other = tls.Pki(os.path.join(self.pki_dir, "other"), name="other")
        agent, agent_log = self.start_agent(f"127.0.0.1:{self.port}", ca=other.ca)
        rc, reply, err = self.h.ctl_json("status", "root", socket_path=agent)
        self.assertEqual(reply.get("error"), "io.twofactor.Unavailable", (rc, reply, err))
        self.assertIn("TLS handshake failed", agent_log())

    def test_an_agent_holding_a_secret_does_not_start(self):
        directory = tempfile.mkdtemp(prefix="agent-", dir=self.h.dir)
        config = os.path.join(directory, "twofactord.conf")
        with open(config, "w") as f:
            f.write(f"[store]\nbackend = remote\n[remote]\nservers = 127.0.0.1:{self.port}\n"
                    f"ca_file = {self.ca.ca}\ncertificate_file = {self.agent_cert[0]}\n"
                    f"[twilio]\nauth_token = {self.h.auth_token}\n")
        os.chmod(config, 0o600)
        result = subprocess.run([binary("TWOFACTORD"), "--config", config], capture_output=True,
                                text=True, timeout=30)
        self.assertEqual(result.returncode, 1, result)
        self.assertIn(f"{config}:8: an agent ([store] backend = remote) has no [twilio] section",
                      result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
