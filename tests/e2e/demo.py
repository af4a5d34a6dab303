# SPDX-License-Identifier: BSD-2-Clause
"""The README's main command: an SSH login with a password and a texted code, on loopback.

Starts the Twilio-compatible endpoint and a real twofactord, enrolls a new user with a texted
code through twofactorctl, starts sshd on a free loopback port with a PAM service that asks for
the password (pam_unix) and then the code (pam_twofactor), logs in with ssh answering both, and
shows a wrong code being refused. Everything it creates is removed at the end.

    python3 tests/e2e/demo.py BUILD_DIR
"""

import json
import os
import re
import secrets
import subprocess
import sys
import textwrap

import pexpect

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from sshd import SshServer  # noqa: E402

PHONE = "+15555550123"
# The daemon's own [sms] message, "{code} is your code for {service} on {host}": the code comes
# first, and a host name may hold digits of its own.
FIRST_CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


def last_text(h):
    """The body of the last text the endpoint received, and the code at its start."""
    body = h.wait_for_messages(1)[-1]["form"].get("Body", "")
    found = FIRST_CODE.search(body)
    return body, found.group(0) if found else None


def step(number, title):
    print(f"\n=== {number}. {title}", flush=True)


def show(text, prefix="    "):
    print(textwrap.indent(text.rstrip("\n"), prefix), flush=True)


def run_ctl(h, *args, input=None):
    print(f"  $ twofactorctl {' '.join(args)}", flush=True)
    rc, out, err = h.ctl(*args, input=input)
    show(out + err)
    if rc != 0:
        raise SystemExit(f"demo: twofactorctl {args[0]} failed with exit status {rc}")
    return out


def create_login_user(password):
    name = f"tfdemo{secrets.token_hex(3)}"
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", "-c", "twofactor demo user", name],
                   check=True, timeout=30)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, timeout=30)
    return name


def remove_login_user(name):
    subprocess.run(["userdel", "-r", name], capture_output=True, timeout=30)


def login(server, h, user, password, code_for):
    """One ssh login; `code_for(texted)` gives what to type at the code prompt."""
    print(f"  $ ssh -p {server.port} {user}@127.0.0.1 'echo LOGGED-IN as $(id -un)'", flush=True)
    child = server.ssh(user)
    try:
        child.expect(r"[Pp]assword: ")
        print(f"  ssh asks: {child.after.strip()}   -> typing the password", flush=True)
        child.sendline(password)
        attempts = 0
        while True:
            index = child.expect([r"Verification code: ", r"LOGGED-IN as \S+",
                                  r"Permission denied[^\r\n]*", pexpect_eof()])
            said = (child.before or "").strip()
            if said:
                show(said, "  ssh shows: ")
            if index == 0:
                attempts += 1
                body, texted = last_text(h)
                if attempts == 1:
                    print(f"  the phone {PHONE} receives: \"{body}\"", flush=True)
                answer = code_for(texted, attempts)
                print(f"  ssh asks: Verification code:   -> typing {answer}"
                      f"{'' if answer == texted else ' (not the texted code)'}", flush=True)
                child.sendline(answer)
                continue
            if index == 1:
                print(f"  the remote command printed: {child.after.strip()}", flush=True)
                child.expect(pexpect_eof())
                return True
            if index == 2:
                print(f"  ssh says: {child.after.strip()}", flush=True)
            return False
    finally:
        child.close(force=True)


def pexpect_eof():
    return pexpect.EOF


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
    os.environ.setdefault("TWOFACTORD", os.path.join(build, "daemon", "twofactord"))
    os.environ.setdefault("TWOFACTORCTL", os.path.join(build, "ctl", "twofactorctl"))
    os.environ.setdefault("FAKE_TWILIO", os.path.join(ROOT, "tests", "endpoint", "fake_twilio.py"))
    module = os.environ.get("PAM_MODULE", os.path.join(build, "pam", "pam_twofactor.so"))
    if os.geteuid() != 0:
        raise SystemExit("demo: run as root (it creates a user and starts sshd)")

    user = None
    password = secrets.token_urlsafe(12)
    step(1, "Start the Twilio-compatible endpoint and twofactord (both on loopback)")
    # The daemon's default text, not the tests' fixed one.
    with harness.Harness(debug=False, config={"sms": {"message": None}}) as h:
        print(f"  endpoint: {h.endpoint_url}  (stands in for https://api.twilio.com)")
        print(f"  twofactord: socket {h.socket_path}, database {h.database_path}")

        step(2, "Create a user who logs in with a password")
        user = create_login_user(password)
        print(f"  user {user}, password {password}")
        try:
            step(3, f"Enroll {user}: a secret, a texted code, enable")
            out = run_ctl(h, "--json", "secret")
            secret = json.loads(out)["secret"]
            run_ctl(h, "send", "--phone", PHONE, "--secret", secret)
            body, code = last_text(h)
            print(f"  the phone {PHONE} receives: \"{body}\"")
            run_ctl(h, "enable", user, "--secret", secret, "--code", code, "--phone", PHONE)
            run_ctl(h, "status", user)

            step(4, "Start sshd on a loopback port; its PAM service asks for password, then code")
            pam_lines = [
                "auth     required pam_unix.so",
                f"auth     required {module} socket={h.socket_path}",
                "account  required pam_unix.so",
                "session  required pam_unix.so",
            ]
            with SshServer(pam_lines, [user], prefix="tfdemo-sshd") as server:
                print(f"  sshd on 127.0.0.1:{server.port}, PAM service /etc/pam.d/{server.service}:")
                show("\n".join(pam_lines))

                step(5, "Log in with the password and the texted code")
                if not login(server, h, user, password, lambda texted, n: texted):
                    raise SystemExit("demo: the login with the right code failed:\n" +
                                     server.read_log()[-3000:])
                print("  => logged in")

                step(6, "Log in again with a wrong code: refused")
                wrong = lambda texted, n: "000000" if texted != "000000" else "111111"
                if login(server, h, user, password, wrong):
                    raise SystemExit("demo: a wrong code let the user in")
                print("  => refused")
        finally:
            step(7, "Clean up: sshd, its PAM service, the user, the daemon and the endpoint")
            remove_login_user(user)
    print("  done: nothing is left behind")


if __name__ == "__main__":
    main()
