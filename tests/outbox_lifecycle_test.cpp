// The reminder lifecycle (a Boost.MSM machine): every allowed transition,
// and every refused (status, event) pair.
#include "engine/outbox_lifecycle.h"

#include <gtest/gtest.h>

#include <map>

namespace mentorflow {
namespace {

using S = ReminderStatus;
using E = ReminderEvent;

const std::vector<S> kAll = {S::kScheduled, S::kPending, S::kSent, S::kAcknowledged,
                             S::kFailed,    S::kRetried, S::kDead, S::kCancelled};
const std::vector<E> kEvents = {E::kDue, E::kDelivered, E::kFail, E::kRetry, E::kAck, E::kCancel};

// The whole table, with a failure that leaves tries to spare.
const std::map<std::pair<S, E>, S> kAllowed = {
    {{S::kScheduled, E::kDue}, S::kPending},        {{S::kScheduled, E::kCancel}, S::kCancelled},
    {{S::kPending, E::kDelivered}, S::kSent},       {{S::kPending, E::kFail}, S::kFailed},
    {{S::kPending, E::kAck}, S::kAcknowledged},     {{S::kPending, E::kCancel}, S::kCancelled},
    {{S::kFailed, E::kRetry}, S::kRetried},         {{S::kFailed, E::kAck}, S::kAcknowledged},
    {{S::kFailed, E::kCancel}, S::kCancelled},      {{S::kRetried, E::kDelivered}, S::kSent},
    {{S::kRetried, E::kFail}, S::kFailed},          {{S::kRetried, E::kCancel}, S::kCancelled},
    {{S::kSent, E::kAck}, S::kAcknowledged},        {{S::kDead, E::kAck}, S::kAcknowledged},
};

TEST(OutboxLifecycle, EveryPairIsAllowedOrRefusedAsTheTableSays) {
  int allowed = 0, refused = 0;
  for (S from : kAll)
    for (E ev : kEvents) {
      LifecycleStep step = Advance(from, ev, DeliveryFacts{1, 5, false});
      auto it = kAllowed.find({from, ev});
      if (it != kAllowed.end()) {
        ++allowed;
        EXPECT_TRUE(step.status.ok()) << ReminderStatusName(from) << " + " << ReminderEventName(ev);
        EXPECT_EQ(step.to, it->second) << ReminderStatusName(from) << " + " << ReminderEventName(ev);
      } else {
        ++refused;
        EXPECT_EQ(step.status.code(), Code::kRefused) << ReminderStatusName(from) << " + " << ReminderEventName(ev);
        EXPECT_EQ(step.status.rule(), "outbox");
        EXPECT_EQ(step.to, from);  // a refusal changes nothing
      }
    }
  EXPECT_EQ(allowed, 14);
  EXPECT_EQ(refused, 8 * 6 - 14);
}

TEST(OutboxLifecycle, AFailureWithNoTriesLeftOrPermanentIsDead) {
  EXPECT_EQ(Advance(S::kPending, E::kFail, {5, 5, false}).to, S::kDead);
  EXPECT_EQ(Advance(S::kRetried, E::kFail, {5, 5, false}).to, S::kDead);
  EXPECT_EQ(Advance(S::kRetried, E::kFail, {4, 5, false}).to, S::kFailed);
  EXPECT_EQ(Advance(S::kPending, E::kFail, {1, 5, true}).to, S::kDead);  // no address: no retry helps
}

TEST(OutboxLifecycle, StatusNamesRoundTrip) {
  for (S s : kAll) EXPECT_EQ(ParseReminderStatus(ReminderStatusName(s)), s);
  EXPECT_FALSE(ParseReminderStatus("delivered"));
}

TEST(OutboxLifecycle, BackoffDoublesUpToADay) {
  Instant t0{};
  EXPECT_EQ((NextAttempt(t0, 1, 300) - t0).count(), 300);
  EXPECT_EQ((NextAttempt(t0, 2, 300) - t0).count(), 600);
  EXPECT_EQ((NextAttempt(t0, 3, 300) - t0).count(), 1200);
  EXPECT_EQ((NextAttempt(t0, 30, 300) - t0).count(), 86400);
}

}  // namespace
}  // namespace mentorflow
