# SPDX-License-Identifier: BSD-2-Clause
"""Integration test harness: a real twofactord talking to the fake Twilio endpoint.

Used by the CLI tests (tests/integration/cli) and the PAM module's tests (tests/integration/pam).
Standard library only. Everything a Harness starts (processes, temporary users, files) is
removed when it stops, also when a test fails; the processes also die with the test process
(PR_SET_PDEATHSIG), so a killed test run leaves nothing behind.

    with Harness(config={"login": {"tries": 3}}) as h:
        rc, out, err = h.ctl("secret", "--json")

Paths come from the environment (CMake sets them through set_tests_properties ENVIRONMENT):
TWOFACTORD, TWOFACTORCTL, FAKE_TWILIO, PAM_MODULE.
"""

import codecs
import contextlib
import ctypes
import hashlib
import hmac
import json
import os
import pwd
import re
import secrets
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PYTHON = "/usr/bin/python3"
START_TIMEOUT = 10.0  # seconds for the endpoint's port file and the daemon's socket
COMMAND_TIMEOUT = 60.0  # seconds for one twofactorctl run
USER_PREFIX = "tf_test_"
USER_COMMENT = "twofactor integration test pid="

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
FROM_NUMBER = "+15005550006"
# Built with AddressSanitizer and UBSan: every call costs several times more. The few tests
# whose point is volume run smaller there; the release run proves them at full size, and the
# smaller run still takes every code path under the sanitizers.
SANITIZED = os.environ.get("TWOFACTOR_SANITIZED") == "1"


def binary(name):
    """The path of a built program from the environment variable `name`, checked."""
    path = os.environ.get(name)
    if not path:
        raise RuntimeError(f"{name} is not set: run the tests through ctest, or export {name}")
    if not os.path.exists(path):
        raise RuntimeError(f"{name}={path} does not exist: build the tree first")
    return path


