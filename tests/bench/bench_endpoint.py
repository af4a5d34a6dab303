#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The Twilio-compatible endpoint for benchmarks: the Messages API of tests/endpoint/fake_twilio.py
(the same answers, built by the same functions, and the same records), served from one asyncio
thread, plus --codes-dir DIR: each accepted text's code is written to a file named after its
number (DIR/+15550000001) before the 201 answer goes out, so the benchmark's PAM conversation
reads its code from there instead of asking the endpoint.

    bench_endpoint.py --codes-dir DIR --port 0 --account-sid SID --auth-token TOKEN
                      [--port-file F] [--delay-ms N] [--verbose]

Why not fake_twilio.py itself: its thread per connection is cheap enough for tests but not for
a benchmark on two cores. When 64 logins start in the same millisecond, each of the daemon's 64
new connections costs a thread start and a parse in Python's HTTP server, under one GIL: the
last text reached the handler about 40 ms after it was sent. Here a text costs one parse on an
event loop and a timer for the delay.

The control API keeps what the benchmark uses: GET /_control/messages, POST /_control/reset,
GET /_control/last_code, and POST /_control/behaviour with `delay_ms` only (the misbehaviours
are fake_twilio.py's business; anything else is refused with 400)."""

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import urllib.parse

_ENDPOINT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "endpoint")
sys.path.insert(0, _ENDPOINT_DIR)

import fake_twilio  # noqa: E402  (the path above first)

MAX_HEADER_BYTES = 64 * 1024
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized",
           404: "Not Found", 413: "Payload Too Large"}


class Endpoint:
    """What every connection shares: the fake's State, the codes directory, the options."""

    def __init__(self, state, codes_dir, verbose):
        self.state = state
        self.codes_dir = codes_dir
        self.verbose = verbose

    def write_code(self, number, body):
        found = fake_twilio.SIX_DIGITS.findall(body)
        if not found or not fake_twilio.E164.match(number):
            return
        # Written whole, then renamed: a reader never sees half a code.
        temporary = os.path.join(self.codes_dir, f".{number}.{os.getpid()}")
        with open(temporary, "w", encoding="ascii") as f:
            f.write(found[-1] + "\n")
        os.replace(temporary, os.path.join(self.codes_dir, number))


class Connection(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection; requests are answered in the order they came."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.transport = None
        self.buffer = bytearray()
        self.busy = False  # a request is being answered (its delay is running)

    def connection_made(self, transport):
        # asyncio turns TCP_NODELAY on for its TCP transports: no 40 ms delayed-ACK stall.
        self.transport = transport

    def connection_lost(self, exc):
        self.transport = None

    def data_received(self, data):
        self.buffer += data
        if len(self.buffer) > MAX_HEADER_BYTES + fake_twilio.MAX_REQUEST_BYTES:
            self.transport.close()
            return
        self.next_request()

    def next_request(self):
        while not self.busy and self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEADER_BYTES:
                    self.transport.close()
                return
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            parts = head[0].split(" ")
            if len(parts) != 3:
                self.transport.close()
                return
            method, target, _ = parts
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                length = -1
            if not 0 <= length <= fake_twilio.MAX_REQUEST_BYTES:
                self.answer_json(413, fake_twilio.twilio_error(413, 21617,
                                                               "The request is too large"))
                self.transport.close()
                return
            if len(self.buffer) < end + 4 + length:
                if headers.get("expect", "").lower() == "100-continue" and length:
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return
            body = bytes(self.buffer[end + 4:end + 4 + length])
            del self.buffer[:end + 4 + length]
            if self.endpoint.verbose:
                sys.stderr.write(f"bench_endpoint: {method} {target}\n")
            self.route(method, urllib.parse.urlsplit(target).path, headers, body)

    def route(self, method, path, headers, body):
        state = self.endpoint.state
        if method == "POST" and fake_twilio.MESSAGES_PATH.match(path):
            self.messages(path, headers, body)
        elif method == "GET" and path == "/_control/messages":
            self.answer_json(200, state.snapshot())
        elif method == "GET" and path == "/_control/last_code":
            self.answer_json(*state.last_code_answer())
        elif method == "POST" and path == "/_control/reset":
            state.reset()
            self.answer_json(200, {"reset": True})
        elif method == "POST" and path == "/_control/behaviour":
            self.behaviour(body)
        else:
            self.answer_json(404, fake_twilio.twilio_error(
                404, 20404, "The requested resource was not found"))

    def behaviour(self, body):
        behaviour, error = fake_twilio.read_behaviour(body)
        if not error and set(behaviour) - {"delay_ms"}:
            error = "the bench endpoint takes delay_ms only; misbehaviours are fake_twilio.py's"
        if error:
            self.answer_json(400, {"error": error})
            return
        self.endpoint.state.set_behaviour(behaviour)
        self.answer_json(200, {"behaviour": behaviour})

    def messages(self, path, headers, body):
        state = self.endpoint.state
        fields, form = fake_twilio.parse_form(body)
        auth_ok = fake_twilio.basic_auth_ok(headers.get("authorization", ""), state.account_sid,
                                            state.auth_token)
        entry = {"time": time.time(), "method": "POST", "path": path, "auth_ok": auth_ok,
                 "form": form, "status": None, "closed": False}
        state.record(entry)
        behaviour = state.take_behaviour() or {}
        delay_ms = behaviour.get("delay_ms", state.default_delay_ms)

        def answer():
            if fields is None:
                status, document, extra = 400, fake_twilio.twilio_error(
                    400, 21609, "The form body is not valid"), []
            else:
                status, document, extra = fake_twilio.message_answer(state.account_sid, path,
                                                                     form, auth_ok)
            if status == 201:
                self.endpoint.write_code(form.get("To", ""), form.get("Body", ""))
            entry["status"] = status
            entry["answered"] = time.time()
            self.answer_json(status, document, extra)
            self.busy = False
            self.next_request()

        self.busy = True
        if delay_ms:
            asyncio.get_running_loop().call_later(delay_ms / 1000.0, answer)
        else:
            answer()

    def answer_json(self, status, document, headers=()):
        if self.transport is None:
            return  # the client went away while we waited
        data = (json.dumps(document, indent=2) + "\n").encode()
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}",
                 "Server: bench-endpoint", f"Date: {fake_twilio.rfc2822_now()}",
                 "Content-Type: application/json", f"Content-Length: {len(data)}",
                 *(f"{name}: {value}" for name, value in headers)]
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)


async def serve(args, endpoint):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(endpoint), "127.0.0.1", args.port,
                                      backlog=1024, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        fake_twilio.write_port_file(args.port_file, port)
    print(f"listening on {port}", flush=True)
    stop = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: stop.done() or stop.set_result(None))
    await stop
    server.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes-dir", required=True)
    fake_twilio.add_endpoint_arguments(parser)
    args = fake_twilio.parse_endpoint_arguments(parser, argv)
    if not os.path.isdir(args.codes_dir):
        parser.error(f"--codes-dir {args.codes_dir} is not a directory")
    state = fake_twilio.State(args.account_sid, args.auth_token, args.delay_ms)
    asyncio.run(serve(args, Endpoint(state, os.path.abspath(args.codes_dir), args.verbose)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
