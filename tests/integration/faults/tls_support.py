# SPDX-License-Identifier: BSD-2-Clause
"""A throw-away certificate authority for the tests' HTTPS endpoint, made with the openssl
command: a CA certificate and a server certificate for 127.0.0.1 that it signed."""

import os
import subprocess

OPENSSL_TIMEOUT = 30


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=OPENSSL_TIMEOUT)


def make_ca_and_server(directory, name):
    """Writes NAME-ca.pem, NAME-server.pem and NAME-server.key into `directory`; returns
    {"ca", "cert", "key"} paths. Keys are P-256, valid for two days."""
    ca_key = os.path.join(directory, f"{name}-ca.key")
    ca = os.path.join(directory, f"{name}-ca.pem")
    key = os.path.join(directory, f"{name}-server.key")
    request = os.path.join(directory, f"{name}-server.csr")
    cert = os.path.join(directory, f"{name}-server.pem")
    extensions = os.path.join(directory, f"{name}-server.ext")
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *curve, "-keyout", ca_key, "-out", ca, "-days", "2",
             "-subj", f"/CN=twofactor test CA {name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("req", *curve, "-keyout", key, "-out", request, "-subj", "/CN=127.0.0.1")
    with open(extensions, "w", encoding="ascii") as f:
        f.write("subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n"
                "extendedKeyUsage = serverAuth\n")
    _openssl("x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
             "-out", cert, "-days", "2", "-extfile", extensions)
    return {"ca": ca, "cert": cert, "key": key}
