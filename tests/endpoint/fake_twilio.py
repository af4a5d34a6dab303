#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A Twilio-compatible Messages endpoint for tests and demos, on 127.0.0.1 only.

It answers POST /2010-04-01/Accounts/{sid}/Messages.json the way Twilio does (201 with a message
resource, or Twilio's error JSON), Calls.json likewise (201 with a call resource), records every
request, and lets a test script misbehaviours
(429, 5xx, slow or dropped answers, raw bodies) through a control API on the same port.
See README.md next to this file.
"""

import argparse
import base64
import binascii
import hmac
import json
import os
import re
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
CALLS_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Calls\.json$")
VERIFY_PATH = re.compile(r"^/v2/Services/([^/]+)/(Verifications|VerificationCheck)$")
# Twilio Verify (https://www.twilio.com/docs/verify/api): a verification is pending for 10
# minutes; starting it again while pending sends the same code; 5 sends, then 60203 (429); 5
# checks, then 60202 (429); approved or expired, it is gone (a check answers 404, 20404).
VERIFY_LIFETIME = 600
VERIFY_MAX_SENDS = 5
VERIFY_MAX_CHECKS = 5
VERIFY_CHANNELS = ("sms", "call")
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
SIX_DIGITS = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")
MAX_REQUEST_BYTES = 1024 * 1024
MAX_BODY_CHARACTERS = 1600
# The GSM 03.38 basic character set: texts made only of these travel 7 bits a character.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Twilio's own error codes for these statuses (https://www.twilio.com/docs/api/errors). Other
# statuses (502, 504) come from Twilio's edge as a gateway's page, not as Twilio's JSON: there is
# no error 50200.
STATUS_DEFAULTS = {
    400: (21211, "The 'To' number is not a valid phone number."),
    401: (20003, "Authenticate"),
    404: (20404, "The requested resource was not found"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}
GATEWAY_PAGE = "<html><head><title>{0}</title></head><body><h1>{0}</h1></body></html>\n"
# ValidityPeriod: whole seconds from 1 to 36000 (Twilio's error 21624 otherwise).
VALIDITY_RANGE = (1, 36000)


def twilio_error(status, code, message):
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def rfc2822_now():
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())


def segments(body):
    """How many SMS segments Twilio would bill for this text."""
    if all(c in GSM_BASIC for c in body):
        single, multi = 160, 153
    else:
        single, multi = 70, 67
    if len(body) <= single:
        return 1
    return -(-len(body) // multi)


def basic_auth_user(header, credentials):
    """The user name of the pair in `credentials` ([(user, password)]) that an Authorization
    header carries as HTTP Basic, or None."""
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, password = decoded.partition(":")
    found = None
    for known_user, known_password in credentials:
        # Both compared, always, in constant time, as a real server would.
        user_ok = hmac.compare_digest(user.encode(), known_user.encode())
        password_ok = hmac.compare_digest(password.encode(), known_password.encode())
        if user_ok and password_ok:
            found = known_user
    return found


def basic_auth_ok(header, account_sid, auth_token):
    """Whether an Authorization header carries account_sid:auth_token as HTTP Basic."""
    return basic_auth_user(header, [(account_sid, auth_token)]) is not None


def parse_form(raw):
    """(the fields in order, or None if the body is not a form; the first value of each name)."""
    try:
        fields = urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        fields = None
    form = {}
    for name, value in fields or []:
        form.setdefault(name, value)
    return fields, form


def message_answer(account_sid, path, form, auth_ok):
    """Twilio's answer to a well-formed Messages request: (status, JSON document, headers)."""
    if not auth_ok:
        return 401, twilio_error(401, 20003, "Authenticate"), [
            ("WWW-Authenticate", 'Basic realm="Twilio API"')]
    sid = MESSAGES_PATH.match(path).group(1)
    if sid != account_sid:
        return 404, twilio_error(404, 20404, f"The requested resource {path} was not found"), []
    to = form.get("To", "")
    sender = form.get("From", "")
    service = form.get("MessagingServiceSid", "")
    body = form.get("Body", "")
    if not to:
        return 400, twilio_error(400, 21604, "A 'To' phone number is required."), []
    if not E164.match(to):
        return 400, twilio_error(400, 21211,
                                 f"The 'To' number {to} is not a valid phone number."), []
    if not sender and not service:
        return 400, twilio_error(400, 21603, "A 'From' phone number is required."), []
    if not body:
        return 400, twilio_error(400, 21602, "Message body is required."), []
    if len(body) > MAX_BODY_CHARACTERS:
        return 400, twilio_error(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."), []
    validity = form.get("ValidityPeriod")
    if validity is not None and not (
            validity.isdigit() and VALIDITY_RANGE[0] <= int(validity) <= VALIDITY_RANGE[1]):
        return 400, twilio_error(400, 21624, "Invalid validity period value"), []

    message_sid = "SM" + secrets.token_hex(16)
    now = rfc2822_now()
    uri = f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}"
    return 201, {
        "account_sid": sid,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": sender or None,
        "messaging_service_sid": service or None,
        "num_media": "0",
        "num_segments": str(segments(body)),
        "price": None,
        "price_unit": "USD",
        "sid": message_sid,
        "status": "queued" if sender else "accepted",
        "subresource_uris": {"media": uri + "/Media.json"},
        "to": to,
        "uri": uri + ".json",
    }, []


def spoken_text(twiml):
    """What a phone would hear from inline TwiML: the text of its <Say> verbs, one a line; None
    when it is not a <Response> document (Twilio accepts the call, then fails it with 12100)."""
    try:
        root = xml.etree.ElementTree.fromstring(twiml)
    except xml.etree.ElementTree.ParseError:
        return None
    if root.tag != "Response":
        return None
    return "\n".join((say.text or "") for say in root.iter("Say"))


def call_answer(account_sid, path, form, auth_ok):
    """Twilio's answer to a well-formed Calls request: (status, JSON document, headers). Codes
    from https://www.twilio.com/docs/api/errors: 21201 no To, 21211 a bad To, 21213 no From,
    21212 a bad From, 21205 no Url (nor Twiml nor ApplicationSid)."""
    if not auth_ok:
        return 401, twilio_error(401, 20003, "Authenticate"), [
            ("WWW-Authenticate", 'Basic realm="Twilio API"')]
    sid = CALLS_PATH.match(path).group(1)
    if sid != account_sid:
        return 404, twilio_error(404, 20404, f"The requested resource {path} was not found"), []
    to = form.get("To", "")
    sender = form.get("From", "")
    if not to:
        return 400, twilio_error(400, 21201, "No 'To' number is specified"), []
    if not E164.match(to):
        return 400, twilio_error(400, 21211,
                                 f"The 'To' number {to} is not a valid phone number."), []
    if not sender:
        return 400, twilio_error(400, 21213, "No 'From' number is specified"), []
    if not E164.match(sender):
        return 400, twilio_error(400, 21212,
                                 f"The 'From' number {sender} is not a valid phone number."), []
    if not any(form.get(name) for name in ("Url", "Twiml", "ApplicationSid")):
        return 400, twilio_error(400, 21205, "Url parameter is required."), []

    call_sid = "CA" + secrets.token_hex(16)
    now = rfc2822_now()
    uri = f"/2010-04-01/Accounts/{sid}/Calls/{call_sid}"
    return 201, {
        "account_sid": sid,
        "annotation": None,
        "answered_by": None,
        "api_version": "2010-04-01",
        "caller_name": None,
        "date_created": now,
        "date_updated": now,
        "direction": "outbound-api",
        "duration": None,
        "end_time": None,
        "forwarded_from": None,
        "from": sender,
        "from_formatted": sender,
        "group_sid": None,
        "parent_call_sid": None,
        "phone_number_sid": "PN" + secrets.token_hex(16),
        "price": None,
        "price_unit": "USD",
        "queue_time": "0",
        "sid": call_sid,
        "start_time": None,
        "status": "queued",
        "subresource_uris": {
            "notifications": uri + "/Notifications.json",
            "recordings": uri + "/Recordings.json",
            "events": uri + "/Events.json",
        },
        "to": to,
        "to_formatted": to,
        "trunk_sid": None,
        "uri": uri + ".json",
    }, []


def iso_now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def verification_document(state, service, to, verification, status):
    return {
        "sid": verification["sid"],
        "service_sid": service,
        "account_sid": state.account_sid,
        "to": to,
        "channel": verification["channel"],
        "status": status,
        "valid": status == "approved",
        "amount": None,
        "payee": None,
        "date_created": iso_now(),
        "date_updated": iso_now(),
    }


def verify_answer(state, service, resource, form, auth_ok):
    """Twilio Verify's answer to a Verifications or VerificationCheck request: (status,
    document). Takes state.lock."""
    if not auth_ok:
        return 401, twilio_error(401, 20003, "Authenticate")
    if state.verify_service_sid is None or service != state.verify_service_sid:
        return 404, twilio_error(404, 20404, f"The requested resource /Services/{service}/"
                                 f"{resource} was not found")
    to = form.get("To", "")
    if not E164.match(to):
        return 400, twilio_error(400, 60200, "Invalid parameter `To`: " + to)
    now = time.time()
    with state.lock:
        verification = state.verifications.get(to)
        if verification is not None and now - verification["created"] >= VERIFY_LIFETIME:
            del state.verifications[to]
            verification = None
        if resource == "Verifications":
            channel = form.get("Channel", "")
            if channel not in VERIFY_CHANNELS:
                return 400, twilio_error(400, 60200, "Invalid parameter: Channel")
            if verification is None:
                verification = {"sid": "VE" + secrets.token_hex(16),
                                "code": f"{secrets.randbelow(10 ** 6):06d}", "created": now,
                                "sends": 0, "checks": 0, "channel": channel}
                state.verifications[to] = verification
            if verification["sends"] >= VERIFY_MAX_SENDS:
                return 429, twilio_error(429, 60203, "Max send attempts reached")
            verification["sends"] += 1
            verification["channel"] = channel
            return 201, verification_document(state, service, to, verification, "pending")
        code = form.get("Code", "")
        if not code:
            return 400, twilio_error(400, 60200, "Invalid parameter: Code")
        if verification is None:
            return 404, twilio_error(404, 20404, f"The requested resource /Services/{service}/"
                                     "VerificationCheck was not found")
        if verification["checks"] >= VERIFY_MAX_CHECKS:
            return 429, twilio_error(429, 60202, "Max check attempts reached")
        verification["checks"] += 1
        if hmac.compare_digest(code.encode(), verification["code"].encode()):
            del state.verifications[to]
            return 200, verification_document(state, service, to, verification, "approved")
        return 200, verification_document(state, service, to, verification, "pending")


class State:
    """Everything the handlers share, behind one lock."""

    def __init__(self, account_sid, auth_token, delay_ms, api_key=None, verify_service_sid=None):
        self.account_sid = account_sid
        self.verify_service_sid = verify_service_sid
        self.verifications = {}  # To -> {"sid", "code", "created", "sends", "checks", "channel"}
        self.verify_records = []
        self.auth_token = auth_token
        # Who may sign a request: the account with its auth token, and an API key (SK...) of the
        # account with its secret.
        self.credentials = [(account_sid, auth_token)] + ([api_key] if api_key else [])
        self.default_delay_ms = delay_ms
        self.lock = threading.Lock()
        self.behaviour = None
        self.remaining = None  # None: until reset
        self.records = []
        self.calls = []

    def take_behaviour(self):
        """The behaviour that applies to this Messages (Calls, Verify) request, consuming one
        of its `times`."""
        with self.lock:
            behaviour = self.behaviour
            if behaviour is not None and self.remaining is not None:
                self.remaining -= 1
                if self.remaining <= 0:
                    self.behaviour, self.remaining = None, None
            return behaviour

    def set_behaviour(self, behaviour):
        with self.lock:
            self.behaviour = behaviour
            times = behaviour.get("times")
            self.remaining = int(times) if times is not None else None

    def reset(self):
        with self.lock:
            self.behaviour, self.remaining = None, None
            self.records = []
            self.calls = []
            self.verifications = {}
            self.verify_records = []

    def expire_verifications(self):
        with self.lock:
            for verification in self.verifications.values():
                verification["created"] -= VERIFY_LIFETIME

    def record_call(self, entry):
        with self.lock:
            self.calls.append(entry)

    def calls_snapshot(self):
        with self.lock:
            return [dict(r) for r in self.calls]

    def verify_snapshot(self):
        with self.lock:
            return [dict(r) for r in self.verify_records]

    def verify_code_answer(self, to):
        """(status, document) for GET /_control/verify_code?To=...: the code a phone got."""
        with self.lock:
            verification = self.verifications.get(to)
            if verification is None:
                return 404, {"error": f"no pending verification for {to}"}
            return 200, {"code": verification["code"]}

    def record(self, entry):
        with self.lock:
            self.records.append(entry)

    def snapshot(self):
        with self.lock:
            return [dict(r) for r in self.records]

    def last_code_answer(self):
        """(status, document) for GET /_control/last_code: the last 6-digit number in the last
        recorded request's Body."""
        with self.lock:
            body = self.records[-1]["form"].get("Body", "") if self.records else ""
        found = SIX_DIGITS.findall(body)
        if found:
            return 200, {"code": found[-1]}
        return 404, {"error": "the last message has no 6-digit number"}


def validate_behaviour(data):
    """The behaviour as given, or a ValueError saying what is wrong with it."""
    if not isinstance(data, dict):
        raise ValueError("the behaviour must be a JSON object")
    known = {"status", "code", "message", "retry_after", "delay_ms", "body", "times", "close",
             "chunked"}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown behaviour fields: {', '.join(sorted(unknown))}")
    for name in ("status", "code", "retry_after", "delay_ms", "times"):
        if name in data and (not isinstance(data[name], int) or isinstance(data[name], bool)):
            raise ValueError(f"{name} must be an integer")
    if "status" in data and not 100 <= data["status"] <= 599:
        raise ValueError("status must be an HTTP status from 100 to 599")
    if "times" in data and data["times"] < 1:
        raise ValueError("times must be at least 1")
    if "delay_ms" in data and not 0 <= data["delay_ms"] <= 600000:
        raise ValueError("delay_ms must be from 0 to 600000")
    if "body" in data and not isinstance(data["body"], str):
        raise ValueError("body must be a string")
    if "message" in data and not isinstance(data["message"], str):
        raise ValueError("message must be a string")
    for name in ("close", "chunked"):
        if name in data and not isinstance(data[name], bool):
            raise ValueError(f"{name} must be true or false")
    return data


def read_behaviour(raw):
    """(the behaviour, None) from a control request's body, or (None, what is wrong with it)."""
    try:
        return validate_behaviour(json.loads(raw.decode("utf-8"))), None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"the behaviour is not JSON: {error}"
    except ValueError as error:
        return None, str(error)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as curl expects from Twilio
    # The headers and the body go out in two writes; with Nagle's algorithm on, the body waits
    # for the ACK of the headers, which curl delays by up to 40 ms: 40 ms on every text.
    disable_nagle_algorithm = True
    server_version = "fake-twilio"
    sys_version = ""
    record = None  # the Messages request being answered, if any

    @property
    def state(self):
        return self.server.state

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if self.server.verbose:
            sys.stderr.write("fake_twilio: " + (format % args) + "\n")

    def handle(self):
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            pass  # the client went away (its timeout, or a body it would not read)

    # --- plumbing -------------------------------------------------------------------------

    def read_body(self):
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            length = int(length)
        except ValueError:
            return None
        if length < 0 or length > MAX_REQUEST_BYTES:
            return None
        return self.rfile.read(length)

    def answer(self, status, body, content_type="application/json", headers=(), chunked=False):
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        if self.record is not None:
            # Before the first byte goes out: a client may read the records as soon as it has
            # its answer.
            self.record["status"] = status
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            if chunked:
                for start in range(0, len(data), 8192):
                    piece = data[start:start + 8192]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its timeout, or a body it would not read): nothing to tell it.
            self.close_connection = True
        return status

    def answer_json(self, status, document, headers=()):
        return self.answer(status, json.dumps(document, indent=2) + "\n", headers=headers)

    def answer_error(self, status, code, message, headers=()):
        return self.answer_json(status, twilio_error(status, code, message), headers)

    # --- routing --------------------------------------------------------------------------

    def do_GET(self):
        self.record = None
        path = urllib.parse.urlsplit(self.path).path
        if path == "/_control/messages":
            self.answer_json(200, self.state.snapshot())
        elif path == "/_control/last_code":
            self.answer_json(*self.state.last_code_answer())
        elif path == "/_control/calls":
            self.answer_json(200, self.state.calls_snapshot())
        elif path == "/_control/verifications":
            self.answer_json(200, self.state.verify_snapshot())
        elif path == "/_control/verify_code":
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            self.answer_json(*self.state.verify_code_answer(query.get("To", [""])[0]))
        else:
            self.answer_error(404, 20404, "The requested resource was not found")

    def do_POST(self):
        self.record = None
        raw = self.read_body()
        if raw is None:
            self.close_connection = True
            self.answer_error(413, 21617, "The request is too large")
            return
        path = urllib.parse.urlsplit(self.path).path
        if path == "/_control/behaviour":
            self.control_behaviour(raw)
        elif path == "/_control/reset":
            self.state.reset()
            self.answer_json(200, {"reset": True})
        elif path == "/_control/verify_expire":
            self.state.expire_verifications()
            self.answer_json(200, {"expired": True})
        elif MESSAGES_PATH.match(path):
            self.messages(path, raw)
        elif CALLS_PATH.match(path):
            self.messages(path, raw, call=True)
        elif VERIFY_PATH.match(path):
            self.verify(path, raw)
        else:
            self.answer_error(404, 20404, "The requested resource was not found")

    def control_behaviour(self, raw):
        behaviour, error = read_behaviour(raw)
        if error:
            self.answer_json(400, {"error": error})
            return
        self.state.set_behaviour(behaviour)
        self.answer_json(200, {"behaviour": behaviour})

    # --- the Messages API -----------------------------------------------------------------

    def auth_user(self):
        return basic_auth_user(self.headers.get("Authorization", ""), self.state.credentials)

    def messages(self, path, raw, call=False):
        """A Messages request, or a Calls request when `call`: recorded, then answered as the
        behaviour says or as Twilio would."""
        fields, form = parse_form(raw)
        user = self.auth_user()
        entry = {
            "time": time.time(),
            "method": "POST",
            "path": path,
            "auth_ok": user is not None,
            "auth_user": user,
            "user_agent": self.headers.get("User-Agent", ""),
            "form": form,
            "status": None,
            "closed": False,
        }
        if call:
            entry["spoken"] = spoken_text(form["Twiml"]) if "Twiml" in form else None
            self.state.record_call(entry)
        else:
            self.state.record(entry)
        self.record = entry

        behaviour = self.state.take_behaviour() or {}
        delay_ms = behaviour.get("delay_ms", self.state.default_delay_ms)
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        if behaviour.get("close"):
            entry["closed"] = True
            self.close_connection = True
            return
        if "body" in behaviour:
            self.answer(behaviour.get("status", 200), behaviour["body"],
                        headers=self.retry_after(behaviour), chunked=behaviour.get("chunked", False))
            return
        if behaviour.get("status", 201) >= 300:
            status = behaviour["status"]
            if status not in STATUS_DEFAULTS and "code" not in behaviour:
                title = f"{status} {self.responses.get(status, ('Error',))[0]}"
                self.answer(status, GATEWAY_PAGE.format(title), content_type="text/html",
                            headers=self.retry_after(behaviour))
                return
            code, message = STATUS_DEFAULTS.get(status, (0, "Error"))
            self.answer_error(status, behaviour.get("code", code),
                              behaviour.get("message", message), self.retry_after(behaviour))
            return
        if fields is None:
            self.answer_error(400, 21609, "The form body is not valid")
            return
        if call:
            status, document, headers = call_answer(self.state.account_sid, path, form,
                                                    entry["auth_ok"])
            self.answer_json(status, document, headers)
            return
        self.create_message(path, form, entry["auth_ok"])

    # --- Twilio Verify ---------------------------------------------------------------------

    def verify(self, path, raw):
        service, resource = VERIFY_PATH.match(path).groups()
        _, form = parse_form(raw)
        user = self.auth_user()
        entry = {"time": time.time(), "path": path, "resource": resource,
                 "auth_ok": user is not None, "form": form, "status": None}
        with self.state.lock:
            self.state.verify_records.append(entry)
        behaviour = self.state.take_behaviour() or {}
        delay_ms = behaviour.get("delay_ms", self.state.default_delay_ms)
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        if behaviour.get("status", 200) >= 300:
            status = behaviour["status"]
            code, message = STATUS_DEFAULTS.get(status, (0, "Error"))
            entry["status"] = status
            self.answer_error(status, behaviour.get("code", code),
                              behaviour.get("message", message), self.retry_after(behaviour))
            return
        status, document = verify_answer(self.state, service, resource, form, user is not None)
        entry["status"] = status
        self.answer_json(status, document)

    @staticmethod
    def retry_after(behaviour):
        if "retry_after" in behaviour:
            return [("Retry-After", str(behaviour["retry_after"]))]
        return []

    def create_message(self, path, form, auth_ok):
        status, document, headers = message_answer(self.state.account_sid, path, form, auth_ok)
        return self.answer_json(status, document, headers)


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a slow answer never keeps the process from exiting
    allow_reuse_address = True
    # The default backlog of 5 drops the SYNs of a burst, which clients retry only after 1 s.
    request_queue_size = 128


