#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The benchmarks of tests/bench/README.md. Each comparison runs in one invocation on the same
users, with its baseline, and prints a Markdown table and one JSON line per run.

    bench.py [--build DIR] [--wait-load 1.0] [--out FILE] texted [--users 2000 --processes 64]
    bench.py [--build DIR] app [--users 6000 --time-limit 8]
    bench.py [--build DIR] scale [--users 100000]
    bench.py [--build DIR] fleet [--users 2000 --processes 16]
    bench.py [--build DIR] texted-pg [--connections 4 --baseline-build DIR --baseline-label L]
    bench.py [--build DIR] agent [--users 2000 --processes 16 --baseline-build DIR]
    bench.py [--build DIR] agent-failover [--users 2000 --processes 16 --baseline-build DIR]
    bench.py [--build DIR] smoke          # tiny numbers; exits 1 if any login failed (ctest)

--build DIR sets TWOFACTORD, TWOFACTORCTL, PAM_MODULE, PAM_BENCH and FAKE_TWILIO from a build
tree; without it they come from the environment (as ctest sets them)."""

import argparse
import csv
import datetime
import json
import os
import subprocess
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)

import bench_agent  # noqa: E402
import bench_pg  # noqa: E402
import bench_rig  # noqa: E402
from bench_rig import Rig, load_average, make_users, module_installed, wait_for_next_step  # noqa

SOURCE_ROOT = os.path.dirname(os.path.dirname(_HERE))


def use_build_tree(build):
    paths = {
        "TWOFACTORD": "daemon/twofactord",
        "TWOFACTORCTL": "ctl/twofactorctl",
        "PAM_MODULE": "pam/pam_twofactor.so",
        "PAM_BENCH": "tests/bench/pam_bench",
    }
    for variable, relative in paths.items():
        os.environ[variable] = os.path.join(os.path.abspath(build), relative)
    os.environ["FAKE_TWILIO"] = os.path.join(SOURCE_ROOT, "tests/endpoint/fake_twilio.py")


def wait_for_low_load(limit, longest):
    """Polls the 1-minute load average until it is below `limit`, for at most `longest` s."""
    deadline = time.monotonic() + longest
    while load_average() >= limit and time.monotonic() < deadline:
        time.sleep(10)
    return load_average()


def git_commit():
    try:
        return subprocess.run(["git", "-C", SOURCE_ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


class Output:
    """Prints as it goes; every run's JSON also goes to --out, if given."""

    def __init__(self, path):
        self.path = path

    def header(self, args):
        print(f"# {' '.join(sys.argv)}")
        print(f"# {datetime.datetime.now().isoformat(timespec='seconds')}, commit {git_commit()},"
              f" {os.cpu_count()} CPUs, load {load_average():.2f}")
        sys.stdout.flush()

    def record(self, report, **extra):
        report = dict(report, **extra)
        line = json.dumps(report)
        print("json: " + line)
        sys.stdout.flush()
        if self.path:
            with open(self.path, "a") as f:
                f.write(line + "\n")
        return report

    @staticmethod
    def table(rows, columns, notes=True):
        print("| " + " | ".join(title for title, _ in columns) + " |")
        print("|" + "---|" * len(columns))
        for row in rows:
            print("| " + " | ".join(str(get(row)) for _, get in columns) + " |")
        for row in rows if notes else []:
            if row["failed"]:
                print(f"# {row['label']} x{row['processes']}: {row['failures']} e.g. "
                      f"{row['failure_samples']}")
        sys.stdout.flush()


