# SPDX-License-Identifier: BSD-2-Clause
"""The benchmarks' PostgreSQL: a cluster of its own on 127.0.0.1 with PostgreSQL's default
durability (fsync and synchronous_commit on), started and removed by the run, one database per
daemon configuration; and `texted-pg`, texted logins on it with several store connections, one,
and a baseline build's daemon, in one run."""

import contextlib
import json
import os
import shutil
import sys
import tempfile

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "pg"))

import pg_cluster  # noqa: E402
from bench_rig import Rig, make_users  # noqa: E402


class Cluster:
    """A running cluster; `database(name)` makes a database and returns the [store] and
    [postgresql] sections of a daemon's config that use it."""

    def __init__(self, state, directory):
        self.state = state
        self.directory = directory

    def database(self, name, connections=None):
        pg_cluster.psql(self.state, f"CREATE DATABASE {name} OWNER twofactord")
        password_file = os.path.join(self.directory, "password")
        with open(password_file, "w") as f:
            f.write(self.state["password"])
        os.chmod(password_file, 0o600)
        postgresql = {"conninfo": f"host=127.0.0.1 port={self.state['port']} "
                                  f"user=twofactord dbname={name}",
                      "password_file": password_file}
        if connections is not None:
            postgresql["connections"] = connections
        return {"store": {"backend": "postgresql"}, "postgresql": postgresql}


@contextlib.contextmanager
def cluster():
    directory = tempfile.mkdtemp(prefix="twofactor-bench-pg-")
    state_file = os.path.join(directory, "pg.json")
    pg_cluster.start(state_file, durable=True)
    try:
        with open(state_file) as f:
            yield Cluster(json.load(f), directory)
    finally:
        pg_cluster.stop(state_file)
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def daemon_from(build):
    """Runs the daemon of another build tree (the baseline) inside the block."""
    if build is None:
        yield
        return
    saved = os.environ.get("TWOFACTORD")
    os.environ["TWOFACTORD"] = os.path.join(os.path.abspath(build), "daemon", "twofactord")
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TWOFACTORD", None)
        else:
            os.environ["TWOFACTORD"] = saved


def bench_texted_pg(args, out, columns, table):
    """Texted logins, the endpoint answering after --delay-ms, on PostgreSQL: this tree's daemon
    with --connections store connections, with one, and the baseline build's daemon with
    --connections; each on a database of its own, the same users and processes."""
    runs = [(f"this tree, {args.connections} connections", None, args.connections),
            ("this tree, 1 connection", None, 1)]
    if args.baseline_build:
        runs.append((f"baseline {args.baseline_label}, {args.connections} connections",
                     args.baseline_build, args.connections))
    rows = []
    with cluster() as pg:
        for number, (label, build, connections) in enumerate(runs):
            config = pg.database(f"bench_texted_{number}", connections)
            with daemon_from(build), Rig(delay_ms=args.delay_ms, config=config) as rig:
                users = make_users(f"bp{number}", args.users, texted=True)
                rig.enroll(users, "TextMessage")
                report = rig.run("twofactor", users, args.processes, "text",
                                 label=f"PostgreSQL, texted, {label}")
                rows.append(out.record(report, endpoint_delay_ms=args.delay_ms,
                                       connections=connections))
    table(rows, columns)
    many = rows[0]["logins_per_second"]
    one = rows[1]["logins_per_second"]
    print(f"# {args.connections} connections {many:.0f}/s vs 1 connection {one:.0f}/s = "
          f"{many / max(one, 1e-9):.2f}x")
    if len(rows) > 2:
        base = rows[2]["logins_per_second"]
        print(f"# this tree {many:.0f}/s vs baseline {base:.0f}/s = {many / max(base, 1e-9):.2f}x")
    return 1 if any(r["failed"] for r in rows) else 0
