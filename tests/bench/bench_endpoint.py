#!/usr/bin/python3
"""The fake Twilio endpoint (tests/endpoint/fake_twilio.py) for benchmarks: the same program and
options, plus --codes-dir DIR, where each accepted text's code is written to a file named after
its number (DIR/+15550000001) before the 201 answer goes out. The benchmark's PAM conversation
reads its user's code from there, so looking codes up costs the endpoint nothing.

    bench_endpoint.py --codes-dir DIR [fake_twilio.py's options]

Two changes make it keep up with the benchmarks: TCP_NODELAY on its connections (otherwise every
answer waits up to 40 ms for a delayed ACK, see CodesHandler), and a deeper listen queue (1024
instead of 128): a burst of hundreds of simultaneous texts otherwise overflows it, and each
dropped connection waits out TCP's 1 s SYN retransmission."""

import argparse
import os
import sys
import time

_ENDPOINT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "endpoint")
sys.path.insert(0, _ENDPOINT_DIR)

import fake_twilio  # noqa: E402  (the path above first)


class CodesHandler(fake_twilio.Handler):
    # The handler writes the headers and the body of an answer in two sends; with Nagle's
    # algorithm on, the body waits for the ACK of the headers, which curl delays by up to 40 ms.
    disable_nagle_algorithm = True

    def create_message(self, path, form, auth_ok):
        codes_dir = self.server.codes_dir
        number = form.get("To", "")
        found = fake_twilio.SIX_DIGITS.findall(form.get("Body", ""))
        if auth_ok and found and fake_twilio.E164.match(number):
            temporary = os.path.join(codes_dir, f".{number}.{os.getpid()}.{id(self)}")
            with open(temporary, "w", encoding="ascii") as f:
                f.write(found[-1] + "\n")
            os.replace(temporary, os.path.join(codes_dir, number))
        status = super().create_message(path, form, auth_ok)
        if self.record is not None:
            # When the answer was written: with the arrival time, where a text's time went.
            self.record["answered"] = time.time()
        return status


class BenchServer(fake_twilio.Server):
    request_queue_size = 1024


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--codes-dir", required=True)
    ours, rest = parser.parse_known_args(argv)
    if not os.path.isdir(ours.codes_dir):
        parser.error(f"--codes-dir {ours.codes_dir} is not a directory")
    codes_dir = os.path.abspath(ours.codes_dir)

    # fake_twilio.main() builds its server from these names; point them at the bench classes.
    class Server(BenchServer):
        def __init__(self, address, handler):
            super().__init__(address, CodesHandler)
            self.codes_dir = codes_dir

    fake_twilio.Server = Server
    return fake_twilio.main(rest)


if __name__ == "__main__":
    sys.exit(main())