def write_port_file(path, port):
    """Atomically, so a reader never sees half a number."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="ascii") as f:
        f.write(f"{port}\n")
    os.replace(temporary, path)


def add_endpoint_arguments(parser):
    """The options every Twilio-compatible endpoint here takes (the benchmark's too)."""
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--port-file", help="write the port here once listening")
    parser.add_argument("--delay-ms", type=int, default=0, help="delay before every answer")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    parser.add_argument("--api-key-sid", help="an API key (SK...) that may sign requests too")
    parser.add_argument("--api-key-secret", help="its secret")
    parser.add_argument("--verify-service-sid", help="the Verify service (VA...) it serves")
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain)")
    parser.add_argument("--tls-key", help="and this PEM private key")


def parse_endpoint_arguments(parser, argv):
    args = parser.parse_args(argv)
    if args.delay_ms < 0:
        parser.error("--delay-ms must not be negative")
    if bool(args.api_key_sid) != bool(args.api_key_secret):
        parser.error("--api-key-sid and --api-key-secret go together")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    return args


def api_key_of(args):
    return (args.api_key_sid, args.api_key_secret) if args.api_key_sid else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_endpoint_arguments(parser)
    args = parse_endpoint_arguments(parser, argv)

    server = Server(("127.0.0.1", args.port), Handler)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.state = State(args.account_sid, args.auth_token, args.delay_ms, api_key_of(args),
                         args.verify_service_sid)
    server.verbose = args.verbose
    port = server.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    print(f"listening on {port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
