# SPDX-License-Identifier: BSD-2-Clause
"""The installed Debian packages, for the end-to-end tests.

`Packages` installs the twofactord and libpam-twofactor .debs from TWOFACTOR_PACKAGES_DIR
(tests/packaging/build_packages.sh leaves them there) with apt-get, and purges them again; it
refuses to start when twofactor is already on the machine, so an existing installation is never
touched. `InstalledDaemon` is the integration harness (fake Twilio endpoint, twofactorctl)
around the installed /usr/sbin/twofactord, started the way its systemd units start it: the
socket /run/twofactord/socket bound by systemd-socket-activate, the key and the Twilio token
handed over in $CREDENTIALS_DIRECTORY, the daemon running as _twofactord. `LoginUser` is a
temporary account with a home, a shell and a password.

    with Packages() as packages, InstalledDaemon() as daemon:
        ...
"""

import contextlib
import glob
import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import harness  # noqa: E402  (the path above first)

PACKAGES = ("twofactord", "libpam-twofactor")
DAEMON_USER = "_twofactord"
DAEMON = "/usr/sbin/twofactord"
CTL = "/usr/bin/twofactorctl"
KEY = "/etc/twofactord/key"
SOCKET_DIR = "/run/twofactord"
SOCKET = SOCKET_DIR + "/socket"
STATE_DIR = "/var/lib/twofactord"
# PAM stacks name the module by its file name: libpam finds it in its own directory, which is
# where the package put it.
MODULE = "pam_twofactor.so"
APT_TIMEOUT = 600
START_TIMEOUT = 15.0
USER_PREFIX = "tfe2e"
USER_COMMENT = "twofactor e2e test pid="


class Skip(Exception):
    """The machine is not one this test may change; the reason says why."""


def multiarch():
    result = subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"], capture_output=True,
                            text=True, timeout=30)
    return result.stdout.strip() or "x86_64-linux-gnu"


def module_path():
    return f"/lib/{multiarch()}/security/{MODULE}"


def package_state(name):
    result = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Status}", name],
                            capture_output=True, text=True, timeout=30)
    return result.stdout.strip() if result.returncode == 0 else "not-installed"


class Packages:
    """Installs the built packages; on exit purges them, deletes _twofactord if this made it,
    and removes /run/twofactord if it was not there before."""

    def __init__(self, directory=None):
        self.directory = directory or os.environ.get("TWOFACTOR_PACKAGES_DIR", "")
        self.installed = False
        self.user_existed = True
        self.socket_dir_existed = True
        self.log = []

    def __enter__(self):
        try:
            self.install()
        except BaseException:
            self.purge()
            raise
        return self

    def __exit__(self, *exc):
        self.purge()
        return False

    def debs(self):
        if not self.directory:
            raise RuntimeError("TWOFACTOR_PACKAGES_DIR is not set: run the test through ctest, "
                               "or run tests/packaging/build_packages.sh DIR and export it")
        found = []
        for package in PACKAGES:
            matches = sorted(glob.glob(os.path.join(self.directory, f"{package}_*.deb")))
            if len(matches) != 1:
                raise RuntimeError(f"{self.directory} holds {len(matches)} {package}_*.deb "
                                   "files, expected one (run tests/packaging/build_packages.sh)")
            found.append(matches[0])
        return found

    @staticmethod
    def reason_to_stay_away():
        """Why this machine must not be touched, or None."""
        if os.geteuid() != 0:
            return "needs root (installs packages, creates users)"
        for tool in ("apt-get", "dpkg-query", "systemd-socket-activate", "setpriv", "sshd",
                     "sudo", "visudo", "useradd", "chpasswd"):
            if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
                return f"{tool} is missing"
        for package in PACKAGES:
            state = package_state(package)
            if state != "not-installed":
                return f"{package} is already on this machine ({state}); it is left alone"
        for path in ("/etc/twofactord", STATE_DIR, DAEMON, CTL, module_path(), SOCKET,
                     "/usr/share/pam-configs/twofactor"):
            if os.path.lexists(path):
                return f"{path} already exists; this machine's twofactor is left alone"
        return None

    def install(self):
        reason = self.reason_to_stay_away()
        if reason:
            raise Skip(reason)
        debs = self.debs()
        self.user_existed = _user_exists(DAEMON_USER)
        self.socket_dir_existed = os.path.lexists(SOCKET_DIR)
        self.installed = True  # from here on, purge() cleans up whatever the install did
        started = time.monotonic()
        self._apt("install", *[os.path.abspath(deb) for deb in debs])
        self.install_seconds = time.monotonic() - started
        for package in PACKAGES:
            if package_state(package) != "installed":
                raise RuntimeError(f"{package} is not installed after apt-get install:\n"
                                   + "\n".join(self.log[-1:]))

    def purge(self):
        if not self.installed:
            return
        self.installed = False
        present = [p for p in PACKAGES if package_state(p) != "not-installed"]
        if present:
            with contextlib.suppress(Exception):
                self._apt("purge", *present)
        # Purging keeps the system user on purpose (Debian's rule); this test made it, so it goes.
        if not self.user_existed and _user_exists(DAEMON_USER):
            harness._run_retrying_on_lock(["userdel", DAEMON_USER])
            with contextlib.suppress(KeyError):
                grp.getgrnam(DAEMON_USER)
                harness._run_retrying_on_lock(["groupdel", DAEMON_USER])
        if not self.socket_dir_existed:
            with contextlib.suppress(OSError):
                os.unlink(SOCKET)
            with contextlib.suppress(OSError):
                os.rmdir(SOCKET_DIR)

    def _apt(self, action, *args):
        # Lock::Timeout: wait for another dpkg run to finish instead of failing at once.
        command = ["apt-get", action, "-y", "-q", "-o", "DPkg::Lock::Timeout=120", *args]
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        result = subprocess.run(command, capture_output=True, text=True, timeout=APT_TIMEOUT,
                                env=env)
        self.log.append(f"$ {' '.join(command)}\n{result.stdout}{result.stderr}")
        if result.returncode != 0:
            raise RuntimeError(f"apt-get {action} failed with status {result.returncode}:\n"
                               f"{result.stdout[-3000:]}{result.stderr[-3000:]}")