def totp(secret, at=None, offset=0, digits=6, step=30):
    """RFC 6238 TOTP (HMAC-SHA1, T0 = 0) of a secret whose bytes are the key."""
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    counter = int((time.time() if at is None else at) // step) + offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    start = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[start:start + 4])[0] & 0x7FFFFFFF) % (10 ** digits)
    return f"{value:0{digits}d}"


def totp_window(secret, at=None, around=1):
    """The codes of the steps around `at` (default now): {offset: code}."""
    now = time.time() if at is None else at
    return {k: totp(secret, now, k) for k in range(-around, around + 1)}


def wait_for_step_start(margin=8, step=30):
    """Sleeps into the next TOTP step when fewer than `margin` seconds of this one are left,
    so a test that must stay within one step (±1) has room."""
    left = step - (time.time() % step)
    if left < margin:
        time.sleep(left + 0.2)


def wait_until(predicate, timeout=10.0, interval=0.05):
    """Polls `predicate` until it returns something truthy or the time is up (then None)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    # Runs in the child between fork and exec: SIGKILL it when the test process dies.
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _run_retrying_on_lock(command, attempts=50):
    """useradd/userdel fail while another process holds /etc/passwd's lock: retry a while."""
    result = None
    for _ in range(attempts):
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        if result.returncode == 0 or "lock" not in (result.stderr or "").lower():
            return result
        time.sleep(0.2)
    return result


def remove_stale_test_users():
    """Removes test users whose creating process is gone (a run that was killed)."""
    for entry in pwd.getpwall():
        if not entry.pw_name.startswith(USER_PREFIX):
            continue
        comment = entry.pw_gecos or ""
        if not comment.startswith(USER_COMMENT):
            continue
        try:
            pid = int(comment[len(USER_COMMENT):])
        except ValueError:
            continue
        if pid != os.getpid() and not os.path.exists(f"/proc/{pid}"):
            _run_retrying_on_lock(["userdel", entry.pw_name])


class Harness:
    """A temporary directory, the fake Twilio endpoint, a twofactord, and temporary users."""

    def __init__(self, config=None, endpoint_args=(), debug=True, endpoint_tls=None):
        # config: {"section": {"key": value}} merged over the defaults; a value None drops a key.
        # endpoint_tls: {"cert", "key", "ca"} serves the endpoint over HTTPS with that
        # certificate; "ca" is what the harness itself trusts when it talks to the endpoint.
        self.config_overrides = config or {}
        self.endpoint_args = list(endpoint_args)
        self.endpoint_tls = endpoint_tls
        self.debug = debug
        self.dir = None
        self.endpoint = None
        self.endpoint_port = None
        self.daemon = None
        self.users = []
        self._logs = []
        self.auth_token = secrets.token_hex(16)

    # ---- life cycle -------------------------------------------------------------------------

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="twofactor-test-")
        # Other users reach the socket (self-service tests, screen lockers); the state stays
        # root's.
        os.chmod(self.dir, 0o755)
        self.run_dir = os.path.join(self.dir, "run")
        self.state_dir = os.path.join(self.dir, "state")
        os.mkdir(self.run_dir, 0o755)
        os.mkdir(self.state_dir, 0o700)
        os.chmod(self.run_dir, 0o755)
        self.socket_path = os.path.join(self.run_dir, "socket")
        self.database_path = os.path.join(self.state_dir, "twofactord.db")
        self.key_path = os.path.join(self.state_dir, "key")
        self.config_path = os.path.join(self.dir, "twofactord.conf")
        self.daemon_log_path = os.path.join(self.dir, "twofactord.log")
        self.endpoint_log_path = os.path.join(self.dir, "fake_twilio.log")
        self._start_endpoint()
        self.write_config()
        self.start_daemon()

    def stop(self):
        """Kills what this harness started and removes its users and files. Idempotent."""
        self.stop_daemon()
        if self.endpoint is not None:
            self._terminate(self.endpoint)
            self.endpoint = None
        for name in list(self.users):
            self.remove_user(name)
        for log in self._logs:
            with contextlib.suppress(OSError):
                log.close()
        self._logs = []
        if self.dir is not None:
            if os.environ.get("TWOFACTOR_KEEP_TEST_DIR"):
                print(f"harness: kept {self.dir}", file=sys.stderr)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    @staticmethod
    def _terminate(process, kill9=False, grace=10.0):
        if process.poll() is None:
            process.send_signal(signal.SIGKILL if kill9 else signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=grace)

    def _open_log(self, path):
        log = open(path, "ab")
        self._logs.append(log)
        return log

    # ---- the fake Twilio endpoint -----------------------------------------------------------

    def _start_endpoint(self):
        port_file = os.path.join(self.dir, "fake_twilio.port")
        command = [PYTHON, binary("FAKE_TWILIO"), "--port", "0", "--account-sid", ACCOUNT_SID,
                   "--auth-token", self.auth_token, "--port-file", port_file,
                   *self.endpoint_args]
        if self.endpoint_tls:
            command += ["--tls-cert", self.endpoint_tls["cert"],
                        "--tls-key", self.endpoint_tls["key"]]
        log = self._open_log(self.endpoint_log_path)
        self.endpoint = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, preexec_fn=_die_with_parent)

        def port_written():
            if self.endpoint.poll() is not None:
                raise RuntimeError("fake_twilio.py exited with status "
                                   f"{self.endpoint.returncode}:\n{self.endpoint_log()}")
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                return int(text) if text else None
            except (OSError, ValueError):
                return None

        self.endpoint_port = wait_until(port_written, START_TIMEOUT)
        if not self.endpoint_port:
            raise RuntimeError(f"fake_twilio.py wrote no port within {START_TIMEOUT} s:\n"
                               f"{self.endpoint_log()}")
        scheme = "https" if self.endpoint_tls else "http"
        self.endpoint_url = f"{scheme}://127.0.0.1:{self.endpoint_port}"

    def _control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.endpoint_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        context = None
        if self.endpoint_tls:
            context = ssl.create_default_context(cafile=self.endpoint_tls["ca"])
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            text = response.read().decode()
        return json.loads(text) if text.strip() else None

    def messages(self):
        """Every message the endpoint accepted or refused, oldest first (dicts with To, Body...)."""
        answer = self._control("GET", "/_control/messages")
        if isinstance(answer, dict) and "messages" in answer:
            answer = answer["messages"]
        return answer or []

    def last_code(self):
        """The code in the last text message's body, or None when none was sent."""
        try:
            answer = self._control("GET", "/_control/last_code")
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise
        if isinstance(answer, dict):
            answer = answer.get("code")
        return None if answer is None else str(answer)

    def wait_for_messages(self, count, timeout=10.0):
        """Waits until the endpoint holds at least `count` messages; returns them."""
        found = wait_until(lambda: (lambda m: m if len(m) >= count else None)(self.messages()),
                           timeout)
        return found if found is not None else self.messages()

    def behave(self, **behaviour):
        """Changes how the endpoint answers (see tests/endpoint/fake_twilio.py)."""
        return self._control("POST", "/_control/behaviour", behaviour)

    def reset_endpoint(self):
        return self._control("POST", "/_control/reset", {})

    def endpoint_log(self):
        return _read(self.endpoint_log_path)

    # ---- the daemon -------------------------------------------------------------------------

    def config_sections(self):
        sections = {
            "daemon": {"socket": self.socket_path, "database": self.database_path,
                       "key_file": self.key_path, "debug": "yes" if self.debug else "no"},
            "twilio": {"account_sid": ACCOUNT_SID, "auth_token": self.auth_token,
                       "from": FROM_NUMBER, "api_url": self.endpoint_url},
            # The fleet's text budgets have their own tests (security/test_sms_budget.py);
            # the others text one number prefix more often than a day's default allows.
            "sms": {"default_country_code": "1", "message": "Your verification code is {code}",
                    "texts_per_day": 1000000, "texts_per_prefix_per_day": 1000000},
            "login": {"challenge_lifetime": 300, "tries": 5},
            "lockout": {"failures": 10, "window": 900, "duration": 900},
        }
        for section, keys in self.config_overrides.items():
            target = sections.setdefault(section, {})
            for key, value in keys.items():
                if value is None:
                    target.pop(key, None)
                elif callable(value):  # a value known once the harness runs (the endpoint URL)
                    target[key] = value(self)
                else:
                    target[key] = value
        return sections

    def write_config(self):
        lines = ["# written by tests/integration/harness.py"]
        for section, keys in self.config_sections().items():
            lines.append(f"\n[{section}]")
            lines.extend(f"{key} = {value}" for key, value in keys.items())
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.config_path, 0o600)

    def start_daemon(self):
        if self.daemon is not None and self.daemon.poll() is None:
            raise RuntimeError("twofactord is already running")
        log = self._open_log(self.daemon_log_path)
        self.daemon = subprocess.Popen([binary("TWOFACTORD"), "--config", self.config_path],
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                       preexec_fn=_die_with_parent)
        self._wait_for_socket()

    def _wait_for_socket(self):
        def accepts():
            if self.daemon.poll() is not None:
                raise RuntimeError(f"twofactord exited with status {self.daemon.returncode}:\n"
                                   f"{self.daemon_log()}")
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1.0)
                try:
                    s.connect(self.socket_path)
                    return True
                except OSError:
                    return False

        if not wait_until(accepts, START_TIMEOUT):
            raise RuntimeError(f"twofactord's socket {self.socket_path} accepted no connection "
                               f"within {START_TIMEOUT} s:\n{self.daemon_log()}")

    def stop_daemon(self, kill9=False):
        if self.daemon is not None:
            self._terminate(self.daemon, kill9=kill9)
            self.daemon = None

    def restart_daemon(self, kill9=False):
        """Stops twofactord (SIGTERM, or SIGKILL with kill9) and starts it on the same files."""
        self.stop_daemon(kill9=kill9)
        self.start_daemon()

    def daemon_log(self):
        return _read(self.daemon_log_path)

    # ---- twofactorctl -----------------------------------------------------------------------

    def ctl_command(self, *args, socket_path=None):
        path = self.socket_path if socket_path is None else socket_path
        return [binary("TWOFACTORCTL"), "--socket", path, *args]

    def ctl(self, *args, as_user=None, input=None, socket_path=None, timeout=COMMAND_TIMEOUT):
        """Runs twofactorctl --socket SOCKET ARGS...; returns (rc, stdout, stderr)."""
        command = self.ctl_command(*args, socket_path=socket_path)
        return run_as(command, as_user=as_user, input=input, timeout=timeout)

    def spawn_ctl(self, *args, as_user=None, stdin=subprocess.PIPE):
        """Starts twofactorctl for a conversation (enroll): a Popen with binary, unbuffered
        pipes; read its output with Expect. The caller waits for it (or kills it)."""
        return spawn(self.ctl_command(*args), as_user=as_user, stdin=stdin)

    def ctl_json(self, *args, **kw):
        """ctl with --json; returns (rc, parsed stdout or None, stderr)."""
        rc, out, err = self.ctl("--json", *args, **kw)
        try:
            parsed = json.loads(out) if out.strip() else None
        except json.JSONDecodeError as e:
            raise AssertionError(f"twofactorctl printed no JSON ({e}): {out!r} / {err!r}")
        return rc, parsed, err

    # ---- temporary system users -------------------------------------------------------------

    def create_user(self):
        """A new system user tf_test_XXXXXX without a home; removed when the harness stops."""
        remove_stale_test_users()
        for _ in range(10):
            name = USER_PREFIX + secrets.token_hex(3)
            result = _run_retrying_on_lock(
                ["useradd", "-M", "-s", "/usr/sbin/nologin", "-c",
                 f"{USER_COMMENT}{os.getpid()}", name])
            if result.returncode == 0:
                self.users.append(name)
                return name
            if result.returncode != 9:  # 9: the name is taken, try another
                raise RuntimeError(f"useradd {name} failed: {result.stderr.strip()}")
        raise RuntimeError("useradd found no free name")

    def remove_user(self, name):
        result = _run_retrying_on_lock(["userdel", name])
        if name in self.users:
            self.users.remove(name)
        if result.returncode not in (0, 6):  # 6: no such user
            print(f"harness: userdel {name} failed: {result.stderr.strip()}", file=sys.stderr)


