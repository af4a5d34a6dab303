# SPDX-License-Identifier: BSD-2-Clause
"""What programs send to syslog while an end-to-end test runs, so a test can read the lines the
installed pam_twofactor.so logs from inside sshd and sudo (pam_syslog), which is where the PAM
code of a refusal shows when the program does not show the user's sentence.

This machine has no syslog daemon: when /dev/log does not exist, the capture binds it for the
duration of the test (mode 0666, as a syslog daemon does) and removes it afterwards. When
/dev/log exists it belongs to someone else and is left alone; `available` is then False.
"""

import contextlib
import os
import re
import select
import socket
import threading
import time

DEV_LOG = "/dev/log"
# <PRI>Mmm dd hh:mm:ss ident[pid]: text  (the timestamp and ident are optional)
SYSLOG_LINE = re.compile(r"^<\d{1,3}>(?:\w{3} [ \d]\d \d\d:\d\d:\d\d )?(?P<text>.*)$", re.S)


class SyslogCapture:

    def __init__(self, path=DEV_LOG):
        self.path = path
        self.available = False
        self._socket = None
        self._thread = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._lines = []
        self._inode = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        if os.path.lexists(self.path):
            return
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._socket.bind(self.path)
        except OSError:  # someone else bound it just now: theirs
            self._socket.close()
            self._socket = None
            return
        self._inode = os.lstat(self.path).st_ino
        os.chmod(self.path, 0o666)
        self.available = True
        self._thread = threading.Thread(target=self._read, name="syslog-capture", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        # Only the socket this capture bound goes.
        with contextlib.suppress(OSError):
            if self._inode is not None and os.lstat(self.path).st_ino == self._inode:
                os.unlink(self.path)
        self._inode = None

    def _read(self):
        while not self._stop.is_set():
            ready, _, _ = select.select([self._socket], [], [], 0.2)
            if not ready:
                continue
            try:
                datagram = self._socket.recv(65536)
            except OSError:
                return
            text = datagram.decode(errors="replace").rstrip("\n\0")
            match = SYSLOG_LINE.match(text)
            with self._lock:
                self._lines.append(match.group("text") if match else text)

    def mark(self):
        """A position: lines() from here on."""
        with self._lock:
            return len(self._lines)

    def lines(self, since=0):
        with self._lock:
            return list(self._lines[since:])

    def wait_for(self, pattern, since=0, timeout=5.0):
        """The first line from `since` on that matches `pattern`, or None after `timeout` s."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines(since):
                if regex.search(line):
                    return line
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)
