# SPDX-License-Identifier: BSD-2-Clause
"""Bad input over the real socket: a corpus of malformed requests (oversize, truncated, no NUL,
invalid JSON and UTF-8, wrong types for every field, huge numbers, NUL inside strings, 10,000-
character names, unknown methods and fields, deep nesting...). Each gets the expected error reply
or a closed connection; after each the daemon is up, serves a good request, sent no text, and
its database is unchanged."""

import json
import socket

from security_support import (LIBERAL_LIMITS, SecurityTestCase, connect_as, database_dump,
                              error_of, frame, main, read_message, require_root)

MAX_MESSAGE = 64 * 1024  # bytes, NUL included (doc/protocol.md)
GHOST = "tf_no_such_user"  # no account, no enrollment: nothing a request could change
CLOSE = "closed"  # the expected outcome: the daemon closes without replying
LONG = "x" * 10_000


def call(method, parameters=None, **top):
    body = {"method": "io.twofactor." + method, **top}
    if parameters is not None:
        body["parameters"] = parameters
    return frame(body)


def padded_status_call(total):
    """A Status call whose frame, NUL included, is exactly `total` bytes."""
    empty = len(call("Status", {"user": ""}))
    return call("Status", {"user": "u" * (total - empty)})


# Valid parameters for a ghost user: only the field under test is ever wrong.
VALID = {
    "Status": {"user": GHOST},
    "Disable": {"user": GHOST},
    "Unlock": {"user": GHOST},
    "Begin": {"user": GHOST, "ipAddress": "192.0.2.1", "service": "sshd", "tty": "pts/1"},
    "Complete": {"twoFactorId": "no-such-challenge", "code": "123456", "ipAddress": "192.0.2.1"},
    "Enable": {"user": GHOST, "secret": "A" * 32, "code": "123456", "delivery": "TextMessage",
               "mobilePhone": "+15555550199"},
    "SendCode": {"mobilePhone": "+15555550199", "secret": "A" * 32},
    "SendCode resend": {"twoFactorId": "no-such-challenge"},
}
WRONG_TYPES = {"number": 42, "true": True, "float": 1.5, "array": ["x"], "object": {"x": "y"},
               "huge integer": 10 ** 30, "negative": -1}


def with_field(method, field, value):
    parameters = dict(VALID[method])
    parameters[field] = value
    return call(method.split(" ")[0], parameters)


