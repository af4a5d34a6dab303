# SPDX-License-Identifier: BSD-2-Clause
"""The benchmark's rig: a twofactord and the fake Twilio endpoint (through the integration
harness, tests/integration/harness.py), users enrolled in bulk, PAM service files for
pam_twofactor and the modules it is compared with, and runs of pam_bench.

    with Rig(delay_ms=150) as rig:
        users = rig.texted_users(2000)
        report = rig.run("twofactor", users, processes=64)

Paths come from the environment, as for the integration tests (TWOFACTORD, TWOFACTORCTL,
PAM_MODULE, FAKE_TWILIO) plus PAM_BENCH; bench.py --build DIR sets them from a build tree."""

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import string
import struct
import subprocess
import sys
import tempfile
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(_HERE), "integration"))

import harness  # noqa: E402  (the path above first)
from daemon_calls import enable_all  # noqa: E402

BENCH_ENDPOINT = os.path.join(_HERE, "bench_endpoint.py")
PAM_OATH = "pam_oath.so"
PAM_GOOGLE = "pam_google_authenticator.so"
SECURITY_DIRS = ["/lib/x86_64-linux-gnu/security", "/usr/lib/x86_64-linux-gnu/security",
                 "/lib/security", "/usr/lib/security"]
RUN_GRACE = 120  # seconds beyond a run's time limit before pam_bench itself is stopped


def module_installed(name):
    return any(os.path.exists(os.path.join(d, name)) for d in SECURITY_DIRS)


def base32(data):
    return base64.b32encode(data).decode().rstrip("=")


