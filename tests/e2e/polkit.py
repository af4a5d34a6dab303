# SPDX-License-Identifier: BSD-2-Clause
"""A system D-Bus and polkitd of the test's own, for the pkexec end-to-end test.

pkexec and polkit's setuid polkit-agent-helper-1 find their pieces at fixed paths: the system bus
at /run/dbus/system_bus_socket (setuid programs ignore DBUS_SYSTEM_BUS_ADDRESS), the PAM service
"polkit-1" in /etc/pam.d or /usr/lib/pam.d (no confdir; LD_PRELOAD, so pam_wrapper, does not
reach a setuid program), the rules in /etc/polkit-1/rules.d. So the test runs in a mount
namespace of its own (`enter_private_mount_namespace`, a re-execution under
`unshare --mount --propagation private`), where `PolkitServices` puts a tmpfs over /run/dbus and
binds its own PAM file and rules directory over the machine's: nothing outside the namespace
changes, and the mounts end with the test's process whatever happens to it.

    enter_private_mount_namespace()
    with PolkitServices(pam_lines, admin_prefix="tfe2e") as polkit:
        ...                                  # pkexec run by a user whose name starts with tfe2e
"""

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

import installed  # noqa: F401  (puts tests/integration on the path)

import harness  # noqa: E402

DBUS_DAEMON = "/usr/bin/dbus-daemon"
POLKITD = "/usr/lib/polkit-1/polkitd"
PKEXEC = "/usr/bin/pkexec"
PKTTYAGENT = "/usr/bin/pkttyagent"
RUN_DBUS = "/run/dbus"
SYSTEM_BUS_SOCKET = RUN_DBUS + "/system_bus_socket"
RULES_DIR = "/etc/polkit-1/rules.d"
POLKIT_BUS_POLICY = "/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf"
# libpam reads /etc/pam.d/<service> first, then the vendor directory (Debian's polkitd ships
# /usr/lib/pam.d/polkit-1, which includes common-auth).
PAM_FILES = ("/etc/pam.d/polkit-1", "/usr/lib/pam.d/polkit-1")
EXEC_ACTION = "org.freedesktop.policykit.exec"
NAMESPACE_MARK = "TWOFACTOR_E2E_MACHINE_MOUNT_NS"  # set in the re-executed test
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0

# The system bus of Debian's system.conf, cut to what polkit needs: no service activation (the
# test starts polkitd itself), no syslog, no pid file, and the bus policy polkitd ships.
BUS_CONFIG = f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path={SYSTEM_BUS_SOCKET}</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <include>{POLKIT_BUS_POLICY}</include>
</busconfig>
"""


class Skip(Exception):
    """polkit cannot run here; the reason says why."""


def in_private_mount_namespace():
    """True when this process runs in the namespace enter_private_mount_namespace made."""
    original = os.environ.get(NAMESPACE_MARK)
    return bool(original) and os.readlink("/proc/self/ns/mnt") != original


def enter_private_mount_namespace():
    """Re-executes this program in a new mount namespace whose mounts do not propagate to the
    machine's. Does nothing when not root (the test skips) or when already done."""
    if os.geteuid() != 0 or os.environ.get(NAMESPACE_MARK):
        return
    unshare = shutil.which("unshare")
    if not unshare:
        return  # PolkitServices refuses to mount outside a namespace of its own
    os.environ[NAMESPACE_MARK] = os.readlink("/proc/self/ns/mnt")  # the machine's
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(unshare, [unshare, "--mount", "--propagation", "private", "--",
                       sys.executable, *sys.argv])


def reason_to_skip():
    for path in (DBUS_DAEMON, POLKITD, PKEXEC, PKTTYAGENT, POLKIT_BUS_POLICY):
        if not os.path.exists(path):
            return f"{path} is missing (install dbus-daemon, polkitd and pkexec)"
    if pam_file() is None:
        return "no PAM service polkit-1 in /etc/pam.d or /usr/lib/pam.d"
    if not os.path.isdir(RULES_DIR):
        return f"{RULES_DIR} is missing"
    return None


def pam_file():
    """The file pam_start("polkit-1") reads."""
    return next((path for path in PAM_FILES if os.path.exists(path)), None)


def _run(*command):
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed with status {result.returncode}: "
                           f"{result.stderr.strip()}")


