# SPDX-License-Identifier: BSD-2-Clause
"""Calls to twofactord over its socket (doc/protocol.md), many at a time: the benchmarks enroll
tens of thousands of users, which would take far longer one twofactorctl process each.

Calls are pipelined: a batch is written at once and the daemon answers each in turn (it reads
the next call only after answering the last one, so replies come in order)."""

import json
import socket
import time

TIMEOUT = 60.0


class DaemonError(Exception):
    pass


class DaemonConnection:
    def __init__(self, path, timeout=TIMEOUT):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buffer = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _read_reply(self):
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                raise DaemonError("no reply within the time limit")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise DaemonError("the daemon closed the connection")
            self.buffer += chunk
        frame, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(frame)

    def calls(self, batch):
        """[(method, parameters)] -> [reply objects], in order."""
        out = b"".join(json.dumps({"method": "io.twofactor." + method, "parameters": params},
                                  separators=(",", ":")).encode() + b"\0"
                       for method, params in batch)
        self.sock.sendall(out)
        return [self._read_reply() for _ in batch]

    def call(self, method, parameters):
        return self.calls([(method, parameters)])[0]


def enable_all(socket_path, enrollments, code_of, batch=200, progress=None):
    """Enables each (user, secret, delivery, phone): `code_of(secret)` gives a current code.
    Returns how many succeeded; raises DaemonError on the first refusal."""
    done = 0
    with DaemonConnection(socket_path) as connection:
        for start in range(0, len(enrollments), batch):
            chunk = enrollments[start:start + batch]
            requests = []
            for user, secret, delivery, phone in chunk:
                params = {"user": user, "secret": secret, "code": code_of(secret),
                          "delivery": delivery}
                if phone:
                    params["mobilePhone"] = phone
                requests.append(("Enable", params))
            for (user, *_), reply in zip(chunk, connection.calls(requests)):
                if "error" in reply:
                    raise DaemonError(f"Enable {user}: {reply['error']} {reply.get('parameters')}")
                done += 1
            if progress:
                progress(done)
    return done