RUN_COLUMNS = [
    ("run", lambda r: r["label"]),
    ("processes", lambda r: r["processes"]),
    ("logins", lambda r: r["logins"]),
    ("failed", lambda r: r["failed"]),
    ("logins/s", lambda r: f"{r['logins_per_second']:.0f}"),
    ("login p50 ms", lambda r: r["login_ms"]["p50"]),
    ("login p99 ms", lambda r: r["login_ms"]["p99"]),
    ("prompt p50 ms", lambda r: r["prompt_ms"]["p50"] if r["prompt_ms"]["count"] else "-"),
    ("prompt p99 ms", lambda r: r["prompt_ms"]["p99"] if r["prompt_ms"]["count"] else "-"),
    ("CPU ms/login daemon, endpoint, PAM",
     lambda r: "{daemon}, {endpoint}, {pam_processes}".format(**r["cpu_ms_per_login"])),
    ("load before/after", lambda r: f"{r['load_before']:.2f}/{r['load_after']:.2f}"),
]


# ---- 1. texted codes --------------------------------------------------------------------------

def where_the_time_went(rig, users, csv_path, since):
    """Splits each login's time to the prompt at the endpoint's records: until the text reached
    the endpoint (module, daemon, curl, the endpoint's parsing), inside the endpoint (its delay
    and its own lateness), and from its answer to the prompt (curl, daemon, module). p50/p99 ms."""
    with open(csv_path) as f:
        logins = {row["user"]: row for row in csv.DictReader(f)}
    by_number = {u.phone: u.name for u in users}
    parts = {"to endpoint": [], "in endpoint": [], "back to prompt": []}
    for text in rig.h.messages():
        row = logins.get(by_number.get(text["form"].get("To")))
        if row is None or text["time"] < since or "answered" not in text:
            continue
        started = float(row["authenticate_unix"])
        prompted = started + float(row["prompt_ms"]) / 1000
        parts["to endpoint"].append(text["time"] - started)
        parts["in endpoint"].append(text["answered"] - text["time"])
        parts["back to prompt"].append(prompted - text["answered"])

    def percentile(values, q):
        values = sorted(values)
        return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1)

    return {name: {"p50": percentile(v, 0.5), "p99": percentile(v, 0.99)}
            for name, v in parts.items() if v}


def texted_run(rig, users, args, label, ramp_ms=0):
    csv_path = os.path.join(rig.h.dir, "texted.csv")
    since = time.time()
    report = rig.run("twofactor", users, args.processes, "text", label=label, csv=csv_path,
                     ramp_ms=ramp_ms)
    return dict(report, breakdown_ms=where_the_time_went(rig, users, csv_path, since),
                ramp_ms=ramp_ms)


def bench_texted(args, out):
    rows = []
    with Rig(delay_ms=args.delay_ms, profile_dir=args.profile) as rig:
        users = make_users("bt", args.users, texted=True)
        rate = rig.enroll(users, "TextMessage")
        print(f"# enrolled {len(users)} texted users at {rate:.0f}/s")
        # The floor: the same processes and users through pam_permit.
        rows.append(out.record(rig.run("permit", users, args.processes, "none",
                                       label="pam_permit (floor)")))
        label = f"pam_twofactor, texted, endpoint {args.delay_ms} ms"
        rows.append(out.record(texted_run(rig, users, args, label),
                               endpoint_delay_ms=args.delay_ms))
        # The same, with the processes' first logins spread over one endpoint delay instead of
        # all arriving in the same millisecond (and staying in step afterwards).
        rows.append(out.record(texted_run(rig, users, args, label + ", start spread",
                                          ramp_ms=args.delay_ms),
                               endpoint_delay_ms=args.delay_ms))
        # The same logins with an endpoint that answers at once: what the daemon and PAM add.
        rig.behave(delay_ms=0)
        rows.append(out.record(texted_run(rig, users, args, "pam_twofactor, texted, endpoint 0 ms"),
                               endpoint_delay_ms=0))
        print(f"# daemon memory {rig.daemon_memory()} KiB")
    out.table(rows, RUN_COLUMNS)
    print("\nWhere the time to the prompt went (ms, p50 / p99):\n")
    out.table([r for r in rows if r.get("breakdown_ms")], [
        ("run", lambda r: r["label"]),
        *[(name, lambda r, name=name: "{p50} / {p99}".format(**r["breakdown_ms"][name]))
          for name in ("to endpoint", "in endpoint", "back to prompt")],
    ], notes=False)
    target_prompt = args.delay_ms + 25
    for texted in rows[1:3]:
        print(f"# {texted['label']}: target >= 300 logins/s -> "
              f"{texted['logins_per_second']:.0f}; prompt p99 <= {target_prompt} ms -> "
              f"{texted['prompt_ms']['p99']}")