def corpus():
    """(name, bytes to send, expected: CLOSE, an error name, or ("field", error, field))."""
    cases = []

    def add(name, data, expected):
        cases.append((name, data, expected))

    # Framing.
    add("oversize, no NUL", b"{" + b" " * (MAX_MESSAGE + 4096), CLOSE)
    add("oversize string, then NUL", call("Status", {"user": "u" * (MAX_MESSAGE + 10)}), CLOSE)
    add("one byte over the limit", padded_status_call(MAX_MESSAGE + 1), CLOSE)
    add("exactly the limit", padded_status_call(MAX_MESSAGE), ("field", "InvalidParameter", "user"))
    add("NUL only", b"\0", CLOSE)
    add("whitespace only", b" \n\t \0", CLOSE)
    add("NUL inside the JSON text", b'{"method":"io.twofac\0tor.Status"}\0', CLOSE)
    # Not JSON, or not one object.
    for name, text in {
        "bare word": b"hello", "unquoted keys": b"{method: Status}",
        "single quotes": b"{'method': 'io.twofactor.Status'}",
        "trailing comma": b'{"method": "io.twofactor.Status",}',
        "comment": b'{"method": "io.twofactor.Status" /* hi */}',
        "two objects": b'{"method":"io.twofactor.Status"}{"method":"io.twofactor.Status"}',
        "unterminated string": b'{"method": "io.twofactor.Status}',
        "raw control character": b'{"method": "io.twofactor.\x01Status"}',
        "NaN": b'{"method": "io.twofactor.Status", "parameters": {"user": NaN}}',
        "number overflow": b'{"method": "io.twofactor.Complete", "parameters": {"code": 1e400}}',
        "negative overflow": b'{"method": "io.twofactor.Status", "parameters": {"user": -1e999}}',
        "top-level array": b'[{"method": "io.twofactor.Status"}]',
        "top-level string": b'"io.twofactor.Status"', "top-level number": b"42",
        "top-level null": b"null", "deep top-level array": b"[" * 30_000 + b"]" * 30_000,
    }.items():
        add(name, text + b"\0", CLOSE)
    # Invalid UTF-8 and invalid escapes, in values and in keys.
    for name, raw in {"byte 0xff": b"\xff", "overlong slash": b"\xc0\xaf",
                      "cut multibyte": b"\xe2\x82", "UTF-8 surrogate": b"\xed\xa0\x80",
                      "beyond U+10FFFF": b"\xf4\x90\x80\x80", "lone high escape": b"\\ud800",
                      "lone low escape": b"\\udc00", "bad escape": b"\\x41"}.items():
        add(f"{name} in a value",
            b'{"method":"io.twofactor.Status","parameters":{"user":"a' + raw + b'"}}\0', CLOSE)
    add("invalid UTF-8 in a key", b'{"meth\xffod":"io.twofactor.Status"}\0', CLOSE)
    add("invalid UTF-8 in the method", b'{"method":"io.twofactor.Sta\xfftus"}\0', CLOSE)
    # Calls of the wrong shape.
    for name, body in {"no method": {"parameters": {}}, "method a number": {"method": 7},
                       "method null": {"method": None}, "method an object": {"method": {}},
                       "method an array": {"method": ["io.twofactor.Status"]},
                       "parameters an array": {"method": "io.twofactor.Status", "parameters": []},
                       "parameters a string": {"method": "io.twofactor.Status",
                                               "parameters": "user=root"},
                       "parameters null": {"method": "io.twofactor.Status", "parameters": None},
                       "parameters a number": {"method": "io.twofactor.Status", "parameters": 1},
                       "empty object": {}}.items():
        add(name, frame(body), ("field", "InvalidParameter", "method"))
    add("unknown top-level field", call("Status", {"user": GHOST}, oneway=True),
        ("field", "InvalidParameter", "oneway"))
    add("Varlink upgrade", call("Status", {"user": GHOST}, upgrade=True),
        ("field", "InvalidParameter", "upgrade"))
    # Unknown methods.
    for name, method in {"unknown method": "io.twofactor.Nope", "no interface": "Status",
                         "other interface": "org.varlink.service.GetInfo",
                         "case differs": "io.twofactor.status", "empty method": "",
                         "10,000-character method": "io.twofactor." + LONG,
                         "NUL in the method": "io.twofactor.Status\u0000",
                         "method with spaces": " io.twofactor.Status "}.items():
        add(name, frame({"method": method, "parameters": {"user": GHOST}}), "MethodNotFound")
    # Unknown fields, for every method.
    for method in VALID:
        add(f"{method}: unknown field", with_field(method, "bogus", "x"),
            ("field", "InvalidParameter", "bogus"))
    add("GenerateSecret: unknown field", call("GenerateSecret", {"length": 100}),
        ("field", "InvalidParameter", "length"))
    add("SendCode: resend and setup fields together",
        call("SendCode", {"twoFactorId": "no-such-challenge", "mobilePhone": "+15555550199"}),
        ("field", "InvalidParameter", "mobilePhone"))
    add("3,000 unknown fields",
        call("Status", {"user": GHOST, **{f"k{i}": i for i in range(3000)}}), "InvalidParameter")
    # Wrong types for every field of every method.
    for method, parameters in VALID.items():
        for field in parameters:
            for type_name, value in WRONG_TYPES.items():
                add(f"{method}: {field} as {type_name}", with_field(method, field, value),
                    ("field", "InvalidParameter", field))
            add(f"{method}: {field} with a NUL inside", with_field(method, field, "ab\u0000cd"),
                ("field", "InvalidParameter", field))
            add(f"{method}: {field} of 10,000 characters", with_field(method, field, LONG),
                ("field", "InvalidParameter", field))
            add(f"{method}: {field} nested 3 deep", with_field(method, field, [[["x"]]]),
                ("field", "InvalidParameter", field))
            # Far deeper than any call: not the protocol (and a stack overflow to copy).
            add(f"{method}: {field} nested 20,000 deep",
                with_field(method, field, None).replace(b"null", b"[" * 20_000 + b"]" * 20_000),
                CLOSE)
    # Required fields missing, empty or null.
    for method, parameters in VALID.items():
        for field in ("user", "twoFactorId", "code", "secret"):
            if field in parameters:
                for shown, value in (("empty", ""), ("null", None)):
                    add(f"{method}: {field} {shown}", with_field(method, field, value),
                        ("field", "InvalidParameter", field))
    # Values of the right type that are not valid.
    for name, (method, field, value) in {
        "user with a slash": ("Status", "user", "../../etc/passwd"),
        "user with a newline": ("Status", "user", "root\nadmin"),
        "user with a colon": ("Disable", "user", "a:b"),
        "user with a space": ("Unlock", "user", "a b"),
        "delivery unknown": ("Enable", "delivery", "Email"),
        "delivery lower case": ("Enable", "delivery", "textmessage"),
        "phone with letters": ("SendCode", "mobilePhone", "+1555CALLNOW"),
        "phone too short": ("SendCode", "mobilePhone", "+1"),
        "phone too long": ("SendCode", "mobilePhone", "+1" + "5" * 40),
        "secret too short": ("SendCode", "secret", "short"),
        "secret with a space": ("Enable", "secret", "A" * 16 + " " + "A" * 16),
        "secret not ASCII": ("Enable", "secret", "é" * 20),
    }.items():
        add(name, with_field(method, field, value), ("field", "InvalidParameter", field))
    return cases


