# SPDX-License-Identifier: BSD-2-Clause
"""Root's setup texts (bulk enrollment) and the limits other users fill. Setup texts from local
users to a number fill that number's hourly limit for local users only: root's own text to it still
goes out. Root's setup texts count against the per-number and machine-wide limits only, so an
administrator enrolls 200 users in one go; and local users together may use only half of the
machine-wide limit, so they cannot hold root back there either."""

from security_support import SecurityTestCase, error_of, main, merged, require_root

PHONE = "+15555550142"
MACHINE_LIMIT = 240  # [sms] texts_per_minute


@require_root
class SetupLimitsTest(SecurityTestCase):
    config = merged({"sms": {"user_texts_per_hour": 3, "enroll_texts_per_hour": 10,
                             "texts_per_minute": MACHINE_LIMIT}})

    def send(self, phone, as_user=None):
        return self.wire("SendCode", {"mobilePhone": phone, "secret": self.new_secret()},
                         as_user=as_user)

    def test_local_users_filling_a_numbers_limit_do_not_block_root(self):
        alice, bob = self.h.create_user(), self.h.create_user()
        sent = 0
        for user in (alice, bob, alice, bob):
            sent += error_of(self.send(PHONE, as_user=user)) is None
        self.assertEqual(sent, 3)  # the number's hourly limit, for local users
        self.assertEqual(error_of(self.send(PHONE, as_user=alice)), "RateLimited")
        reply = self.send(PHONE)
        self.assertIsNone(error_of(reply), f"root's setup text was held back: {reply}")

    def test_root_enrolls_200_numbers_within_the_machine_limit(self):
        self.h.reset_endpoint()
        refused = []
        for i in range(200):
            reply = self.send(f"+1555020{i:04d}")
            if error_of(reply) is not None:
                refused.append((i, reply))
        self.assertEqual(refused, [], refused[:3])
        self.assertEqual(len(self.h.wait_for_messages(200)), 200)
        # The machine-wide limit still holds for root.
        results = [error_of(self.send(f"+1555030{i:04d}")) for i in range(MACHINE_LIMIT - 200 + 1)]
        self.assertEqual(results[-1], "RateLimited", results)
        print(f"\nbulk enrollment: root texted 200 numbers; text {MACHINE_LIMIT + 1} of the "
              "minute was refused")


@require_root
class MachineShareTest(SecurityTestCase):
    config = {"sms": {"texts_per_minute": 4, "enroll_texts_per_hour": 10,
                      "user_texts_per_hour": 10}}

    def test_local_users_use_at_most_half_of_the_machine_limit(self):
        users = [self.h.create_user() for _ in range(3)]
        results = [error_of(self.wire("SendCode", {"mobilePhone": f"+1555040{i:04d}",
                                                    "secret": self.new_secret()}, as_user=user))
                   for i, user in enumerate(users)]
        self.assertEqual(results, [None, None, "RateLimited"])
        for i in range(2):
            reply = self.wire("SendCode", {"mobilePhone": f"+1555050{i:04d}",
                                           "secret": self.new_secret()})
            self.assertIsNone(error_of(reply), reply)


if __name__ == "__main__":
    main()