def _user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class InstalledDaemon(harness.Harness):
    """The harness around the installed daemon and CLI, started as twofactord.socket and
    twofactord.service would start it: the socket at its real path, bound by root (as PID 1
    binds it) with mode 0666 (SocketMode=), the daemon execed on the first connection as
    _twofactord with the credentials twofactord.key and twilio-auth-token, the database in
    /var/lib/twofactord. Only the configuration is a file of the test's own, which points
    api_url at the endpoint; /etc/twofactord/twofactord.conf stays as shipped."""

    def __init__(self, config=None, **kw):
        os.environ["TWOFACTORD"] = DAEMON
        os.environ["TWOFACTORCTL"] = CTL
        os.environ.setdefault("FAKE_TWILIO", os.path.join(ROOT, "tests", "endpoint",
                                                          "fake_twilio.py"))
        super().__init__(config=config, **kw)

    def config_sections(self):
        sections = super().config_sections()
        # Socket, database and key as the packages set them up; the token as a credential.
        for key in ("socket", "database", "key_file"):
            sections["daemon"].pop(key, None)
        sections["twilio"].pop("auth_token", None)
        return sections

    def write_config(self):
        super().write_config()
        entry = pwd.getpwnam(DAEMON_USER)
        os.chown(self.config_path, entry.pw_uid, entry.pw_gid)

    def _write_credentials(self):
        entry = pwd.getpwnam(DAEMON_USER)
        self.credentials_dir = os.path.join(self.dir, "credentials")
        shutil.rmtree(self.credentials_dir, ignore_errors=True)
        os.mkdir(self.credentials_dir, 0o700)
        with open(KEY, "rb") as f:
            key = f.read()
        for name, content in (("twofactord.key", key),
                              ("twilio-auth-token", self.auth_token.encode() + b"\n")):
            path = os.path.join(self.credentials_dir, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
            with os.fdopen(fd, "wb") as f:
                f.write(content)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        os.chown(self.credentials_dir, entry.pw_uid, entry.pw_gid)

    def start_daemon(self):
        if self.daemon is not None and self.daemon.poll() is None:
            raise RuntimeError("twofactord is already running")
        self.socket_path = SOCKET
        self._write_credentials()
        if not os.path.isdir(SOCKET_DIR):
            os.mkdir(SOCKET_DIR, 0o755)  # what tmpfiles.d and PID 1 do
        if os.path.lexists(SOCKET):
            os.unlink(SOCKET)  # left by an earlier start here: PID 1 would replace it too
        self.daemon_log_offset = os.path.getsize(self.daemon_log_path) \
            if os.path.exists(self.daemon_log_path) else 0
        log = self._open_log(self.daemon_log_path)
        command = ["systemd-socket-activate", "--listen", SOCKET,
                   f"--setenv=CREDENTIALS_DIRECTORY={self.credentials_dir}",
                   "setpriv", f"--reuid={DAEMON_USER}", f"--regid={DAEMON_USER}",
                   "--init-groups", "--inh-caps=-all", "--bounding-set=-all",
                   DAEMON, "--config", self.config_path]
        self.daemon = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                       preexec_fn=harness._die_with_parent)

        def bound():
            if self.daemon.poll() is not None:
                raise RuntimeError(f"systemd-socket-activate exited with status "
                                   f"{self.daemon.returncode}:\n{self.daemon_log()}")
            return os.path.exists(SOCKET) and stat.S_ISSOCK(os.lstat(SOCKET).st_mode)

        if not harness.wait_until(bound, START_TIMEOUT):
            raise RuntimeError(f"{SOCKET} was not bound within {START_TIMEOUT} s")
        os.chmod(SOCKET, 0o666)  # twofactord.socket: SocketMode=0666
        # The first connection makes systemd-socket-activate exec the daemon; it is ready when
        # it says so (sd_notify READY=1 goes nowhere here, so its log is the sign).
        self._wait_for_socket()

        def ready():
            if self.daemon.poll() is not None:
                raise RuntimeError(f"twofactord exited with status {self.daemon.returncode}:\n"
                                   f"{self.daemon_log()}")
            return "ready" in self.daemon_log()[self.daemon_log_offset:]

        if not harness.wait_until(ready, START_TIMEOUT):
            raise RuntimeError(f"twofactord did not get ready within {START_TIMEOUT} s:\n"
                               f"{self.daemon_log()}")

    def daemon_identity(self):
        """(user name, executable) of the process serving the socket."""
        pid = self.daemon.pid
        uid = os.stat(f"/proc/{pid}").st_uid
        return pwd.getpwuid(uid).pw_name, os.readlink(f"/proc/{pid}/exe")

    def freeze_daemon(self):
        """SIGSTOP: the socket still accepts connections, nobody answers."""
        os.kill(self.daemon.pid, signal.SIGSTOP)

    def stop_daemon(self, kill9=False):
        """Stops the daemon and removes the socket, as stopping twofactord.socket and
        twofactord.service does (RemoveOnStop=yes)."""
        if self.daemon is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.daemon.pid, signal.SIGCONT)  # a frozen daemon must see SIGTERM
        super().stop_daemon(kill9=kill9)
        with contextlib.suppress(OSError):
            if stat.S_ISSOCK(os.lstat(SOCKET).st_mode):
                os.unlink(SOCKET)


