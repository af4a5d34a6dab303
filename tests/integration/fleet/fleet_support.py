# SPDX-License-Identifier: BSD-2-Clause
"""What the fleet tests share: databases in the PostgreSQL cluster the ctest fixture started
(tests/pg; its state file is $TWOFACTOR_TEST_PG), harnesses whose daemons use them, and hosts
A and B: two daemons with their own sockets and Twilio endpoints sharing one database and one
key."""

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "pam"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(_HERE)), "pg"))

import pam_support  # noqa: E402
from harness import Harness, totp, wait_for_step_start  # noqa: E402,F401
from pam_support import LIBERAL_LIMITS, Login, merged  # noqa: E402,F401
import pg_cluster  # noqa: E402

PHONE_PREFIX = "+1555"


def cluster_state():
    path = os.environ.get("TWOFACTOR_TEST_PG")
    if not path:
        raise RuntimeError("TWOFACTOR_TEST_PG is not set: run the fleet tests through ctest")
    with open(path) as f:
        return json.load(f)


def create_database(state, prefix="fleet"):
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    pg_cluster.psql(state, f"CREATE DATABASE {name} OWNER twofactord")
    return name


def drop_database(state, name):
    try:
        pg_cluster.psql(state, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except subprocess.CalledProcessError:
        pass  # the cluster is gone already (its own test stopped it)


class Database:
    """A database of its own and the password file its daemons read."""

    def __init__(self, state):
        self.state = state
        self.name = create_database(state)
        self.dir = tempfile.mkdtemp(prefix="twofactor-fleet-")
        self.password_file = os.path.join(self.dir, "password")
        with open(self.password_file, "w") as f:
            f.write(state["password"] + "\n")
        os.chmod(self.password_file, 0o600)

    def config(self):
        return {"store": {"backend": "postgresql"},
                "postgresql": {"conninfo": f"host={self.state['host']} port={self.state['port']} "
                                           f"user=twofactord dbname={self.name} "
                                           "connect_timeout=2",
                               "password_file": self.password_file}}

    def sql(self, statement):
        return pg_cluster.psql(self.state, statement, dbname=self.name).stdout

    def close(self):
        drop_database(self.state, self.name)
        subprocess.run(["rm", "-rf", self.dir], check=False)


def start_hosts(database, count=2, config=None):
    """Harnesses sharing `database` and the first one's key: the hosts of a fleet."""
    hosts = []
    try:
        for index in range(count):
            extra = {} if index == 0 else {"daemon": {"key_file": hosts[0].key_path}}
            h = Harness(config=merged(LIBERAL_LIMITS, database.config(), config or {}, extra))
            h.__enter__()
            hosts.append(h)
    except BaseException:
        for h in hosts:
            h.stop()
        raise
    return hosts


def phone_for(index):
    return f"{PHONE_PREFIX}{index:07d}"


def code_for(h, phone, timeout=20.0):
    """The code of the last text `h`'s endpoint took for `phone`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = [m for m in h.messages() if m["form"].get("To") == phone and m["status"] == 201]
        if sent:
            codes = pam_support.CODE.findall(sent[-1]["form"].get("Body", ""))
            if codes:
                return codes[0]
        time.sleep(0.05)
    raise AssertionError(f"no text to {phone} within {timeout} s")


def enroll_quietly(test, h, user, phone=None):
    """Enables a user with an authenticator's current code (no text). Returns the secret."""
    wait_for_step_start(margin=5)
    rc, reply, err = h.ctl_json("secret")
    test.assertEqual(rc, 0, err)
    secret = reply["secret"]
    args = ["enable", user, "--secret", secret, "--code", totp(secret)]
    args += ["--phone", phone] if phone else ["--delivery", "None"]
    rc, out, err = h.ctl(*args)
    test.assertEqual(rc, 0, f"{out} {err}")
    return secret
