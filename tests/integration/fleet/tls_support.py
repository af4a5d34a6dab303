# SPDX-License-Identifier: BSD-2-Clause
"""Certificates for a fleet's mutual TLS, made with the openssl command under a temporary CA, and
a client that speaks the daemon's Varlink frames inside TLS as an agent does."""

import json
import os
import socket
import ssl
import subprocess
import time

PREFIX = "io.twofactor."
REPLY_TIMEOUT = 15.0


def _openssl(*args, cwd):
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {result.stderr}")


class Pki:
    """A CA in `directory`, and certificates it signs: pki.issue("login1.test") makes
    login1.test.crt and .key (the name as DNS subjectAltName, or as CN only with san=False)."""

    def __init__(self, directory, name="ca"):
        self.dir = directory
        self.name = name
        os.makedirs(directory, exist_ok=True)
        self.ca = os.path.join(directory, f"{name}.crt")
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2",
                 "-subj", f"/CN=twofactor test {name}", cwd=directory)

    def issue(self, host, san=True, ip=None):
        """(certificate path, key path) of a new certificate for `host`."""
        prefix = f"{self.name}-{host}"
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", f"{prefix}.key", "-out", f"{prefix}.csr", "-subj", f"/CN={host}",
                 cwd=self.dir)
        extensions = os.path.join(self.dir, f"{prefix}.ext")
        names = [f"DNS:{host}"] + ([f"IP:{ip}"] if ip else [])
        with open(extensions, "w") as f:
            f.write("basicConstraints = CA:FALSE\n")
            if san:
                f.write(f"subjectAltName = {', '.join(names)}\n")
        _openssl("x509", "-req", "-in", f"{prefix}.csr", "-CA", f"{self.name}.crt", "-CAkey",
                 f"{self.name}.key", "-CAcreateserial", "-out", f"{prefix}.crt", "-days", "2",
                 "-extfile", extensions, cwd=self.dir)
        key = os.path.join(self.dir, f"{prefix}.key")
        os.chmod(key, 0o600)
        return os.path.join(self.dir, f"{prefix}.crt"), key


def connect(port, server_ca, certificate=None, key=None, server_name="localhost", timeout=10.0):
    """A TLS 1.3 connection to the server on 127.0.0.1:port, verifying it against
    `server_ca`, presenting `certificate` when given. Raises ssl.SSLError or OSError when the
    handshake fails."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_verify_locations(server_ca)
    if certificate:
        context.load_cert_chain(certificate, key)
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        return context.wrap_socket(raw, server_hostname=server_name)
    except BaseException:
        raw.close()
        raise


def read_reply(sock, timeout=REPLY_TIMEOUT):
    """The next message as a dict, or None when the server closed the connection."""
    data = b""
    deadline = time.monotonic() + timeout
    while b"\0" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no reply within {timeout} s; read {data[:200]!r}")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            return None
        if not chunk:
            return None
        data += chunk
    return json.loads(data[:data.index(b"\0")].decode())


def call(sock, method, parameters=None, uid=0, user=""):
    """One call as the host's uid/user (root: 0, ""); the reply dict, or None when closed."""
    body = {"method": PREFIX + method, "parameters": parameters or {},
            "caller": {"uid": uid, "user": user}}
    try:
        sock.sendall(json.dumps(body).encode() + b"\0")
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
        return None
    return read_reply(sock)


def error_of(reply):
    if reply is None:
        raise AssertionError("the server closed the connection instead of replying")
    error = reply.get("error")
    return None if error is None else error[len(PREFIX):]


def refused(port, server_ca, certificate=None, key=None):
    """True when the server refuses this client: the handshake fails, or the server closes the
    connection without answering a call."""
    try:
        sock = connect(port, server_ca, certificate, key)
    except (ssl.SSLError, OSError):
        return True
    with sock:
        return call(sock, "Status", {"user": "root"}) is None