def totp(key, at=None, offset=0):
    counter = int((time.time() if at is None else at) // 30) + offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    start = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[start:start + 4])[0] & 0x7FFFFFFF) % 1000000
    return f"{value:06d}"


def wait_for_next_step(margin=1.0):
    """Sleeps into the next 30 s step (and `margin` s into it): codes used before are from
    earlier steps, so each user may log in once more with an app code."""
    left = 30 - (time.time() % 30)
    time.sleep(left + margin)


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class BenchUser:
    def __init__(self, name, key, phone=None):
        self.name = name
        self.key = key          # bytes: the twofactor secret's bytes (printable ASCII)
        self.phone = phone      # E.164 for texted users

    @property
    def secret(self):
        return self.key.decode()


def make_users(prefix, count, texted):
    alphabet = string.ascii_letters + string.digits
    users = []
    for i in range(count):
        key = "".join(secrets.choice(alphabet) for _ in range(32)).encode()
        phone = f"+1555{i:07d}" if texted else None
        users.append(BenchUser(f"{prefix}{i:06d}", key, phone))
    return users


class Rig:
    def __init__(self, delay_ms=0, config=None, keep=False, profile_dir=None):
        self.delay_ms = delay_ms
        self.keep = keep
        # With a directory, each run records `perf record -g` of twofactord there.
        self.profile_dir = profile_dir
        overrides = {
            "daemon": {"max_connections": 8192, "max_connections_per_uid": 8192},
            "sms": {"user_texts_per_hour": 1000, "texts_per_minute": 100000},
            "login": {"challenge_lifetime": 300, "tries": 5},
            "lockout": {"failures": 100},
        }
        for section, keys in (config or {}).items():
            overrides.setdefault(section, {}).update(keys)
        self.config = overrides
        self.h = None
        self.codes_dir = None

    # ---- life cycle ---------------------------------------------------------------------------

    def __enter__(self):
        os.environ["FAKE_TWILIO"] = BENCH_ENDPOINT
        # On tmpfs where there is one: each text makes a new file there, and on ext4 creating an
        # inode in a directory of recently deleted ones cost the endpoint more CPU than all the
        # rest of a text (perf: ext4_new_inode, recently_deleted).
        shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        self.codes_dir = tempfile.mkdtemp(prefix="twofactor-bench-codes-", dir=shm)
        self.h = harness.Harness(config=self.config, debug=False,
                                 endpoint_args=["--codes-dir", self.codes_dir,
                                                "--delay-ms", str(self.delay_ms)])
        try:
            self.h.start()
        except BaseException:
            self.__exit__()
            raise
        self.pam_dir = os.path.join(self.h.dir, "pam.d")
        self.ga_dir = os.path.join(self.h.dir, "google-authenticator")
        self.oath_file = os.path.join(self.h.dir, "users.oath")
        os.mkdir(self.pam_dir, 0o755)
        os.mkdir(self.ga_dir, 0o700)
        self._write_services()
        return self

    def __exit__(self, *exc):
        if self.h is not None:
            if self.keep:
                os.environ["TWOFACTOR_KEEP_TEST_DIR"] = "1"
            self.h.stop()
        if self.codes_dir:
            shutil.rmtree(self.codes_dir, ignore_errors=True)
        return False

    def _write_services(self):
        module = harness.binary("PAM_MODULE")
        services = {
            "twofactor": f"auth required {module} socket={self.h.socket_path} timeout=30",
            "google": f"auth required {PAM_GOOGLE} secret={self.ga_dir}/${{USER}} user=root",
            "oath": f"auth required {PAM_OATH} usersfile={self.oath_file} window=1 digits=6",
            "permit": "auth required pam_permit.so",
        }
        for name, line in services.items():
            with open(os.path.join(self.pam_dir, name), "w") as f:
                f.write(line + "\n")

    # ---- the daemon ---------------------------------------------------------------------------

    def daemon_pid(self):
        return self.h.daemon.pid

    def daemon_memory(self):
        """{VmRSS, VmHWM} of twofactord in KiB."""
        found = {}
        with open(f"/proc/{self.daemon_pid()}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    found[key] = int(value.split()[0])
        return found

    def _start_profiler(self, label):
        if not self.profile_dir:
            return None
        os.makedirs(self.profile_dir, exist_ok=True)
        name = "".join(c if c.isalnum() else "-" for c in label)
        output = os.path.join(self.profile_dir, f"{name}.perf.data")
        profiler = subprocess.Popen(["perf", "record", "-q", "-g", "-F", "2000", "-o", output,
                                     "-p", str(self.h.daemon.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # perf attaches before the run starts
        return profiler

    @staticmethod
    def _stop_profiler(profiler):
        if profiler is None:
            return
        profiler.send_signal(2)  # SIGINT: perf writes its file and exits
        try:
            profiler.wait(timeout=60)
        except subprocess.TimeoutExpired:
            profiler.kill()
            profiler.wait(timeout=10)

    @staticmethod
    def cpu_seconds(pid):
        """User plus system CPU time a process used so far."""
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def database_files(self):
        """Bytes of the database file, its WAL and its shared-memory index."""
        sizes = {}
        for name, suffix in (("db", ""), ("wal", "-wal"), ("shm", "-shm")):
            path = self.h.database_path + suffix
            sizes[name] = os.path.getsize(path) if os.path.exists(path) else 0
        return sizes

    def behave(self, **behaviour):
        return self.h.behave(**behaviour)

    # ---- users --------------------------------------------------------------------------------

    def enroll(self, users, delivery, progress=None):
        """Enables each user in twofactord (no text is sent: the code is the app's). Returns
        the users enrolled per second."""
        started = time.monotonic()
        rows = [(u.name, u.secret, delivery, u.phone if delivery == "TextMessage" else None)
                for u in users]
        # Enabling marks the current step used: app logins must wait for the next step.
        enable_all(self.h.socket_path, rows, lambda secret: totp(secret.encode()),
                   progress=progress)
        return len(users) / (time.monotonic() - started)

    def write_google_authenticator(self, users):
        """One secret file per user, owned by root (the module runs with user=root), 0400, with
        DISALLOW_REUSE: a code is refused the second time, as twofactord refuses it."""
        for u in users:
            path = os.path.join(self.ga_dir, u.name)
            with open(path, "w") as f:
                f.write(f"{base32(u.key)}\n\" DISALLOW_REUSE\n\" TOTP_AUTH\n")
            os.chmod(path, 0o400)

    def write_oath(self, users):
        with open(self.oath_file, "w") as f:
            for u in users:
                f.write(f"HOTP/T30/6\t{u.name}\t-\t{u.key.hex()}\n")
        os.chmod(self.oath_file, 0o600)

    def users_file(self, users, source):
        """pam_bench's users file: source "text", "totp" or "none"."""
        path = os.path.join(self.h.dir, f"users-{source}-{len(users)}-{secrets.token_hex(4)}")
        with open(path, "w") as f:
            for u in users:
                value = {"text": u.phone, "totp": u.key.hex(), "none": "-"}[source]
                f.write(f"{u.name} {source} {value}\n")
        return path

    # ---- runs ---------------------------------------------------------------------------------

    def run(self, service, users, processes, source, label=None, time_limit=600, logins=None,
            csv=None, ramp_ms=0, extra_pids=None):
        """One pam_bench run; returns its report (a dict) with the load average added.
        `extra_pids` ({name: pid}): other processes whose CPU per login to report (an agent)."""
        command = [harness.binary("PAM_BENCH"), "--confdir", self.pam_dir, "--service", service,
                   "--users", self.users_file(users, source), "--processes", str(processes),
                   "--codes-dir", self.codes_dir, "--time-limit", str(time_limit),
                   "--label", label or f"{service} x{processes}"]
        if logins:
            command += ["--logins", str(logins)]
        if ramp_ms:
            command += ["--ramp-ms", str(ramp_ms)]
        if csv:
            command += ["--csv", csv]
        load_before = load_average()
        pids = {"daemon": self.h.daemon.pid, "endpoint": self.h.endpoint.pid,
                **(extra_pids or {})}
        cpu_before = {name: self.cpu_seconds(pid) for name, pid in pids.items()}
        children_before = os.times()
        profiler = self._start_profiler(label or f"{service} x{processes}")
        try:
            result = subprocess.run(command, capture_output=True, text=True,
                                    timeout=time_limit + RUN_GRACE)
        finally:
            self._stop_profiler(profiler)
        children_after = os.times()
        if result.returncode != 0:
            raise RuntimeError(f"pam_bench exited {result.returncode}: {result.stderr}")
        report = json.loads(result.stdout.strip().splitlines()[-1])
        report["load_before"] = load_before
        report["load_after"] = load_average()
        # Where the CPU went, per login: the daemon, the endpoint, and the PAM processes.
        cpu = {name: self.cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()
               if os.path.exists(f"/proc/{pid}")}
        cpu["pam_processes"] = ((children_after.children_user + children_after.children_system)
                                - (children_before.children_user +
                                   children_before.children_system))
        logins = max(report["logins"], 1)
        report["cpu_ms_per_login"] = {name: round(seconds * 1000 / logins, 3)
                                      for name, seconds in cpu.items()}
        return report