# ---- 2. authenticator-app codes ---------------------------------------------------------------

def bench_app(args, out):
    methods = [("permit", "none", "pam_permit (floor)"),
               ("twofactor", "totp", "pam_twofactor, app code")]
    if module_installed(bench_rig.PAM_GOOGLE):
        methods.append(("google", "totp", "pam_google_authenticator, DISALLOW_REUSE"))
    if module_installed(bench_rig.PAM_OATH):
        methods.append(("oath", "totp", "pam_oath, one usersfile"))
    rows = []
    with Rig(profile_dir=args.profile) as rig:
        users = make_users("ba", args.users, texted=False)
        rate = rig.enroll(users, "None")
        rig.write_google_authenticator(users)
        rig.write_oath(users)
        print(f"# {len(users)} users; enrolled in twofactord at {rate:.0f}/s")
        for processes in args.processes:
            for service, source, label in methods:
                # One login per user per step: each run starts in a step no earlier run used.
                wait_for_next_step()
                rows.append(out.record(rig.run(service, users, processes, source, label=label,
                                               time_limit=args.time_limit)))
    out.table(rows, RUN_COLUMNS)
    for processes in args.processes:
        at = {r["label"]: r for r in rows if r["processes"] == processes}
        ours = at["pam_twofactor, app code"]["logins_per_second"]
        google = at.get("pam_google_authenticator, DISALLOW_REUSE")
        if google:
            print(f"# {processes} processes: pam_twofactor {ours:.0f}/s vs "
                  f"pam_google_authenticator {google['logins_per_second']:.0f}/s = "
                  f"{ours / max(google['logins_per_second'], 1e-9):.2f}x")


# ---- fleet: SQLite vs PostgreSQL --------------------------------------------------------------

