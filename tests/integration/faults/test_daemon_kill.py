# SPDX-License-Identifier: BSD-2-Clause
"""Issue 6: `kill -9` of twofactord during a thousand enrollments and logins.

Eight workers enroll users (twofactorctl enable) and log them in (pam_twofactor.so through the
libpam driver, app and texted users) while the daemon is killed with SIGKILL five times at
random points and restarted. Checked:
- every PAM client ends promptly (far below the module's timeout) and fails closed: a login
  that did not get through reads the "not answering" sentence and gets PAM_AUTHINFO_UNAVAIL;
- after each restart, and at the end, every enrollment twofactorctl reported as done is there;
- after each restart, and at the end, every code a login was accepted with is refused when
  replayed; replays whose step is still inside the ±1 window (where only the persisted used
  step can refuse them) are counted, and there must be many of them."""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from faults_support import FaultTestCase, main, totp
from harness import SANITIZED
from pam_support import Login

# Each user enrolled and logged in once: 1,000 operations (300 under the sanitizers).
USERS = 150 if SANITIZED else 500
MAX_OPERATIONS = 3 * USERS  # with the retries of operations cut short by kills, at most
WORKERS = 8
KILLS = 5
MODULE_TIMEOUT = 30
PROMPT_BOUND = 10.0         # seconds: a client that takes longer has hung, not failed fast
UNREACHABLE_SENTENCE = ("The two-factor service is not answering, so you cannot log in now; "
                        "please try again later.")
EXIT_UNREACHABLE = 69