def as_user_command(command, as_user):
    """The command, run as `as_user` with that user's groups (or as is for None)."""
    if as_user is None:
        return list(command)
    entry = pwd.getpwnam(as_user)
    return ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups",
            "--", *command]


def run_as(command, as_user=None, input=None, timeout=COMMAND_TIMEOUT, env=None):
    """Runs a command, as root or (as_user) as a user with that user's groups."""
    result = subprocess.run(as_user_command(command, as_user), input=input, capture_output=True,
                            text=True, timeout=timeout, env=env, preexec_fn=_die_with_parent)
    return result.returncode, result.stdout, result.stderr


def spawn(command, as_user=None, stdin=subprocess.PIPE, env=None):
    return subprocess.Popen(as_user_command(command, as_user), stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0, env=env,
                            preexec_fn=_die_with_parent)


class Expect:
    """Reads a file descriptor until a regular expression matches, within a time limit."""

    def __init__(self, fd):
        self.fd = fd
        self.text = ""  # read and not yet consumed by a match
        self.seen = ""  # everything read
        # A character may be split between two reads (a QR code in half blocks is 10 KB).
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def expect(self, pattern, timeout=10.0):
        """Waits for `pattern`; returns the match and drops the text up to its end. Raises
        AssertionError on timeout or end of file, showing what was read."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.text)
            if match:
                self.text = self.text[match.end():]
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{pattern!r} did not appear within {timeout} s; "
                                     f"read: {self.seen!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:  # a pty's reader gets EIO once the other side is closed
                chunk = b""
            if not chunk:
                raise AssertionError(f"end of output before {pattern!r}; read: {self.seen!r}")
            decoded = self.decoder.decode(chunk)
            self.text += decoded
            self.seen += decoded

    def rest(self, timeout=5.0):
        """Everything until end of file (or the time limit)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], deadline - time.monotonic())
            if not ready:
                break
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            decoded = self.decoder.decode(chunk)
            self.text += decoded
            self.seen += decoded
        return self.seen


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""