class PolkitServices:
    """dbus-daemon on the system bus's path and polkitd on it, in this process's private mount
    namespace. The polkit-1 PAM service holds `pam_lines`; a rule makes every user whose name
    starts with `admin_prefix` an administrator for pkexec (org.freedesktop.policykit.exec is
    auth_admin), so such a user authenticates as themselves."""

    def __init__(self, pam_lines, admin_prefix):
        self.pam_lines = list(pam_lines)
        self.admin_prefix = admin_prefix
        self.dir = None
        self.mounts = []           # mount points, in the order they were mounted
        self.made_run_dbus = False
        self.bus = None
        self.polkitd = None
        self.logs = []

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
        reason = reason_to_skip()
        if reason:
            raise Skip(reason)
        if not in_private_mount_namespace():
            raise RuntimeError("refusing to mount over the machine's /run/dbus and polkit files "
                               "outside a mount namespace of the test's own")
        self.dir = tempfile.mkdtemp(prefix="twofactor-polkit-")
        os.chmod(self.dir, 0o755)

        if not os.path.isdir(RUN_DBUS):
            os.mkdir(RUN_DBUS, 0o755)  # a mount point; removed again by stop()
            self.made_run_dbus = True
        self._mount("-t", "tmpfs", "-o", "mode=0755,size=1m", "tmpfs", RUN_DBUS)

        pam = self._write("polkit-1", "# twofactor end-to-end test: polkit's PAM service\n"
                          + "\n".join(self.pam_lines) + "\n")
        self._mount("--bind", pam, pam_file())

        rules = os.path.join(self.dir, "rules.d")
        os.mkdir(rules, 0o755)
        self._write("rules.d/10-twofactor-e2e.rules", f"""// twofactor end-to-end test
polkit.addAdminRule(function(action, subject) {{
    if (action.id == "{EXEC_ACTION}" && subject.user.indexOf("{self.admin_prefix}") == 0)
        return ["unix-user:" + subject.user];
    return null;
}});
""")
        self._mount("--bind", rules, RULES_DIR)

        bus_config = self._write("system-bus.conf", BUS_CONFIG)
        self.bus = self._spawn("dbus-daemon", [DBUS_DAEMON, "--config-file", bus_config,
                                               "--nofork", "--nopidfile"])
        self._wait("the system bus socket", lambda: os.path.exists(SYSTEM_BUS_SOCKET),
                   self.bus)
        # polkitd starts as root and changes to its user, polkitd, by itself.
        self.polkitd = self._spawn("polkitd", [POLKITD])
        self._wait("polkitd on the bus",
                   lambda: "Acquired the name org.freedesktop.PolicyKit1" in self.log("polkitd"),
                   self.polkitd)

    def log(self, name):
        try:
            with open(os.path.join(self.dir, f"{name}.log"), errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def logs_text(self):
        """What dbus-daemon and polkitd said, for a failure's report."""
        return "".join(f"--- {name} log ---\n{self.log(name)[-5000:]}\n"
                       for name in ("dbus-daemon", "polkitd"))

    def stop(self):
        for process in (self.polkitd, self.bus):
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        self.polkitd = self.bus = None
        for log in self.logs:
            log.close()
        self.logs = []
        while self.mounts:
            with contextlib.suppress(Exception):
                _run("umount", self.mounts.pop())
        if self.made_run_dbus:
            with contextlib.suppress(OSError):
                os.rmdir(RUN_DBUS)
            self.made_run_dbus = False
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def _mount(self, *args):
        _run("mount", *args)
        self.mounts.append(args[-1])

    def _write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def _spawn(self, name, command):
        log = open(os.path.join(self.dir, f"{name}.log"), "ab")
        self.logs.append(log)
        # Killed with the test's process; polkitd (which changes its user, and so forgets that)
        # exits when it loses the bus.
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                preexec_fn=harness._die_with_parent)

    def _wait(self, what, ready, process):
        deadline = time.monotonic() + START_TIMEOUT
        while not ready():
            if process.poll() is not None:
                raise RuntimeError(f"{what}: {process.args[0]} exited with status "
                                   f"{process.returncode}:\n{self.logs_text()}")
            if time.monotonic() >= deadline:
                raise RuntimeError(f"no {what} within {START_TIMEOUT} s:\n{self.logs_text()}")
            time.sleep(0.05)
