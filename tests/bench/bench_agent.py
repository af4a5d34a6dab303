# SPDX-License-Identifier: BSD-2-Clause
"""Agents (DESIGN.md §14): app-code logins through an agent to a server on loopback TLS against
the same server's own socket (standalone), on SQLite and on PostgreSQL with its default
durability; and failover: server 1 of two on one PostgreSQL stopped while logins are in flight.

    bench.py agent [--users 2000 --processes 16 --baseline-build DIR --baseline-label L]
    bench.py agent-failover [--users 2000 --processes 16 --stop-after 1.5 --baseline-build DIR]

The certificates come from tests/integration/fleet/tls_support.py (openssl, a CA of the run's
own). --baseline-build runs a second agent from another build tree on the same servers, in the
same run."""

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "integration", "fleet"))

import bench_pg  # noqa: E402
import harness  # noqa: E402
import tls_support  # noqa: E402
from bench_rig import Rig, make_users, wait_for_next_step  # noqa: E402

HOST = "login1.bench"
# The server's limits per host, out of the way: one agent here carries every login.
HOST_LIMITS = {"logins_per_host_per_minute": 100000, "texts_per_host_per_minute": 100000,
               "connections_per_host": 4096}

COLUMNS = [
    ("run", lambda r: r["label"]),
    ("processes", lambda r: r["processes"]),
    ("logins", lambda r: r["logins"]),
    ("failed", lambda r: r["failed"]),
    ("logins/s", lambda r: f"{r['logins_per_second']:.0f}"),
    ("login p50 ms", lambda r: r["login_ms"]["p50"]),
    ("login p99 ms", lambda r: r["login_ms"]["p99"]),
    ("CPU ms/login server, agent, PAM",
     lambda r: "{}, {}, {}".format(r["cpu_ms_per_login"]["daemon"],
                                   r["cpu_ms_per_login"].get("agent", "-"),
                                   r["cpu_ms_per_login"]["pam_processes"])),
    ("load before/after", lambda r: f"{r['load_before']:.2f}/{r['load_after']:.2f}"),
]


