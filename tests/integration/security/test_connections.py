# SPDX-License-Identifier: BSD-2-Clause
"""Connections as a resource: idle connections time out, a client sending a byte a second is cut
off at the idle timeout, a client that never reads its replies cannot make the daemon buffer
without bound, and the number of connections is bounded per uid and in total; others are still
served while one uid holds its maximum."""

import socket
import time

from security_support import (LIBERAL_LIMITS, SecurityTestCase, call_as, closed_by_peer,
                              connect_as, error_of, frame, ids_of, main, merged, read_message,
                              require_root, rss_kib)

IDLE_TIMEOUT = 2  # seconds, [daemon] idle_timeout in these tests
SLACK = 2.0  # seconds the event loop may take beyond a timeout


def status_call(user):
    return frame({"method": "io.twofactor.Status", "parameters": {"user": user}})


@require_root
class IdleTimeoutTest(SecurityTestCase):
    config = merged(LIBERAL_LIMITS, {"daemon": {"idle_timeout": IDLE_TIMEOUT,
                                                "max_connections_per_uid": 8}})

    def test_many_idle_connections_time_out(self):
        users = [self.h.create_user() for _ in range(2)]
        connections = [connect_as(self.h.socket_path) for _ in range(8)]
        for user in users:
            connections += [connect_as(self.h.socket_path, *ids_of(user)) for _ in range(8)]
        opened = time.monotonic()
        try:
            for s in connections:
                self.assertTrue(closed_by_peer(s, IDLE_TIMEOUT + SLACK + 2),
                                "an idle connection stayed open")
            took = time.monotonic() - opened
            self.assertGreaterEqual(took, IDLE_TIMEOUT - 0.5, "closed before the idle timeout")
            self.assertLessEqual(took, IDLE_TIMEOUT + SLACK)
        finally:
            for s in connections:
                s.close()
        print(f"\nidle: {len(connections)} idle connections closed after {took:.1f} s "
              f"(idle_timeout {IDLE_TIMEOUT} s)")
        self.assertServes()

    def test_a_connection_stays_open_while_it_makes_calls(self):
        # The timeout is for idleness, not for a connection's age.
        with connect_as(self.h.socket_path) as s:
            started = time.monotonic()
            while time.monotonic() - started < IDLE_TIMEOUT * 2.5:
                s.sendall(frame({"method": "io.twofactor.GenerateSecret"}))
                self.assertIsNone(error_of(read_message(s)))
                time.sleep(IDLE_TIMEOUT / 2)

    def test_a_byte_a_second_is_cut_off_at_the_idle_timeout(self):
        data = status_call("root")
        self.assertGreater(len(data), (IDLE_TIMEOUT + SLACK) * 4)
        with connect_as(self.h.socket_path) as s:
            started = time.monotonic()
            sent = 0
            cut = False
            for byte in data:
                try:
                    s.sendall(bytes([byte]))
                except (BrokenPipeError, ConnectionResetError):
                    cut = True
                    break
                sent += 1
                if closed_by_peer(s, 1.0):  # also paces the sending: a byte a second
                    cut = True
                    break
            took = time.monotonic() - started
        self.assertTrue(cut, f"all {len(data)} bytes were read one a second without a cut")
        self.assertLessEqual(took, IDLE_TIMEOUT + SLACK, f"cut only after {took:.1f} s")
        print(f"\nslow client: cut off after {sent} bytes and {took:.1f} s")
        self.assertServes()

    def test_a_client_that_never_reads_its_replies(self):
        # Calls pipelined without reading a reply: the daemon must stop reading once its
        # replies back up, not buffer them all, and drop the connection at the idle timeout.
        rss_before = rss_kib(self.h.daemon)
        request = frame({"method": "io.twofactor.GenerateSecret"})
        batch = request * 1000
        sent = 0
        with connect_as(self.h.socket_path) as s:
            s.setblocking(False)
            deadline = time.monotonic() + 10
            stalled_since = None
            pending = batch
            while time.monotonic() < deadline and sent < 64 * 1024 * 1024:
                try:
                    n = s.send(pending)
                    sent += n
                    pending = pending[n:] or batch  # whole frames only, or the daemon
                    stalled_since = None  # rightly closes for a malformed message
                except BlockingIOError:
                    stalled_since = stalled_since or time.monotonic()
                    if time.monotonic() - stalled_since > 1.0:
                        break
                    time.sleep(0.01)
                except (BrokenPipeError, ConnectionResetError):
                    break
            rss_after = rss_kib(self.h.daemon)
            s.setblocking(True)
            self.assertTrue(closed_by_peer(s, IDLE_TIMEOUT + SLACK + 10))
        growth = rss_after - rss_before
        print(f"\nnon-reading client: {sent // len(request)} calls accepted "
              f"({sent // 1024} KiB), daemon memory grew {growth} KiB")
        self.assertLess(sent, 8 * 1024 * 1024, "the daemon kept reading calls it could not "
                                               "answer")
        self.assertLess(growth, 16 * 1024, "the daemon buffered replies without bound")
        self.assertServes()


