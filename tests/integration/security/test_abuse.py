# SPDX-License-Identifier: BSD-2-Clause
"""Cost and abuse: texts are limited per user, per enrolling uid and in total; a local user may
text only while enrolling itself; numbers outside allowed_country_codes are refused. Whenever a
text is refused, nothing reaches Twilio."""

from security_support import (LIBERAL_LIMITS, SecurityTestCase, error_of, main, merged,
                              require_root, totp)

NO_TEXT_WAIT = 0.5  # seconds a refused call is given to (wrongly) send a text anyway


class AbuseTestCase(SecurityTestCase):
    def assertNoNewText(self, before):
        self.h.wait_for_messages(before + 1, timeout=NO_TEXT_WAIT)
        self.assertEqual(len(self.texts()), before, "a refused call sent a text")

    def assertRateLimited(self, reply, at_most):
        self.assertEqual(error_of(reply), "RateLimited", reply)
        retry_after = reply["parameters"]["retryAfter"]
        self.assertTrue(0 < retry_after <= at_most, reply)
        return retry_after

    def assertTextHeldBack(self, reply, at_most):
        """A Begin over a text limit: no text, but the challenge is open for the app's code or
        a recovery code (no dead end), with the limit's RateLimited inside."""
        self.assertIsNone(error_of(reply), reply)
        self.assertTrue(reply["parameters"]["twoFactorId"], reply)
        return self.assertRateLimited(reply["parameters"]["textNotSent"], at_most)


@require_root
class PerUserLimitTest(AbuseTestCase):
    config = merged(LIBERAL_LIMITS, {"sms": {"user_texts_per_hour": 3}})

    def test_logins_and_resends_share_the_users_hourly_limit(self):
        user = self.h.create_user()
        neighbour = self.h.create_user()
        self.enable_texted_quietly(user, "+15555550120")
        self.enable_texted_quietly(neighbour, "+15555550121")
        before = len(self.texts())
        first = self.wire("Begin", {"user": user})
        self.assertIsNone(error_of(first), first)
        self.assertIsNone(error_of(self.wire("Begin", {"user": user})))
        two_factor_id = first["parameters"]["twoFactorId"]
        self.assertIsNone(error_of(self.wire("SendCode", {"twoFactorId": two_factor_id})))
        self.assertEqual(len(self.h.wait_for_messages(before + 3)), before + 3)

        before = len(self.texts())
        retry = self.assertTextHeldBack(self.wire("Begin", {"user": user}), 3600)
        self.assertRateLimited(self.wire("SendCode", {"twoFactorId": two_factor_id}), 3600)
        # The user's own Begin is held to it too; its challenge takes the app's code.
        self.assertTextHeldBack(self.wire("Begin", {"user": user}, as_user=user), 3600)
        self.assertNoNewText(before)
        print(f"\nper user: 3 texts an hour, the 4th refused, retry after {retry} s")
        # Another user is not held to this user's limit.
        self.assertIsNone(error_of(self.wire("Begin", {"user": neighbour})))


@require_root
class TotalLimitTest(AbuseTestCase):
    config = merged(LIBERAL_LIMITS, {"sms": {"texts_per_minute": 4}})

    def test_all_texts_together_are_limited_per_minute(self):
        users = [self.h.create_user() for _ in range(3)]
        for i, user in enumerate(users):
            self.enable_texted_quietly(user, f"+1555555013{i}")
        before = len(self.texts())
        for user in (users[0], users[1], users[2], users[0]):
            self.assertIsNone(error_of(self.wire("Begin", {"user": user})))
        self.assertEqual(len(self.h.wait_for_messages(before + 4)), before + 4)
        before = len(self.texts())
        self.assertTextHeldBack(self.wire("Begin", {"user": users[1]}), 60)
        # Root's setup texts count against the same total.
        secret = self.new_secret()
        self.assertRateLimited(
            self.wire("SendCode", {"mobilePhone": "+15555550139", "secret": secret}), 60)
        self.assertNoNewText(before)


@require_root
class EnrollmentLimitTest(AbuseTestCase):
    config = merged(LIBERAL_LIMITS, {"sms": {"enroll_texts_per_hour": 2}})

    def test_the_limit_is_per_uid_whatever_the_secret_or_number(self):
        user = self.h.create_user()
        before = len(self.texts())
        for number in ("+15555550140", "+15555550141"):
            reply = self.wire("SendCode", {"mobilePhone": number, "secret": self.new_secret()},
                              as_user=user)
            self.assertIsNone(error_of(reply), reply)
        self.assertEqual(len(self.h.wait_for_messages(before + 2)), before + 2)
        before = len(self.texts())
        # A new secret and a new number do not start a new count.
        reply = self.wire("SendCode", {"mobilePhone": "+15555550142",
                                       "secret": self.new_secret()}, as_user=user)
        self.assertRateLimited(reply, 3600)
        self.assertNoNewText(before)
        # Another user enrolling itself has its own count.
        reply = self.wire("SendCode", {"mobilePhone": "+15555550143",
                                       "secret": self.new_secret()},
                          as_user=self.h.create_user())
        self.assertIsNone(error_of(reply), reply)


@require_root
class SelfServiceTextingTest(AbuseTestCase):
    config = LIBERAL_LIMITS

    def test_an_enabled_user_may_not_text_any_number(self):
        user = self.h.create_user()
        secret = self.new_secret()
        parameters = {"mobilePhone": "+15555550150", "secret": secret}
        self.assertIsNone(error_of(self.wire("SendCode", parameters, as_user=user)))
        self.enable_texted_quietly(user, "+15555550151")
        before = len(self.texts())
        for number in ("+15555550150", "+15555550152", "+447700900123"):
            reply = self.wire("SendCode", {"mobilePhone": number, "secret": secret},
                              as_user=user)
            self.assertEqual(error_of(reply), "PermissionDenied", reply)
        self.assertNoNewText(before)
        # Disabling the account makes it an enrolling user again.
        self.ok("disable", user)
        self.assertIsNone(error_of(self.wire("SendCode", parameters, as_user=user)))


@require_root
class AllowedCountriesTest(AbuseTestCase):
    config = merged(LIBERAL_LIMITS, {"sms": {"allowed_country_codes": "1, 44"}})

    def test_numbers_outside_the_allowed_countries_get_no_text(self):
        user = self.h.create_user()
        before = len(self.texts())
        for number in ("+33612345678", "+8613800138000", "+2348031234567"):
            for as_user in (None, user):  # root is held to the list too
                reply = self.wire("SendCode", {"mobilePhone": number,
                                               "secret": self.new_secret()}, as_user=as_user)
                self.assertEqual(error_of(reply), "InvalidParameter", reply)
                self.assertEqual(reply["parameters"]["field"], "mobilePhone")
                self.assertIn("+" + number[1:3], reply["parameters"]["reason"])
        self.assertNoNewText(before)

        # Nor can such a number be enabled without a text (with an authenticator code).
        secret = self.new_secret()
        self.refused_json("enable", user, "--secret", secret, "--code", totp(secret),
                          "--phone", "+33612345678", error="InvalidParameter")
        self.assertIs(self.status(user)["enabled"], False)

        # Allowed countries, and a national number with the default country code 1, are texted.
        for number in ("+447700900123", "555-555-0160"):
            reply = self.wire("SendCode", {"mobilePhone": number, "secret": self.new_secret()})
            self.assertIsNone(error_of(reply), reply)
        sent = self.h.wait_for_messages(before + 2)
        self.assertEqual([m["form"]["To"] for m in sent[before:]],
                         ["+447700900123", "+15555550160"])


if __name__ == "__main__":
    main()
