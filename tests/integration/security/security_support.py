# SPDX-License-Identifier: BSD-2-Clause
"""What the security tests share, on top of the CLI tests' helpers (cli_support, harness):
a raw wire-protocol client that connects as any uid, snapshots of the database, and ways to
run twofactord by hand and watch it fail.
"""

import json
import os
import pwd
import socket
import sqlite3
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.dirname(HERE)
for path in (os.path.join(INTEGRATION, "cli"), os.path.join(INTEGRATION, "pam"), INTEGRATION):
    if path not in sys.path:
        sys.path.insert(0, path)

import harness  # noqa: E402
from cli_support import (LIBERAL_LIMITS, MASKED, PHONE, CliTestCase, main,  # noqa: E402,F401
                         merged, totp, wrong_code)

REPLY_TIMEOUT = 15.0  # seconds for one reply on a raw connection
PREFIX = "io.twofactor."


def require_root(test_case_class):
    """Skips a TestCase class when not run as root (it needs setpriv, useradd, other uids)."""
    if os.geteuid() != 0:
        return unittest.skip("needs root (temporary users, other uids)")(test_case_class)
    return test_case_class


def ids_of(user):
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def unnamed_uid(start=61000, count=4000):
    """A uid no passwd entry names (the daemon finds no login name for it)."""
    for uid in range(start, start + count):
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
    raise RuntimeError("no free uid found")


def connect_as(path, uid=0, gid=0, timeout=REPLY_TIMEOUT):
    """A socket connected to `path` whose SO_PEERCRED is uid/gid.

    The kernel records the credentials at connect(): a forked child takes the ids, connects and
    hands the descriptor back over a socket pair, so the test process itself stays root."""
    parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:  # the child: never returns into the test runner
        status = 1
        try:
            parent_end.close()
            os.setgroups([])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect(path)
            socket.send_fds(child_end, [b"ok"], [s.fileno()])
            status = 0
        except BaseException as e:  # noqa: BLE001  (reported to the parent, then exit)
            try:
                child_end.sendall(f"connect as uid {uid} failed: {e}".encode()[:900])
            except OSError:
                pass
        finally:
            os._exit(status)
    child_end.close()
    try:
        parent_end.settimeout(timeout)
        message, fds, _, _ = socket.recv_fds(parent_end, 1024, 1)
    finally:
        parent_end.close()
        os.waitpid(pid, 0)
    if not fds:
        raise OSError(message.decode(errors="replace") or "the child sent no descriptor")
    s = socket.socket(fileno=fds[0])
    s.settimeout(timeout)
    return s


def frame(message):
    """One protocol message: a dict becomes its JSON; bytes are sent as they are."""
    if isinstance(message, (bytes, bytearray)):
        return bytes(message)
    return json.dumps(message).encode() + b"\0"


def read_message(sock, timeout=REPLY_TIMEOUT):
    """The next message as a dict, or None when the daemon closed the connection first.
    Raises AssertionError when nothing came within `timeout` seconds. Reads exactly one
    message: what follows its NUL stays in the socket for the next call (MSG_PEEK)."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no reply and no close within {timeout} s; read {data[:200]!r}")
        sock.settimeout(left)
        try:
            peeked = sock.recv(1 << 20, socket.MSG_PEEK)
            if not peeked:
                return None
            end = peeked.find(b"\0")
            # Bytes before a NUL belong to this message: take them; leave the rest unread.
            wanted = len(peeked) if end < 0 else end + 1
            while wanted > 0:
                chunk = sock.recv(wanted)
                if not chunk:
                    return None
                data += chunk
                wanted -= len(chunk)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return None
        if end >= 0:
            return json.loads(data[:-1].decode())


def call(sock, method, parameters=None):
    """Sends one call and returns the reply dict (None if the connection was closed)."""
    body = {"method": PREFIX + method}
    if parameters is not None:
        body["parameters"] = parameters
    try:
        sock.sendall(frame(body))
    except (BrokenPipeError, ConnectionResetError):
        return None
    return read_message(sock)


def call_as(socket_path, uid, gid, method, parameters=None):
    """One call on a new connection as uid/gid; returns the reply dict (None when closed)."""
    with connect_as(socket_path, uid, gid) as s:
        return call(s, method, parameters)


def error_of(reply):
    """"NotFound" for {"error": "io.twofactor.NotFound"}, None for a success reply."""
    if reply is None:
        raise AssertionError("the daemon closed the connection instead of replying")
    error = reply.get("error")
    return None if error is None else error[len(PREFIX):] if error.startswith(PREFIX) else error


def closed_by_peer(sock, timeout):
    """True when the daemon closes the connection within `timeout` seconds (data it sends
    first is read and dropped), False when it is still open then."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not chunk:
            return True


# ---- the database ---------------------------------------------------------------------------

def database_dump(path):
    """Every row and the schema, as `sqlite3 -readonly DB .dump` prints them."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def enrollment_rows(path):
    """The users table as raw rows (the sealed blobs byte for byte)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return connection.execute(
            "SELECT name, secret, phone, delivery, enabled_at FROM users ORDER BY name").fetchall()
    finally:
        connection.close()


def file_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


# ---- twofactord run by hand -----------------------------------------------------------------

def run_daemon_once(config_path, timeout=15.0):
    """Runs twofactord --config PATH expecting it to stop by itself; returns (rc, output).
    A daemon that keeps running is killed after `timeout` and reported as rc None."""
    process = subprocess.Popen([harness.binary("TWOFACTORD"), "--config", config_path],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, preexec_fn=harness._die_with_parent)
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output.decode(errors="replace")
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate(timeout=10)
        return None, output.decode(errors="replace")


def rss_kib(process):
    """The resident memory of a running process, in KiB."""
    with open(f"/proc/{process.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS line")


class SecurityTestCase(CliTestCase):
    """A CliTestCase (one daemon per class) with raw-protocol helpers."""

    def wire(self, method, parameters=None, as_user=None, uid=None, gid=None):
        """One call over a new raw connection as root, as a named user or as uid/gid."""
        if as_user is not None:
            uid, gid = ids_of(as_user)
        return call_as(self.h.socket_path, uid or 0, gid or 0, method, parameters)

    def assertServes(self):
        """The daemon is alive and answers a good request."""
        self.assertIsNone(self.h.daemon.poll(), f"twofactord died:\n{self.h.daemon_log()[-3000:]}")
        reply = self.wire("GenerateSecret")
        self.assertIsNotNone(reply, "the daemon closed a good request's connection")
        self.assertIsNone(error_of(reply), reply)
        self.assertGreaterEqual(len(reply["parameters"]["secret"]), 16, reply)

    def enable_texted_quietly(self, user, phone=PHONE):
        """Root enables TextMessage delivery with the secret's current code: no setup text is
        sent, so text limits and counts stay untouched. Returns the secret."""
        secret = self.new_secret()
        self.ok("enable", user, "--secret", secret, "--code", totp(secret), "--phone", phone)
        return secret
