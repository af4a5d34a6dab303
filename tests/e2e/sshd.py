# SPDX-License-Identifier: BSD-2-Clause
"""A real sshd on a loopback port, with a PAM service of its own, for the demo and the end-to-end
tests. Nothing existing is edited: the PAM service is a new file in /etc/pam.d named after a
link to sshd (OpenSSH on Debian uses its program name as the PAM service), and everything it
creates is removed by stop().

    with SshServer(pam_lines, user=name) as server:
        session = server.ssh(name)          # a pexpect child on a pty
"""

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time

import pexpect

SSHD = "/usr/sbin/sshd"
SSH = "/usr/bin/ssh"
PAM_DIR = "/etc/pam.d"
PRIVSEP_DIR = "/run/sshd"
START_TIMEOUT = 10.0


def free_loopback_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SshServer:
    """sshd -D on 127.0.0.1:<free port> whose PAM service holds `pam_lines` (a list of lines for
    the auth, account and session stacks)."""

    def __init__(self, pam_lines, allow_users, methods="keyboard-interactive", prefix="tf-sshd"):
        self.pam_lines = list(pam_lines)
        self.allow_users = list(allow_users)
        self.methods = methods
        self.service = f"{prefix}-{secrets.token_hex(3)}"
        self.dir = None
        self.process = None
        self.port = None
        self.pam_file = None
        self.made_privsep_dir = False

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
        self.dir = tempfile.mkdtemp(prefix="twofactor-sshd-")
        os.chmod(self.dir, 0o755)
        if not os.path.isdir(PRIVSEP_DIR):
            os.mkdir(PRIVSEP_DIR, 0o755)
            self.made_privsep_dir = True

        # O_EXCL: never replace a service file that is not ours.
        self.pam_file = os.path.join(PAM_DIR, self.service)
        fd = os.open(self.pam_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w") as f:
            f.write("# twofactor test service, removed when the test ends\n")
            f.write("\n".join(self.pam_lines) + "\n")

        host_key = os.path.join(self.dir, "host_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key],
                       check=True, timeout=30)
        os.makedirs(os.path.join(self.dir, "authorized_keys"), mode=0o755)
        self.port = free_loopback_port()
        self.config = os.path.join(self.dir, "sshd_config")
        with open(self.config, "w") as f:
            f.write(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile {self.dir}/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication {"yes" if "publickey" in self.methods else "no"}
AuthorizedKeysFile {self.dir}/authorized_keys/%u
AuthenticationMethods {self.methods}
AllowUsers {" ".join(self.allow_users)}
PermitRootLogin no
StrictModes no
MaxAuthTries 6
LoginGraceTime 60
LogLevel VERBOSE
PrintMotd no
Subsystem sftp internal-sftp
""")
        # sshd re-executes itself by its path; the link's name is the PAM service.
        self.link = os.path.join(self.dir, self.service)
        os.symlink(SSHD, self.link)
        self.log_path = os.path.join(self.dir, "sshd.log")
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen([self.link, "-D", "-e", "-f", self.config],
                                        stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=self.log)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited with {self.process.returncode}:\n{self.read_log()}")
            with socket.socket() as s:
                s.settimeout(0.5)
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"sshd did not listen on port {self.port}:\n{self.read_log()}")

    def authorize_key(self, user, public_key_path):
        shutil.copy(public_key_path, os.path.join(self.dir, "authorized_keys", user))
        os.chmod(os.path.join(self.dir, "authorized_keys", user), 0o644)

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except (OSError, AttributeError):
            return ""

    def ssh(self, user, command="echo LOGGED-IN as $(id -un)", identity=None, timeout=30):
        """Starts ssh on a pty; the caller answers its prompts with expect/sendline."""
        args = ["-F", "/dev/null", "-p", str(self.port),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "NumberOfPasswordPrompts=1",
                "-o", "ConnectTimeout=10"]
        if identity:
            args += ["-i", identity, "-o", "IdentitiesOnly=yes",
                     "-o", "PreferredAuthentications=publickey,keyboard-interactive"]
        else:
            args += ["-o", "PubkeyAuthentication=no",
                     "-o", "PreferredAuthentications=keyboard-interactive"]
        args += [f"{user}@127.0.0.1", command]
        return pexpect.spawn(SSH, args, timeout=timeout, encoding="utf-8",
                             codec_errors="replace", env={"PATH": "/usr/bin:/bin", "TERM": "dumb"})

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None
        if self.pam_file and os.path.exists(self.pam_file):
            os.unlink(self.pam_file)
        self.pam_file = None
        if self.made_privsep_dir:
            shutil.rmtree(PRIVSEP_DIR, ignore_errors=True)
            self.made_privsep_dir = False
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
