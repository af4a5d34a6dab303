#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes the seed corpora under tests/fuzz/corpus/<target>/ (run it from anywhere).

Seeds named here are rewritten on every run; regression seeds (crash-*, slow-*) that a fuzzing
run found are kept as they are: they are added by hand, never by this script.
"""
import json
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
CORPUS = HERE / "corpus"


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (folder / name).write_bytes(data)


# fuzz_protocol: byte 0 = (padded ? 0xf8 : 0) | number of read-size bytes; then the read sizes;
# then the stream. Padded streams start with 65024 spaces (64 KiB - 512), read at once.
def protocol(name, stream, reads=(), padded=False):
    if isinstance(stream, str):
        stream = stream.encode()
    header = bytes([(0xF8 if padded else 0) | len(reads)]) + bytes(reads)
    write("fuzz_protocol", name, header + stream)


def frame(message):
    return json.dumps(message, separators=(",", ":")).encode() + b"\0"


def call(method, **parameters):
    return frame({"method": "io.twofactor." + method, "parameters": parameters})


SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
protocol("generate_secret", call("GenerateSecret"))
protocol("send_code_setup", call("SendCode", mobilePhone="+15555550123", secret=SECRET), [0])
protocol("send_code_resend", call("SendCode", twoFactorId="0f8e2c1a9b7d4e5f"), [2, 7])
protocol("enable_text", call("Enable", user="alice", secret=SECRET, code="123456",
                             delivery="TextMessage", mobilePhone="+447700900123"), [15])
protocol("enable_none", call("Enable", user="bob", secret=SECRET, code="654321",
                             delivery="None"), [130])
protocol("disable", call("Disable", user="alice"), [3, 1])
protocol("status", call("Status", user="root"))
protocol("begin", call("Begin", user="alice", ipAddress="192.0.2.7", service="sshd",
                       tty="ssh"), [31, 0, 200])
protocol("complete", call("Complete", twoFactorId="0f8e2c1a9b7d4e5f", code="123456",
                          ipAddress="2001:db8::1"), [5])
protocol("unlock", call("Unlock", user="alice"))
protocol("reply_begin", frame({"parameters": {"twoFactorId": "0f8e", "delivery": "TextMessage",
                                              "mobilePhone": "***-***-0123", "expiresIn": 300,
                                              "attemptsLeft": 5}}))
protocol("error_invalid_code", frame({"error": "io.twofactor.InvalidCode",
                                      "parameters": {"attemptsLeft": 2,
                                                     "message": "wrong code"}}))
protocol("three_calls_byte_by_byte",
         call("Status", user="a") + call("Begin", user="a") + call("Complete",
                                                                  twoFactorId="x", code="1"),
         [0])
protocol("no_parameters", b'{"method":"io.twofactor.GenerateSecret"}\0')
protocol("parameters_null", b'{"method":"io.twofactor.Status","parameters":null}\0')
protocol("parameters_array", b'{"method":"io.twofactor.Status","parameters":[1,2]}\0')
protocol("method_number", b'{"method":42,"parameters":{}}\0')
protocol("top_level_array", b'[{"method":"io.twofactor.Status"}]\0{"method":"x"}\0')
protocol("bad_utf8", b'{"method":"io.twofactor.Status","parameters":{"user":"\xc3\x28"}}\0')
protocol("unicode_escapes", '{"method":"io.twofactor.Status","parameters":'
         '{"user":"\\u00e9\\ud83d\\ude00\\u0000 é 😀"}}\0')
protocol("lone_surrogate", b'{"method":"m","parameters":{"u":"\\udc00"}}\0')
protocol("numbers", b'{"method":"m","parameters":{"a":1e400,"b":18446744073709551616,'
         b'"c":-0,"d":1E2,"e":-9223372036854775809,"f":0.1}}\0')
protocol("duplicate_keys", b'{"method":"a","method":"io.twofactor.Unlock","parameters":{},'
         b'"parameters":{"user":"x"}}\0', [1, 4])
protocol("deep_nesting", b'{"method":"m","parameters":{"x":' + b"[" * 1500 + b"]" * 1500 +
         b"}}\0")
# kMaxNesting is 32: the 1 inside 30 arrays (inside "x", "parameters" and the message) is at
# depth 32 and passes; one array more and the frame is Malformed, even when a later duplicate
# key replaces the deep value.
protocol("nesting_at_limit", b'{"method":"m","parameters":{"x":' + b"[" * 30 + b"1" +
         b"]" * 30 + b"}}\0")
protocol("nesting_over_limit", b'{"method":"m","parameters":{"x":' + b"[" * 31 + b"1" +
         b"]" * 31 + b"}}\0")
protocol("nesting_replaced_by_duplicate", b'{"method":"m","parameters":{"x":' + b"[" * 40 +
         b"]" * 40 + b',"x":1}}\0')
protocol("empty_frames", b"\0\0{}\0")
protocol("unterminated", b'{"method":"io.twofactor.Status","parameters":{"user":"al')
protocol("trailing_garbage", b'{"method":"m"} {"method":"n"}\0')
# Padded: one message just under the 64 KiB limit, one exactly at it (65024 + 512 bytes, NUL
# included), one a byte over it, and one that never ends (the reader must refuse more).
protocol("padded_under_limit", call("Status", user="alice"), [255, 129], padded=True)
protocol("padded_at_limit", b" " * (512 - len(call("Status", user="bob"))) +
         call("Status", user="bob"), [0], padded=True)
protocol("padded_over_limit", b" " * (513 - len(call("Status", user="bob"))) +
         call("Status", user="bob"), [127], padded=True)
protocol("padded_unterminated", b'{"method":"m","parameters":{"x":"' + b"y" * 600, [255],
         padded=True)

# fuzz_config: the whole input is the file.
DEFAULT = (HERE.parent.parent / "etc" / "twofactord.conf").read_bytes()
write("fuzz_config", "default_conf", DEFAULT)
write("fuzz_config", "empty", b"")
write("fuzz_config", "full_valid", """[daemon]
socket = /run/twofactord/socket
database = /var/lib/twofactord/twofactord.db
key_file = /etc/twofactord/key
debug = yes
max_connections = 256
max_connections_per_uid = 16
idle_timeout = 30