@require_root
class ConnectionLimitTest(SecurityTestCase):
    config = merged(LIBERAL_LIMITS, {"daemon": {"max_connections": 6,
                                                "max_connections_per_uid": 3}})

    def assertRefused(self, s):
        """The daemon closes the connection at once and answers nothing on it."""
        try:
            s.sendall(status_call("root"))
        except (BrokenPipeError, ConnectionResetError):
            return
        self.assertIsNone(read_message(s, timeout=5), "a connection over the limit was served")

    def assertServed(self, s, user):
        s.sendall(status_call(user))
        reply = read_message(s)
        self.assertIsNotNone(reply, "a connection within the limits was closed")
        self.assertIsNone(error_of(reply), reply)

    def test_connections_are_bounded_per_uid_and_in_total(self):
        alice, bob, carol = (self.h.create_user() for _ in range(3))
        held = []
        try:
            held += [connect_as(self.h.socket_path, *ids_of(alice)) for _ in range(3)]
            for s in held:
                self.assertServed(s, alice)  # served, and still open
            with connect_as(self.h.socket_path, *ids_of(alice)) as fourth:
                self.assertRefused(fourth)
            # alice at her bound does not keep root or bob out.
            self.assertIsNone(error_of(call_as(self.h.socket_path, 0, 0, "Status",
                                               {"user": "root"})))
            held += [connect_as(self.h.socket_path, *ids_of(bob)) for _ in range(3)]
            for s in held[3:]:
                self.assertServed(s, bob)
            # Six users' connections open: the users' total bound refuses carol, but root, which
            # runs the logins, has a bound of its own and is still served.
            with connect_as(self.h.socket_path, *ids_of(carol)) as s:
                self.assertRefused(s)
            self.assertIsNone(error_of(call_as(self.h.socket_path, 0, 0, "Status",
                                               {"user": "root"})))
            # Root's own bound: six root connections, the seventh refused.
            roots = [connect_as(self.h.socket_path, 0, 0) for _ in range(6)]
            try:
                for s in roots:
                    self.assertServed(s, "root")
                with connect_as(self.h.socket_path, 0, 0) as s:
                    self.assertRefused(s)
            finally:
                for s in roots:
                    s.close()
            # One closed: there is room again.
            held.pop().close()
            time.sleep(0.3)
            with connect_as(self.h.socket_path, *ids_of(carol)) as s:
                self.assertServed(s, carol)
        finally:
            for s in held:
                s.close()
        self.assertServes()

    def test_a_flood_of_connections_from_one_uid(self):
        alice = self.h.create_user()
        uid, gid = ids_of(alice)
        flood = []
        try:
            for _ in range(200):
                try:
                    flood.append(connect_as(self.h.socket_path, uid, gid, timeout=5))
                except OSError:
                    break  # the listen backlog is full: that is the kernel's bound
            self.assertGreaterEqual(len(flood), 4)
            served = 0
            for s in flood:
                try:
                    s.sendall(status_call(alice))
                    served += read_message(s, timeout=5) is not None
                except (BrokenPipeError, ConnectionResetError, socket.timeout):
                    pass
            self.assertLessEqual(served, 3, "more connections served than the per-uid bound")
        finally:
            for s in flood:
                s.close()
        print(f"\nflood: {len(flood)} connections from one uid, {served} served")
        self.assertServes()


if __name__ == "__main__":
    main()