@require_root
class MalformedRequestTest(SecurityTestCase):
    config = LIBERAL_LIMITS

    def send_case(self, data):
        """Sends `data` on a new root connection; returns the reply dict or None (closed)."""
        with connect_as(self.h.socket_path) as s:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                return None
            reply = read_message(s)
            if reply is not None:
                # The connection survives an error reply: a good call on it is still served.
                s.sendall(call("GenerateSecret"))
                good = read_message(s)
                self.assertIsNotNone(good, "the connection closed after an error reply")
                self.assertIsNone(error_of(good), good)
            return reply

    def assertOutcome(self, name, reply, expected):
        if expected == CLOSE:
            self.assertIsNone(reply, f"{name}: expected the connection closed, got {reply}")
            return
        self.assertIsNotNone(reply, f"{name}: the daemon closed instead of replying")
        error = expected[1] if isinstance(expected, tuple) else expected
        self.assertEqual(error_of(reply), error, f"{name}: {str(reply)[:500]}")
        self.assertTrue(reply["parameters"].get("message"), reply)
        if isinstance(expected, tuple):
            self.assertEqual(reply["parameters"].get("field"), expected[2], f"{name}: {reply}")
        self.assertLess(len(json.dumps(reply)), 2000, f"{name}: the reply echoes the input")

    def test_every_malformed_request_is_refused_and_changes_nothing(self):
        user = self.h.create_user()
        self.enable_texted_quietly(user)  # something in the database that could be damaged
        dump = database_dump(self.h.database_path)
        texts = len(self.texts())
        cases = corpus()
        closed = replied = 0
        for name, data, expected in cases:
            with self.subTest(case=name):
                reply = self.send_case(data)
                self.assertOutcome(name, reply, expected)
                closed, replied = (closed + 1, replied) if reply is None else (closed, replied + 1)
                self.assertServes()
                self.assertEqual(database_dump(self.h.database_path), dump,
                                 f"{name}: the database changed")
        self.assertEqual(len(self.texts()), texts, "a malformed request sent a text")
        self.assertIs(self.status(user)["enabled"], True)
        print(f"\nbad input: {len(cases)} malformed requests, {closed} closed, {replied} "
              f"answered with an error; the daemon served after each, database unchanged")
        self.assertGreaterEqual(len(cases), 50)

    def test_a_request_without_its_nul_then_close(self):
        for data in (call("Status", {"user": GHOST})[:-1], call("Status", {"user": GHOST})[:20]):
            with connect_as(self.h.socket_path) as s:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
                self.assertIsNone(read_message(s), "a reply to an unterminated request")
            self.assertServes()

    def test_a_good_call_then_garbage_on_one_connection(self):
        with connect_as(self.h.socket_path) as s:
            s.sendall(call("GenerateSecret") + b"garbage\0" + call("GenerateSecret"))
            first = read_message(s)
            self.assertIsNone(error_of(first), first)
            self.assertIsNone(read_message(s), "served a call after garbage on the connection")
        self.assertServes()

    def test_a_thousand_bad_calls_in_one_write(self):
        with connect_as(self.h.socket_path) as s:
            s.sendall(frame({"method": 1}) * 1000)
            for i in range(1000):
                reply = read_message(s)
                self.assertEqual(error_of(reply), "InvalidParameter", (i, reply))
        self.assertServes()


if __name__ == "__main__":
    main()