[twilio]
account_sid = AC0123456789abcdef0123456789abcdef
auth_token = "  0123456789abcdef  "
from = +15555550100
api_url = http://127.0.0.1:8080
timeout = 20
request_timeout = 10
max_attempts = 4

[sms]
default_country_code = +44
message = "# Your code is {code}"
allowed_country_codes = 1, +44, 358
user_texts_per_hour = 10
texts_per_minute = 120
enroll_texts_per_hour = 5

[login]
challenge_lifetime = 300
tries = 5
resends = 0

[lockout]
failures = 100
window = 86400
duration = 1
""")
write("fuzz_config", "crlf_comments", "; comment\r\n[sms]\r\n# another\r\n"
      "message = Code: {code}\r\n  [ login ]  \r\ntries=10\r\n")
write("fuzz_config", "messaging_service", "[twilio]\nmessaging_service_sid = MG0123\n"
      "api_url = https://api.twilio.com\n")
write("fuzz_config", "unknown_key", "[daemon]\nsockets = /tmp/x\n")
write("fuzz_config", "unknown_section", "[smtp]\nhost = x\n")
write("fuzz_config", "duplicate_key", "[login]\ntries = 3\ntries = 4\n")
write("fuzz_config", "key_before_section", "tries = 3\n[login]\n")
write("fuzz_config", "unclosed_quote", "[sms]\nmessage = \"{code}\n")
write("fuzz_config", "unclosed_section", "[sms\nmessage = {code}\n")
write("fuzz_config", "empty_section_name", "[  ]\n")
write("fuzz_config", "bracket_in_section", "[a[b]\n")
write("fuzz_config", "no_equals", "[daemon]\ndebug\n")
write("fuzz_config", "empty_key", "[daemon]\n = 1\n")
write("fuzz_config", "nul_byte", b"[daemon]\ndebug = y\0es\n")
write("fuzz_config", "not_a_number", "[daemon]\nmax_connections = 12abc\n")
write("fuzz_config", "out_of_range", "[login]\nchallenge_lifetime = 9\n"
      "[lockout]\nfailures = 101\n")
write("fuzz_config", "huge_number", "[daemon]\nidle_timeout = 99999999999999999999999\n")
write("fuzz_config", "negative", "[login]\nresends = -1\n")
write("fuzz_config", "bad_boolean", "[daemon]\ndebug = maybe\n")
write("fuzz_config", "bad_country_code", "[sms]\ndefault_country_code = 0044\n")
write("fuzz_config", "bad_allowed_codes", "[sms]\nallowed_country_codes = 1,, +44 , 12a4\n")
write("fuzz_config", "message_without_code", "[sms]\nmessage = Your code\n")
write("fuzz_config", "message_too_long", "[sms]\nmessage = {code}" + "x" * 1000 + "\n")
write("fuzz_config", "token_and_file", "[twilio]\nauth_token = a\n"
      "auth_token_file = /nonexistent/token\n")
write("fuzz_config", "token_file_missing", "[twilio]\nauth_token_file = /nonexistent/token\n")
write("fuzz_config", "insecure_api_url", "[twilio]\napi_url = http://api.twilio.com\n")
write("fuzz_config", "odd_api_url", "[twilio]\napi_url = https://user:pw@[::1]:99999/x?y#z\n")


# fuzz_twilio_answer: bytes 0-1 = HTTP status (signed 16-bit little-endian), then the body.
def twilio(name, status, body):
    if isinstance(body, str):
        body = body.encode()
    write("fuzz_twilio_answer", name, struct.pack("<h", status) + body)


twilio("created", 201, json.dumps({
    "sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "to": "+15555550123",
    "from": "+15555550100", "body": "Your verification code is 123456", "num_segments": "1",
    "error_code": None, "error_message": None, "price": None,
    "subresource_uris": {"media": "/2010-04-01/Accounts/AC1/Messages/SM1/Media.json"}}))
twilio("created_no_sid", 201, '{"status":"queued"}')
twilio("created_bad_sid", 201, '{"sid":"SM-../x"}')
twilio("created_sid_number", 201, '{"sid":12345}')
twilio("created_not_json", 201, "<html>Created</html>")
twilio("created_array", 201, '[{"sid":"SM01"}]')
twilio("invalid_to", 400, json.dumps({
    "code": 21211, "message": "The 'To' number +15555550123 is not a valid phone number.",
    "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}))
twilio("unauthorized", 401, '{"code":20003,"message":"Authenticate","status":401}')
twilio("rate_limited", 429, '{"code":20429,"message":"Too Many Requests","status":429}')
twilio("server_error_html", 500, "<html><body>Internal Server Error</body></html>")
twilio("unavailable_empty", 503, "")
twilio("ok_not_created", 200, '{"sid":"SM01"}')
twilio("redirect", 302, "")
twilio("no_status", 0, '{"sid":"SM01"}')
twilio("negative_status", -1, "")
twilio("code_as_string", 400, '{"code":"21211","message":null}')
twilio("code_huge", 400, '{"code":18446744073709551615,"message":""}')
twilio("code_negative_float", 400, '{"code":-1.5,"message":["a"]}')
twilio("nested_fields", 400, '{"x":{"code":1,"message":"inner"},"code":21610,'
       '"message":"Attempt to send to unsubscribed recipient"}')
twilio("control_characters", 400, '{"code":1,"message":"line\\nbreak\\ttab\\u001b[31mred\\u007f"}')
twilio("long_multibyte_message", 400, json.dumps(
    {"code": 30003, "message": "é" * 149 + "€😀" + "x" * 40}, ensure_ascii=False))
twilio("long_digits_at_cut", 400, json.dumps({"message": "x" * 295 + "12345678901234"}))
twilio("duplicate_keys", 400, '{"code":1,"code":"x","message":"a","message":"b"}')
twilio("deep_nesting", 500, '{"a":' + "[" * 2000 + "]" * 2000 + ',"code":5,"message":"m"}')
twilio("truncated_json", 400, '{"code":21211,"message":"The \'To\' number')

# fuzz_phone: default country code, newline, number (no newline: no default code).
PHONES = {
    "e164_us": "+15555555555",
    "formatted_us": "+1 (555) 555-5555",
    "national_us": "1\n555-555-5555",
    "trunk_one_us": "1\n1-555-555-5555",
    "dots": "1\n555.555.5555",
    "uk_trunk_zero": "44\n07700 900123",
    "uk_bracket_zero": "+44 (0)7700 900123",
    "double_zero": "00 44 7700 900123",
    "italy_keeps_zero": "39\n06 1234 5678",
    "plus_default_code": "+358\n040 1234567",
    "no_default_code": "555-555-5555",
    "letters": "1\n555-CALL-NOW",
    "plus_in_middle": "+1 555+555 5555",
    "plus_only": "+",
    "empty": "",
    "too_short": "+1555555",
    "too_long": "+1234567890123456",
    "leading_zero_code": "+0123456789",
    "only_00": "00",
    "bad_default_code": "0\n5555555555",
    "long_default_code": "1234\n5555555555",
    "letter_default_code": "4a\n5555555555",
    "separators_only": " .-() ",
    "many_digits": "9" * 200,
    "unicode_digits": "+１５５５５５５５５５５",
    "seven_country": "+7 912 345 67 89",
}
for name, text in PHONES.items():
    write("fuzz_phone", name, text)
