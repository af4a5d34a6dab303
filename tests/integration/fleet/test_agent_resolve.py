# SPDX-License-Identifier: BSD-2-Clause
"""An agent looks its servers' names up within the caller's timeout. The agent runs in a mount
namespace of its own whose /etc/resolv.conf names a DNS server on a loopback address that takes
queries and never answers (the machine's own file is untouched): a call to a server named only
in DNS is answered Unavailable within [remote] timeout, not after the resolver gives up; a name
from /etc/hosts (localhost) is looked up and served as before."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))

from cli_support import LIBERAL_LIMITS, CliTestCase, merged  # noqa: E402
import harness  # noqa: E402
from harness import binary, free_loopback_port, wait_until  # noqa: E402
import tls_support as tls  # noqa: E402

TIMEOUT = 2  # [remote] timeout, seconds
HANG = 30  # seconds the resolver waits for the silent DNS server (resolv.conf's timeout)
SILENT_DNS = "127.0.83.53"  # a loopback address of its own, port 53: nothing else uses it


class AgentResolveTest(CliTestCase):
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
            "key_file": server_key, "client_ca_file": cls.ca.ca, "hosts_file": cls.hosts_file}})
        # The DNS server that never answers: a bound socket that reads nothing (an unbound port
        # would be refused at once, which is no hang).
        cls.dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cls.addClassCleanup(cls.dns.close)
        cls.dns.bind((SILENT_DNS, 53))
        cls.resolv_conf = os.path.join(cls.pki_dir, "resolv.conf")
        with open(cls.resolv_conf, "w") as f:
            f.write(f"nameserver {SILENT_DNS}\noptions timeout:{HANG} attempts:1\n")
        super().setUpClass()

    def start_agent(self, servers):
        """An agent forwarding to `servers`, in its own mount namespace with the silent DNS
        server; its socket path. Stopped after the test."""
        directory = tempfile.mkdtemp(prefix="agent-", dir=self.h.dir)
        os.chmod(directory, 0o755)
        socket_path = os.path.join(directory, "socket")
        config = os.path.join(directory, "twofactord.conf")
        with open(config, "w") as f:
            f.write(f"[daemon]\nsocket = {socket_path}\ndebug = yes\n"
                    f"[store]\nbackend = remote\n"
                    f"[remote]\nservers = {servers}\nca_file = {self.ca.ca}\n"
                    f"certificate_file = {self.agent_cert[0]}\nkey_file = {self.agent_cert[1]}\n"
                    f"timeout = {TIMEOUT}\nretry_after = 60\n")
        os.chmod(config, 0o600)
        log_path = os.path.join(directory, "agent.log")
        log = open(log_path, "ab")
        self.addCleanup(log.close)
        # unshare's namespace is private: the bind mount is seen by the agent alone.
        command = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   'mount --bind "$0" /etc/resolv.conf && exec "$@"', self.resolv_conf,
                   binary("TWOFACTORD"), "--config", config]
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   preexec_fn=harness._die_with_parent)

        def stop():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=15)
                    self.fail("the agent did not stop within 15 s of SIGTERM")
        self.addCleanup(stop)
        ready = wait_until(lambda: process.poll() is not None or os.path.exists(socket_path),
                           10.0)
        self.agent_log_path = log_path
        self.assertTrue(ready and process.poll() is None,
                        f"the agent did not start: {self.agent_log()}")
        return socket_path

    def agent_log(self):
        with open(self.agent_log_path) as f:
            return f.read()

    def call(self, socket_path, limit):
        """Status for root through the agent as root: (reply, seconds taken), or (None,
        seconds) when no reply came within `limit` seconds."""
        started = time.monotonic()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(limit)
            s.connect(socket_path)
            s.sendall(b'{"method":"io.twofactor.Status","parameters":{"user":"root"}}\0')
            data = b""
            try:
                while b"\0" not in data:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except socket.timeout:
                return None, time.monotonic() - started
        taken = time.monotonic() - started
        return (json.loads(data[:data.index(b"\0")]) if b"\0" in data else None), taken

    def test_a_name_dns_does_not_answer_for_is_unavailable_in_time(self):
        agent = self.start_agent(f"hang.twofactor.test:{self.port}")
        for attempt in range(2):  # the second while the first look-up still hangs
            reply, taken = self.call(agent, limit=TIMEOUT + 6)
            self.assertIsNotNone(reply, f"no answer within {TIMEOUT + 6} s (attempt {attempt})")
            self.assertEqual(reply.get("error"), "io.twofactor.Unavailable", reply)
            self.assertLess(taken, TIMEOUT + 1.5, f"answered after {taken:.1f} s")
        # The server failed for the look-up, not for anything else.
        self.assertIn("no answer from DNS in time", self.agent_log())

    def test_a_name_from_etc_hosts_is_served(self):
        agent = self.start_agent(f"localhost:{self.port}")
        reply, taken = self.call(agent, limit=TIMEOUT + 6)
        self.assertIsNotNone(reply)
        self.assertNotIn("error", reply, reply)
        self.assertIn("enabled", reply["parameters"], reply)


if __name__ == "__main__":
    unittest.main(verbosity=2)
