# SPDX-License-Identifier: BSD-2-Clause
"""Who may do what: every method of doc/protocol.md called over the raw socket by root, by the
user it is about, by another user and by a uid without a login name. Only the rows the
protocol's "who" column allows succeed; a refused call changes nothing (database, texts, the
challenge it named)."""

from security_support import (LIBERAL_LIMITS, SecurityTestCase, database_dump, error_of, ids_of,
                              main, require_root, totp, unnamed_uid, wrong_code)

ROOT, USER, OTHER, NOBODY = "root", "the user", "another user", "a uid without a name"
CALLERS = (ROOT, USER, OTHER, NOBODY)
OK = None  # expected error for a call that succeeds

# method row -> {caller: expected error}. "the user" is the account the call is about; for a
# setup SendCode (which names no account) it is a user enrolling itself, and "another user" is
# one whose account is enabled already (a local user must not text arbitrary numbers).
EXPECTED = {
    "GenerateSecret": {ROOT: OK, USER: OK, OTHER: OK, NOBODY: OK},
    "SendCode setup": {ROOT: OK, USER: OK, OTHER: "PermissionDenied", NOBODY: "PermissionDenied"},
    "SendCode resend": {ROOT: OK, USER: OK, OTHER: "PermissionDenied",
                        NOBODY: "PermissionDenied"},
    "Enable": {ROOT: OK, USER: OK, OTHER: "PermissionDenied", NOBODY: "PermissionDenied"},
    "Disable": {ROOT: OK, USER: OK, OTHER: "PermissionDenied", NOBODY: "PermissionDenied"},
    "Status": {ROOT: OK, USER: OK, OTHER: "PermissionDenied", NOBODY: "PermissionDenied"},
    "Begin": {ROOT: OK, USER: OK, OTHER: "PermissionDenied", NOBODY: "PermissionDenied"},
    "Complete": {ROOT: OK, USER: OK, OTHER: "PermissionDenied", NOBODY: "PermissionDenied"},
    "Unlock": {ROOT: OK, USER: "PermissionDenied", OTHER: "PermissionDenied",
               NOBODY: "PermissionDenied"},
}


@require_root
class WhoMayDoWhatTest(SecurityTestCase):
    config = LIBERAL_LIMITS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # "another user": enrolled, so it may not text numbers either.
        cls.other = cls.h.create_user()
        cls.nobody_uid = unnamed_uid()
        rc, reply, err = cls.h.ctl_json("secret")
        secret = reply["secret"]
        rc, out, err = cls.h.ctl("enable", cls.other, "--secret", secret, "--code", totp(secret),
                                 "--phone", "+15555550100")
        if rc != 0:
            raise RuntimeError(f"cannot enroll the other user: {out} {err}")

    def ids(self, caller, user):
        if caller == ROOT:
            return 0, 0
        if caller == USER:
            return ids_of(user)
        if caller == OTHER:
            return ids_of(self.other)
        return self.nobody_uid, self.nobody_uid

    def begin_as_root(self, user):
        """A challenge of `user`; returns (twoFactorId, texted code)."""
        before = len(self.texts())
        reply = self.wire("Begin", {"user": user})
        self.assertIsNone(error_of(reply), reply)
        return reply["parameters"]["twoFactorId"], self.code_in(self.next_text(before))

    # Each row: set up what the call needs, make it, and return a check that runs only when the
    # call was refused (it proves the refusal left everything as it was).
    def prepare(self, method, user):
        """Returns (parameters, check_after_refusal)."""
        if method == "GenerateSecret":
            return None, lambda: None
        if method == "SendCode setup":
            return {"mobilePhone": "+15555550101", "secret": self.new_secret()}, lambda: None
        self.enable_texted_quietly(user)
        if method == "SendCode resend":
            two_factor_id, _ = self.begin_as_root(user)
            return {"twoFactorId": two_factor_id}, lambda: None
        if method == "Enable":
            # Over an existing enrollment the user proves it with a code of it (ignored for
            # root); security_factor_change tests that proof.
            secret = self.new_secret()
            two_factor_id, current = self.begin_as_root(user)
            return ({"user": user, "secret": secret, "code": totp(secret),
                     "delivery": "TextMessage", "mobilePhone": "+15555550102",
                     "currentCode": current, "twoFactorId": two_factor_id},
                    lambda: self.assertEqual(self.status(user)["mobilePhone"], "***-***-5555"))
        if method == "Disable":
            two_factor_id, current = self.begin_as_root(user)
            return ({"user": user, "code": current, "twoFactorId": two_factor_id},
                    lambda: self.assertIs(self.status(user)["enabled"], True))
        if method == "Complete":
            two_factor_id, code = self.begin_as_root(user)

            def still_answerable():
                # The refused call neither used the code nor cost the user a try.
                self.assertEqual(self.status(user)["failures"], 0)
                reply = self.wire("Complete", {"twoFactorId": two_factor_id, "code": code})
                self.assertIsNone(error_of(reply), reply)
            return {"twoFactorId": two_factor_id, "code": code}, still_answerable
        if method == "Unlock":
            two_factor_id, code = self.begin_as_root(user)
            for _ in range(20):  # the default lockout is 10 failures, 5 per challenge
                reply = self.wire("Complete", {"twoFactorId": two_factor_id,
                                               "code": wrong_code(code)})
                if error_of(reply) == "Locked":
                    break
                self.assertEqual(error_of(reply), "InvalidCode", reply)
                if reply["parameters"]["attemptsLeft"] == 0:
                    two_factor_id, code = self.begin_as_root(user)
            self.assertIs(self.status(user)["locked"], True)
            return {"user": user}, lambda: self.assertIs(self.status(user)["locked"], True)
        return {"user": user}, lambda: self.assertIs(self.status(user)["enabled"], True)

    def check_row(self, method, caller, user, expected):
        """Makes one call; returns True when it succeeded as expected."""
        parameters, check_after_refusal = self.prepare(method, user)
        dump = database_dump(self.h.database_path)
        texts = len(self.texts())
        uid, gid = self.ids(caller, user)
        reply = self.wire(method.split(" ")[0], parameters, uid=uid, gid=gid)
        self.assertEqual(error_of(reply), expected, reply)
        if expected is OK:
            return True
        self.assertTrue(reply["parameters"].get("message"), reply)
        self.assertEqual(database_dump(self.h.database_path), dump,
                         "a refused call changed the database")
        self.h.wait_for_messages(texts + 1, timeout=0.3)
        self.assertEqual(len(self.texts()), texts, "a refused call sent a text")
        check_after_refusal()
        return False

    def test_every_method_by_every_caller(self):
        allowed = refused = 0
        for method, row in EXPECTED.items():
            for caller in CALLERS:
                with self.subTest(method=method, caller=caller):
                    user = self.h.create_user()
                    try:
                        if self.check_row(method, caller, user, row[caller]):
                            allowed += 1
                        else:
                            refused += 1
                    finally:
                        self.h.remove_user(user)
        print(f"\nwho may do what: {allowed} calls allowed, {refused} refused, "
              f"{len(EXPECTED)} methods x {len(CALLERS)} callers")
        self.assertEqual(allowed + refused, len(EXPECTED) * len(CALLERS))

    def test_status_without_a_user_is_refused(self):
        # A user asking about "no one" gets nobody's state, not root's view of everybody.
        user = self.h.create_user()
        reply = self.wire("Status", {}, as_user=user)
        self.assertEqual(error_of(reply), "InvalidParameter", reply)
        self.assertEqual(reply["parameters"]["field"], "user")


if __name__ == "__main__":
    main()