class LoginUser:
    """A user who logs in: useradd -m -s /bin/sh, a random password set with chpasswd; removed
    with userdel -r."""

    def __init__(self):
        self.name = None
        self.password = secrets.token_urlsafe(12)

    def __enter__(self):
        remove_stale_login_users()
        for _ in range(10):
            name = USER_PREFIX + secrets.token_hex(3)
            result = harness._run_retrying_on_lock(
                ["useradd", "-m", "-s", "/bin/sh", "-c", f"{USER_COMMENT}{os.getpid()}", name])
            if result.returncode == 0:
                self.name = name
                break
            if result.returncode != 9:  # 9: the name is taken
                raise RuntimeError(f"useradd {name} failed: {result.stderr.strip()}")
        else:
            raise RuntimeError("useradd found no free name")
        try:
            subprocess.run(["chpasswd"], input=f"{self.name}:{self.password}\n", text=True,
                           check=True, capture_output=True, timeout=30)
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def remove(self):
        if self.name:
            # userdel -r reports mail spool not found on exit status 12; the user is gone anyway.
            harness._run_retrying_on_lock(["userdel", "-r", self.name])
            self.name = None


def remove_stale_login_users():
    """Removes users a killed run of these tests left (their creating process is gone)."""
    for entry in pwd.getpwall():
        comment = entry.pw_gecos or ""
        if not (entry.pw_name.startswith(USER_PREFIX) and comment.startswith(USER_COMMENT)):
            continue
        try:
            pid = int(comment[len(USER_COMMENT):])
        except ValueError:
            continue
        if pid != os.getpid() and not os.path.exists(f"/proc/{pid}"):
            harness._run_retrying_on_lock(["userdel", "-r", entry.pw_name])


def connect_refused(path):
    """True when nothing accepts connections at `path`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        try:
            s.connect(path)
            return False
        except OSError:
            return True