def step_now():
    return int(time.time() // 30)


class KillUser:
    def __init__(self, index):
        self.name = f"tf_kill_{index:04d}"
        self.texted = index % 4 == 0
        self.phone = f"+1555{index:07d}" if self.texted else None
        self.secret = None
        self.enrolled = False          # twofactorctl reported success
        self.enrolled_at = None
        self.used_steps = set()        # steps this test knows or suspects were used
        self.interrupted = False       # a login was cut off: its step may be used


class DaemonKillTest(FaultTestCase):

    config = {"twilio": {"timeout": 20}, "sms": {"texts_per_minute": 100000}}

    def setUp(self):
        super().setUp()
        self.lock = threading.Lock()
        self.users = [KillUser(i) for i in range(USERS)]
        self.queue = [("enroll", u) for u in self.users]
        self.done = 0
        self.started_ops = 0
        self.in_flight = 0
        self.accepted = []             # (user, step, code) of logins that got PAM_SUCCESS
        self.replayed = set()          # indexes into accepted already replayed
        self.outcomes = {}
        self.durations = []
        self.problems = []
        self.meaningful_replays = 0
        self.kills = []
        self.running = threading.Event()
        self.running.set()

    # ---- operations ---------------------------------------------------------------------------

    def note(self, outcome, seconds):
        with self.lock:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
            self.durations.append(seconds)
            if seconds > PROMPT_BOUND:
                self.problems.append(f"{outcome} took {seconds:.1f} s")

    def enroll(self, user):
        user.secret = user.secret or self.new_secret_quietly()
        args = ["enable", user.name, "--secret", user.secret, "--code", totp(user.secret)]
        args += ["--phone", user.phone] if user.texted else ["--delivery", "None"]
        started = time.monotonic()
        rc, out, err = self.h.ctl(*args, timeout=MODULE_TIMEOUT + 10)
        self.note(f"enroll rc={rc}", time.monotonic() - started)
        if rc == 0:
            with self.lock:
                user.enrolled = True
                user.enrolled_at = time.time()
                user.used_steps.add(step_now())
                self.queue.append(("login", user))
        elif rc == EXIT_UNREACHABLE:
            with self.lock:
                self.queue.append(("enroll", user))
        else:
            with self.lock:
                self.problems.append(f"enable {user.name} refused: {rc} {out!r} {err!r}")

    def new_secret_quietly(self):
        rc, reply, err = self.h.ctl_json("secret")
        if rc != 0:
            return "kill-test-secret-" + "".join(random.choice("abcdef0123456789")
                                                 for _ in range(24))
        return reply["secret"]

    def code_for(self, user):
        if user.texted:
            messages = [m for m in self.h.messages()
                        if m["form"].get("To") == user.phone and m["status"] == 201]
            return self.code_in(messages[-1]) if messages else "000000", None
        for offset in (0, 1, -1):
            step = step_now() + offset
            if step not in user.used_steps:
                return totp(user.secret, offset=offset), step
        return "000000", None

    def login(self, user, code=None):
        """One login, answered with `code` or the user's current one; returns (result, the
        app step answered or None, the code, seconds)."""
        login = self.login_process(user)
        step = None
        try:
            login.prompt(timeout=PROMPT_BOUND + 5)
        except AssertionError:
            pass  # no prompt: the login ended before it
        else:
            if code is None:
                code, step = self.code_for(user)
                if user.texted:
                    step = None  # the texted step is the daemon's choice
            login.answer(code)
        result = login.finish(timeout=MODULE_TIMEOUT + 10)
        seconds = time.monotonic() - login.started
        if result.name == "PAM_AUTHINFO_UNAVAIL":
            if result.lines("error")[-1:] != [UNREACHABLE_SENTENCE]:
                with self.lock:
                    self.problems.append(f"{user.name}: unexpected sentence {result!r}")
        return result, step, code, seconds

    def login_process(self, user):
        # The users are no system accounts: the driver answers the module's NSS lookup.
        started = Login(self.h.dir, user.name, self.h.socket_path,
                        f"timeout={MODULE_TIMEOUT} tries=1", fake_account=True)
        self.addCleanup(started.kill)
        return started

    def log_in(self, user):
        result, step, code, seconds = self.login(user)
        self.note(f"login {result.name}", seconds)
        with self.lock:
            if result.name == "PAM_SUCCESS":
                self.accepted.append((user, step, code))
                if step is not None:
                    user.used_steps.add(step)
            elif result.name == "PAM_AUTHINFO_UNAVAIL":
                # Cut off by a kill: the code may or may not have been used. Try again.
                user.interrupted = True
                if step is not None:
                    user.used_steps.add(step)
                self.queue.append(("login", user))
            elif result.name == "PAM_MAXTRIES" and user.interrupted:
                # The interrupted login used its step before the kill: legitimately refused.
                self.queue.append(("login", user))
            else:
                self.problems.append(f"login {user.name}: {result!r}")

    def worker(self):
        while True:
            self.running.wait(timeout=60)
            with self.lock:
                if self.started_ops >= MAX_OPERATIONS:
                    return
                if not self.queue:
                    if self.in_flight == 0 and len(self.kills) >= KILLS:
                        return  # every user enrolled and logged in, and every kill done
                    item = None
                else:
                    item = self.queue.pop(random.randrange(len(self.queue)))
                    self.started_ops += 1
                    self.in_flight += 1
            if item is None:
                time.sleep(0.05)
                continue
            kind, user = item
            try:
                self.enroll(user) if kind == "enroll" else self.log_in(user)
            except Exception as e:  # noqa: BLE001 - reported with the others below
                with self.lock:
                    self.problems.append(f"{kind} {user.name}: {type(e).__name__}: {e}")
            with self.lock:
                self.done += 1
                self.in_flight -= 1

    # ---- kills and checks ---------------------------------------------------------------------

    def kill_and_restart(self, thresholds):
        """In the main thread: the harness's processes die with the thread that started them."""
        for threshold in thresholds:
            deadline = time.monotonic() + 300
            while self.done < threshold and time.monotonic() < deadline:
                time.sleep(0.01)
            killed_at = time.time()
            self.h.stop_daemon(kill9=True)
            time.sleep(random.uniform(0.0, 0.3))
            self.h.start_daemon()
            with self.lock:
                self.kills.append((self.done, killed_at))
            # New work waits while the restart is checked, so the kills stay spread out.
            self.running.clear()
            self.check_enrollments(since=killed_at - 5)
            self.replay_new_codes()
            self.running.set()

    def check_enrollments(self, since=None):
        with self.lock:
            reported = [u for u in self.users
                        if u.enrolled and (since is None or u.enrolled_at >= since)]
        def check(user):
            rc, status, err = self.h.ctl_json("status", user.name)
            if rc != 0 or not status.get("enabled"):
                with self.lock:
                    self.problems.append(f"{user.name}: reported enrolled, after a restart "
                                         f"rc={rc} {status} {err}")

        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(check, reported))
        return len(reported)

    def replay_new_codes(self):
        with self.lock:
            fresh = [(i, entry) for i, entry in enumerate(self.accepted)
                     if i not in self.replayed]
            self.replayed.update(i for i, _ in fresh)
        def replay(entry):
            user, _, code = entry
            # Inside the ±1 window of now only the persisted used step can refuse the code.
            meaningful = any(totp(user.secret, offset=o) == code for o in (-1, 0, 1))
            result, _, _, seconds = self.login(user, code=code)
            with self.lock:
                self.durations.append(seconds)
                if meaningful:
                    self.meaningful_replays += 1
                if result.name != "PAM_MAXTRIES":
                    self.problems.append(f"replay of {user.name}'s accepted code: {result!r}")

        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(replay, [entry for _, entry in fresh]))

    def test_kill_9_during_enrollments_and_logins(self):
        self.h.behave(delay_ms=100)  # a text in flight is a window for a kill
        spacing = 2 * USERS // (KILLS + 1)
        thresholds = [spacing * (k + 1) + random.randint(-spacing // 3, spacing // 3)
                      for k in range(KILLS)]
        workers = [threading.Thread(target=self.worker, daemon=True) for _ in range(WORKERS)]
        started = time.monotonic()
        for thread in workers:
            thread.start()
        self.kill_and_restart(thresholds)
        for thread in workers:
            thread.join(timeout=600)
            self.assertFalse(thread.is_alive(), "a worker did not finish in 600 s")
        run_seconds = time.monotonic() - started
        self.assertIsNone(self.h.daemon.poll(), "twofactord died")

        checked = self.check_enrollments()
        self.replay_new_codes()
        durations = sorted(self.durations)
        summary = (f"{self.done} operations in {run_seconds:.1f} s, kills after operations "
                   f"{[k[0] for k in self.kills]}; outcomes {dict(sorted(self.outcomes.items()))}; "
                   f"{checked} enrollments checked; {len(self.accepted)} accepted codes replayed "
                   f"({self.meaningful_replays} inside their ±1 window); slowest client "
                   f"{durations[-1]:.2f} s, p99 {durations[int(len(durations) * 0.99)]:.2f} s")
        print("\n" + summary)
        self.assertEqual(self.problems, [], summary)
        self.assertEqual(len(self.kills), KILLS)
        self.assertGreaterEqual(self.done, 2 * USERS)
        self.assertLess(durations[-1], PROMPT_BOUND, summary)
        # The kills landed in the middle of work, and clients saw them.
        self.assertGreater(self.outcomes.get("login PAM_AUTHINFO_UNAVAIL", 0) +
                           self.outcomes.get(f"enroll rc={EXIT_UNREACHABLE}", 0), 0, summary)
        self.assertGreaterEqual(checked, USERS * 9 // 10, summary)
        self.assertGreaterEqual(len(self.accepted), USERS * 3 // 4, summary)
        self.assertGreaterEqual(self.meaningful_replays, USERS // 5, summary)


if __name__ == "__main__":
    main()
