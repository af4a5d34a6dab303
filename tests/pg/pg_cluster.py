#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A throwaway PostgreSQL cluster for the tests: `pg_cluster.py start STATE` and `stop STATE`.

start: initdb as the postgres user (initdb refuses root) in a new temporary directory, a free
loopback port, unix socket in the same directory; creates the role `twofactord` with a password
(scram-sha-256 over TCP) and writes STATE, a JSON file: dir, port, host, admin (a conninfo for
the superuser over the unix socket), password. stop: pg_ctl stop, and the directory is removed.
One cluster serves every test that needs one (a ctest fixture), each test in its own database.
"""
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

BIN = "/usr/lib/postgresql/15/bin"
RUN_AS = "postgres"


def as_postgres(args, **kwargs):
    return subprocess.run(["runuser", "-u", RUN_AS, "--"] + args, check=True,
                          timeout=120, **kwargs)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(state, sql, dbname="postgres"):
    conninfo = f"host={state['dir']} port={state['port']} user=postgres dbname={dbname}"
    return subprocess.run([f"{BIN}/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                           "-c", sql], check=True, timeout=60, capture_output=True, text=True)


def pg_ctl(state, action):
    data = os.path.join(state["dir"], "data")
    log = os.path.join(state["dir"], "server.log")
    options = (f"-p {state['port']} -k {state['dir']} -c listen_addresses=127.0.0.1 "
               "-c max_connections=200")
    # Tests trade durability for speed; benchmarks measure the server as its users run it.
    if not state.get("durable"):
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    args = [f"{BIN}/pg_ctl", "-D", data, "-l", log, "-w", "-t", "60"]
    if action == "start":
        args += ["-o", options, "start"]
    else:
        args += ["-m", "fast", action]
    as_postgres(args, stdout=subprocess.DEVNULL)


def start(state_path, durable=False):
    pw = pwd.getpwnam(RUN_AS)
    directory = tempfile.mkdtemp(prefix="twofactor-pg-")
    os.chown(directory, pw.pw_uid, pw.pw_gid)
    os.chmod(directory, 0o755)
    state = {"dir": directory, "port": free_port(), "host": "127.0.0.1",
             "password": "fleet-" + os.urandom(8).hex(), "durable": durable}
    try:
        as_postgres([f"{BIN}/initdb", "-D", os.path.join(directory, "data"), "-U", "postgres",
                     "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
                     "-E", "UTF8", "--locale=C.UTF-8"], stdout=subprocess.DEVNULL)
        pg_ctl(state, "start")
        psql(state, "CREATE ROLE twofactord LOGIN CREATEDB PASSWORD '%s'" % state["password"])
    except Exception:
        stop_dir(state)
        raise
    state["admin"] = f"host={directory} port={state['port']} user=postgres dbname=postgres"
    with open(state_path, "w") as f:
        json.dump(state, f)


def stop_dir(state):
    try:
        pg_ctl(state, "stop")
    except Exception:
        pass
    shutil.rmtree(state["dir"], ignore_errors=True)


def stop(state_path):
    try:
        with open(state_path) as f:
            state = json.load(f)
    except FileNotFoundError:
        return
    stop_dir(state)
    os.unlink(state_path)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        print("usage: pg_cluster.py start|stop STATE", file=sys.stderr)
        return 2
    (start if sys.argv[1] == "start" else stop)(sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