class Pki:
    """The run's CA, the servers' certificate (127.0.0.1) and the agent's."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="twofactor-bench-pki-")
        ca = tls_support.Pki(self.dir)
        self.ca = ca.ca
        self.server = ca.issue("localhost", ip="127.0.0.1")
        self.agent = ca.issue(HOST)
        self.hosts_file = os.path.join(self.dir, "hosts")
        with open(self.hosts_file, "w") as f:
            f.write(HOST + "\n")

    def listen(self, port):
        """A server's [listen] section on 127.0.0.1:port."""
        return {"listen": dict(HOST_LIMITS, address=f"127.0.0.1:{port}",
                               certificate_file=self.server[0], key_file=self.server[1],
                               client_ca_file=self.ca, hosts_file=self.hosts_file)}

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Agent:
    """A twofactord with [store] backend = remote in a directory of `rig`'s, and a PAM service
    `service` in rig's PAM directory that talks to it."""

    def __init__(self, rig, pki, ports, service="agent", daemon=None):
        self.dir = tempfile.mkdtemp(prefix="agent-", dir=rig.h.dir)
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "socket")
        config = os.path.join(self.dir, "twofactord.conf")
        servers = ", ".join(f"127.0.0.1:{p}" for p in ports)
        with open(config, "w") as f:
            f.write(f"[daemon]\nsocket = {self.socket}\ndebug = no\n"
                    "max_connections = 8192\nmax_connections_per_uid = 8192\n"
                    f"[store]\nbackend = remote\n[remote]\nservers = {servers}\n"
                    f"ca_file = {pki.ca}\ncertificate_file = {pki.agent[0]}\n"
                    f"key_file = {pki.agent[1]}\ntimeout = 10\nretry_after = 60\n")
        os.chmod(config, 0o600)
        self.log_path = os.path.join(self.dir, "agent.log")
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen([daemon or harness.binary("TWOFACTORD"), "--config",
                                         config], stdin=subprocess.DEVNULL, stdout=self._log,
                                        stderr=self._log, preexec_fn=harness._die_with_parent)
        if not harness.wait_until(lambda: self.process.poll() is not None
                                  or os.path.exists(self.socket), 10.0) \
                or self.process.poll() is not None:
            raise RuntimeError(f"the agent did not start: {self.log()}")
        module = harness.binary("PAM_MODULE")
        with open(os.path.join(rig.pam_dir, service), "w") as f:
            f.write(f"auth required {module} socket={self.socket} timeout=30\n")
        self.service = service

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def close(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self._log.close()


def agent_binaries(args):
    """(label, twofactord path or None for this tree's) of each agent to run."""
    agents = [("agent, this tree", None)]
    if args.baseline_build:
        agents.append((f"agent, baseline {args.baseline_label}".rstrip(),
                       os.path.join(os.path.abspath(args.baseline_build), "daemon",
                                    "twofactord")))
    return agents


def run_store(out, rows, pki, args, store_label, config):
    """Standalone, then each agent, on one server with `config`; one 30 s step per run."""
    port = harness.free_loopback_port()
    with Rig(config=dict(config, **pki.listen(port))) as rig:
        users = make_users("bg" + store_label[0].lower(), args.users, texted=False)
        rig.enroll(users, "None")
        wait_for_next_step()
        rows.append(out.record(rig.run("twofactor", users, args.processes, "totp",
                                       label=f"{store_label}, standalone"), store=store_label))
        for number, (label, daemon) in enumerate(agent_binaries(args)):
            agent = Agent(rig, pki, [port], service=f"agent{number}", daemon=daemon)
            try:
                wait_for_next_step()
                report = rig.run(agent.service, users, args.processes, "totp",
                                 label=f"{store_label}, {label}",
                                 extra_pids={"agent": agent.process.pid})
                rows.append(out.record(report, store=store_label))
            finally:
                agent.close()
        rows.append(out.record(phases(pki, port, args.phase_calls), label="phases",
                               store=store_label))


def phases(pki, port, calls):
    """Where an agent's call spends its time, from a TLS client like the agent (OpenSSL through
    Python, the agent's certificate): TCP connect, the TLS 1.3 handshake with both certificates,
    and one call (Status of root, read-only) on a connection already open. Median ms of
    `calls` each."""
    timings = {"tcp connect": [], "TLS handshake": [], "call on an open connection": []}
    import socket
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_verify_locations(pki.ca)
    context.load_cert_chain(*pki.agent)
    for _ in range(calls):
        t0 = time.perf_counter()
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        t1 = time.perf_counter()
        with context.wrap_socket(raw, server_hostname="localhost") as sock:
            t2 = time.perf_counter()
            tls_support.call(sock, "Status", {"user": "root"})  # the server admits the host
            t3 = time.perf_counter()
            reply = tls_support.call(sock, "Status", {"user": "root"})
            t4 = time.perf_counter()
        if reply is None:
            raise RuntimeError("the server closed the connection on Status")
        timings["tcp connect"].append(t1 - t0)
        timings["TLS handshake"].append(t2 - t1 + (t3 - t2) - (t4 - t3))
        timings["call on an open connection"].append(t4 - t3)
    # TLS 1.3 finishes the client's side of the handshake with its first write: the first
    # call's time beyond the second's is handshake too.
    return {name: round(sorted(v)[len(v) // 2] * 1000, 3) for name, v in timings.items()}


def bench_agent(args, out):
    rows = []
    pki = Pki()
    try:
        run_store(out, rows, pki, args, "SQLite", {})
        with bench_pg.cluster() as cluster:
            run_store(out, rows, pki, args, "PostgreSQL", cluster.database("bench_agent"))
    finally:
        pki.close()
    runs = [r for r in rows if r["label"] != "phases"]
    out.table(runs, COLUMNS)
    for r in rows:
        if r["label"] == "phases":
            print(f"# {r['store']}: median ms per phase: " +
                  ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("label", "store")))
    for store in ("SQLite", "PostgreSQL"):
        by = [r for r in runs if r["store"] == store]
        standalone = by[0]["logins_per_second"]
        for r in by[1:]:
            ratio = r["logins_per_second"] / max(standalone, 1e-9)
            print(f"# {r['label']}: {r['logins_per_second']:.0f}/s vs standalone "
                  f"{standalone:.0f}/s = {ratio:.2f}x (target >= 0.7x: "
                  f"{'met' if ratio >= 0.7 else 'not met'}); failed {r['failed']}")
    return 1 if any(r["failed"] for r in runs) else 0


# ---- failover ---------------------------------------------------------------------------------

def in_flight(csv_path, stopped_at):
    """The logins that had started and not ended when the server was stopped: how many, how
    many failed, and the time each that succeeded took beyond the median of the logins that
    ended before the stop (ms). A failed login is not in the added time: the module holds it
    for its fail delay (pam_fail_delay, 2 s) whatever the cause."""
    with open(csv_path) as f:
        logins = list(csv.DictReader(f))
    before, during = [], []
    for row in logins:
        started = float(row["authenticate_unix"])
        ended = started + float(row["login_ms"]) / 1000
        if ended < stopped_at:
            before.append(float(row["login_ms"]))
        elif started <= stopped_at:
            during.append(row)
    usual = sorted(before)[len(before) // 2] if before else 0.0
    added = sorted(float(r["login_ms"]) - usual for r in during if r["pam_status"] == "0")
    return {"in_flight": len(during), "before": len(before), "usual_login_ms": round(usual, 2),
            "added_ms_max": round(added[-1], 1) if added else None,
            "added_ms_p50": round(added[len(added) // 2], 1) if added else None,
            "in_flight_failed": sum(1 for r in during if r["pam_status"] != "0")}


def failover_run(out, pki, args, a, b, ports, users, label, daemon, kill9):
    """One run: an agent on servers A then B, A stopped --stop-after s into the run."""
    agent = Agent(b, pki, ports, service="failover", daemon=daemon)
    stopped = {}

    def stop():
        stopped["at"] = time.time()
        a.h.stop_daemon(kill9=kill9)
        stopped["took"] = time.time() - stopped["at"]

    try:
        wait_for_next_step()
        timer = threading.Timer(args.stop_after, stop)
        csv_path = os.path.join(b.h.dir, "failover.csv")
        timer.start()
        try:
            report = b.run(agent.service, users, args.processes, "totp", label=label,
                           csv=csv_path, extra_pids={"agent": agent.process.pid})
        finally:
            timer.join()
        report.update(in_flight(csv_path, stopped["at"]), stop_took_s=round(stopped["took"], 3),
                      signal="SIGKILL" if kill9 else "SIGTERM", stopped_unix=stopped["at"],
                      agent_log_failures=agent.log().count("a server failed"))
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            name = "".join(c if c.isalnum() else "-" for c in label)
            shutil.copy(csv_path, os.path.join(args.keep, name + ".csv"))
            shutil.copy(agent.log_path, os.path.join(args.keep, name + ".agent.log"))
        return out.record(report)
    finally:
        agent.close()
        a.h.start_daemon()  # for the next run


def bench_agent_failover(args, out):
    rows = []
    pki = Pki()
    try:
        with bench_pg.cluster() as cluster:
            pg = cluster.database("bench_failover")
            ports = [harness.free_loopback_port(), harness.free_loopback_port()]
            with Rig(config=dict(pg, **pki.listen(ports[0]))) as a:
                second = dict(pg, **pki.listen(ports[1]), daemon={"key_file": a.h.key_path})
                with Rig(config=second) as b:
                    users = make_users("bv", args.users, texted=False)
                    a.enroll(users, "None")
                    for label, daemon in agent_binaries(args):
                        for kill9 in (False, True):
                            how = "kill -9" if kill9 else "stop (SIGTERM)"
                            rows.append(failover_run(out, pki, args, a, b, ports, users,
                                                     f"{label}, server 1 {how}", daemon, kill9))
    finally:
        pki.close()
    out.table(rows, COLUMNS + [
        ("in flight", lambda r: r["in_flight"]),
        ("failed in flight", lambda r: r["in_flight_failed"]),
        ("usual login ms", lambda r: r["usual_login_ms"]),
        ("added ms p50 / max", lambda r: f"{r['added_ms_p50']} / {r['added_ms_max']}"),
    ])
    for r in rows:
        ok = (r["added_ms_max"] or 0) <= 1000 and r["failed"] == 0
        print(f"# {r['label']}: {r['in_flight']} logins in flight, {r['added_ms_max']} ms added "
              f"at most (target <= 1000), {r['failed']} failed (target 0): "
              f"{'met' if ok else 'not met'}")
    return 1 if any(r["failed"] for r in rows) else 0


def add_commands(commands):
    agent = commands.add_parser("agent")
    agent.add_argument("--users", type=int, default=2000)
    agent.add_argument("--processes", type=int, default=16)
    agent.add_argument("--phase-calls", type=int, default=200)
    failover = commands.add_parser("agent-failover")
    failover.add_argument("--users", type=int, default=2000)
    failover.add_argument("--processes", type=int, default=16)
    failover.add_argument("--stop-after", type=float, default=1.5,
                          help="seconds into the run at which server 1 is stopped")
    failover.add_argument("--keep", metavar="DIR",
                          help="copy each run's logins (CSV) and agent log into DIR")
    for parser in (agent, failover):
        parser.add_argument("--baseline-build", help="a build tree whose agent runs too")
        parser.add_argument("--baseline-label", default="", help="what the baseline is")
    return {"agent": bench_agent, "agent-failover": bench_agent_failover}