def bench_fleet(args, out):
    """App-code logins on SQLite, on PostgreSQL on loopback (a cluster of its own with its
    default durability, started and removed here), and by pam_google_authenticator, the same
    users, one run each; then two daemons sharing the PostgreSQL database, each serving half the
    users at once."""
    import threading

    with bench_pg.cluster() as cluster:
        pg = cluster.database("bench")
        users = make_users("bf", args.users, texted=False)
        processes = args.processes
        rows = []
        with Rig() as rig:
            rig.enroll(users, "None")
            rig.write_google_authenticator(users)
            wait_for_next_step()
            rows.append(out.record(rig.run("twofactor", users, processes, "totp",
                                           label="pam_twofactor, SQLite")))
            if module_installed(bench_rig.PAM_GOOGLE):
                wait_for_next_step()
                rows.append(out.record(rig.run("google", users, processes, "totp",
                                               label="pam_google_authenticator")))
        with Rig(config=pg) as a:
            a.enroll(users, "None")
            wait_for_next_step()
            rows.append(out.record(a.run("twofactor", users, processes, "totp",
                                         label="pam_twofactor, PostgreSQL")))
            second = dict(pg, daemon={"key_file": a.h.key_path})
            with Rig(config=second) as b:
                half = len(users) // 2
                wait_for_next_step()
                reports = {}

                def run(rig, part, name):
                    reports[name] = rig.run("twofactor", part, max(processes // 2, 1), "totp",
                                            label=f"PostgreSQL, two daemons: {name}")

                threads = [threading.Thread(target=run, args=(a, users[:half], "daemon A")),
                           threading.Thread(target=run, args=(b, users[half:], "daemon B"))]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                rows.extend(out.record(reports[name]) for name in ("daemon A", "daemon B"))
    out.table(rows, RUN_COLUMNS)
    by = {r["label"]: r for r in rows}
    ours = by["pam_twofactor, PostgreSQL"]["logins_per_second"]
    google = by.get("pam_google_authenticator")
    if google:
        print(f"# PostgreSQL {ours:.0f}/s vs pam_google_authenticator "
              f"{google['logins_per_second']:.0f}/s = "
              f"{ours / max(google['logins_per_second'], 1e-9):.2f}x")
    return 1 if any(r["failed"] for r in rows) else 0


def bench_texted_postgresql(args, out):
    return bench_pg.bench_texted_pg(args, out, RUN_COLUMNS, out.table)


# ---- 3. scale ---------------------------------------------------------------------------------

def bench_scale(args, out):
    """The same sample of users logs in with 1,000 and with 100,000 users enrolled, a few runs
    each (every run in a step of its own), one process at a time: latency, not queueing."""
    rows = []

    def measure(rig, users, enrolled):
        for run in range(args.runs):
            wait_for_next_step()
            rows.append(out.record(
                rig.run("twofactor", users, args.processes, "totp",
                        label=f"{enrolled} enrolled, run {run + 1}"),
                enrolled=enrolled, database=rig.database_files(),
                memory_kib=rig.daemon_memory()))

    with Rig(profile_dir=args.profile) as rig:
        everyone = make_users("bs", args.users, texted=False)
        sample = everyone[:args.sample]
        rate_first = rig.enroll(sample, "None")
        print(f"# enrolled {len(sample)} users at {rate_first:.0f}/s; memory "
              f"{rig.daemon_memory()} KiB; database {rig.database_files()}")
        measure(rig, sample, len(sample))

        started = time.monotonic()
        rig.enroll(everyone[args.sample:], "None")
        elapsed = time.monotonic() - started
        rate = (args.users - args.sample) / elapsed
        print(f"# enrolled {args.users - args.sample} more users in {elapsed:.1f} s "
              f"({rate:.0f}/s); memory {rig.daemon_memory()} KiB; database "
              f"{rig.database_files()}")
        measure(rig, sample, args.users)
        after = rig.daemon_memory()
        files = rig.database_files()
    out.table(rows, RUN_COLUMNS + [
        ("database + WAL MiB", lambda r: "{:.1f} + {:.1f}".format(
            r["database"]["db"] / 2**20, r["database"]["wal"] / 2**20)),
        ("daemon RSS MiB", lambda r: f"{r['memory_kib']['VmRSS'] / 1024:.1f}"),
    ])
    out.record({"label": "scale summary", "enrolled": args.users,
                "enroll_per_second": round(rate), "memory_kib": after, "database": files})
    print(f"# {args.users} users: enrollment {rate:.0f}/s; twofactord VmRSS "
          f"{after['VmRSS'] / 1024:.1f} MiB, VmHWM {after['VmHWM'] / 1024:.1f} MiB; database "
          f"{files['db'] / 2**20:.1f} MiB + WAL {files['wal'] / 2**20:.1f} MiB")


# ---- smoke (ctest) ----------------------------------------------------------------------------

def smoke(args, out):
    """Every path of the harness with tiny numbers; fails if any login fails."""
    rows = []
    with Rig(delay_ms=20) as rig:
        texted = make_users("bst", 6, texted=True)
        rig.enroll(texted, "TextMessage")
        rows.append(out.record(rig.run("twofactor", texted, 3, "text", label="texted")))
        app = make_users("bsa", 6, texted=False)
        rig.enroll(app, "None")
        rig.write_google_authenticator(app)
        rig.write_oath(app)
        rows.append(out.record(rig.run("permit", app, 2, "none", label="permit")))
        wait_for_next_step()  # enabling used this step's code
        rows.append(out.record(rig.run("twofactor", app, 2, "totp", label="app")))
        for service, module in (("google", bench_rig.PAM_GOOGLE), ("oath", bench_rig.PAM_OATH)):
            if module_installed(module):
                rows.append(out.record(rig.run(service, app, 1, "totp", label=service)))
            else:
                print(f"# {module} is not installed: skipped")
    # Through an agent on loopback TLS (SQLite): bench.py agent's path.
    pki = bench_agent.Pki()
    try:
        port = bench_agent.harness.free_loopback_port()
        with Rig(config=pki.listen(port)) as rig:
            app = make_users("bsg", 4, texted=False)
            rig.enroll(app, "None")
            agent = bench_agent.Agent(rig, pki, [port])
            try:
                wait_for_next_step()  # enabling used this step's code
                rows.append(out.record(rig.run(agent.service, app, 2, "totp", label="agent",
                                               extra_pids={"agent": agent.process.pid})))
            finally:
                agent.close()
    finally:
        pki.close()
    out.table(rows, RUN_COLUMNS)
    failed = sum(r["failed"] for r in rows)
    texted_prompts = rows[0]["prompt_ms"]["count"]
    problems = []
    if failed:
        problems.append(f"{failed} logins failed: "
                        f"{[r['failure_samples'] for r in rows if r['failed']]}")
    if texted_prompts != 6:
        problems.append(f"texted logins saw {texted_prompts} prompts, not 6")
    print(f"smoke: {len(rows) - len(problems)} passed, {len(problems)} failed")
    for p in problems:
        print("smoke: " + p)
    return 1 if problems else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", help="a build tree to take the programs from")
    parser.add_argument("--wait-load", type=float, default=None,
                        help="first wait (at most --wait-max s) for the load average below this")
    parser.add_argument("--wait-max", type=float, default=600)
    parser.add_argument("--out", help="append each run's JSON here")
    parser.add_argument("--profile", metavar="DIR",
                        help="record each run's twofactord with perf record -g into DIR")
    commands = parser.add_subparsers(dest="command", required=True)
    texted = commands.add_parser("texted")
    texted.add_argument("--users", type=int, default=2000)
    texted.add_argument("--processes", type=int, default=64)
    texted.add_argument("--delay-ms", type=int, default=150)
    app = commands.add_parser("app")
    app.add_argument("--users", type=int, default=6000)
    app.add_argument("--processes", type=int, nargs="+", default=[1, 4, 16])
    app.add_argument("--time-limit", type=int, default=8)
    scale = commands.add_parser("scale")
    scale.add_argument("--users", type=int, default=100000)
    scale.add_argument("--sample", type=int, default=1000)
    scale.add_argument("--processes", type=int, default=1)
    scale.add_argument("--runs", type=int, default=3)
    fleet = commands.add_parser("fleet")
    fleet.add_argument("--users", type=int, default=2000)
    fleet.add_argument("--processes", type=int, default=16)
    texted_pg = commands.add_parser("texted-pg")
    texted_pg.add_argument("--users", type=int, default=2000)
    texted_pg.add_argument("--processes", type=int, default=64)
    texted_pg.add_argument("--delay-ms", type=int, default=150)
    texted_pg.add_argument("--connections", type=int, default=4)
    texted_pg.add_argument("--baseline-build", help="a build tree whose daemon is the baseline")
    texted_pg.add_argument("--baseline-label", default="", help="what the baseline is")
    agent_commands = bench_agent.add_commands(commands)
    commands.add_parser("smoke")
    args = parser.parse_args()

    if args.build:
        use_build_tree(args.build)
    if args.wait_load is not None:
        load = wait_for_low_load(args.wait_load, args.wait_max)
        print(f"# load average {load:.2f} when starting")
    out = Output(args.out)
    out.header(args)
    handler = {"texted": bench_texted, "app": bench_app, "scale": bench_scale,
               "fleet": bench_fleet, "texted-pg": bench_texted_postgresql,
               "smoke": smoke, **agent_commands}[args.command]
    return handler(args, out) or 0


if __name__ == "__main__":
    sys.exit(main())
