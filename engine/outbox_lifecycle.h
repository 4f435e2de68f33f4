// The fixed lifecycle of a reminder in the outbox, the same in every
// institution, so compiled (a Boost.MSM machine in outbox_lifecycle.cpp):
//
//   scheduled --due--> pending --delivered--> sent --ack--> acknowledged
//   pending/retried --fail--> failed (tries < max) | dead (tries >= max, or a permanent error)
//   failed --retry (its backoff has passed)--> retried --delivered--> sent
//   scheduled/pending/failed/retried --cancel--> cancelled   (the instance left the state)
//   pending/failed/dead --ack--> acknowledged                (seen, whatever the channel did)
//
// Every other (status, event) pair is refused with a reason. Pure: storage
// loads the row's status, asks Advance(), and writes the answer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/calendar.h"
#include "engine/status.h"

namespace mentorflow {

enum class ReminderStatus { kScheduled, kPending, kSent, kAcknowledged, kFailed, kRetried, kDead, kCancelled };
enum class ReminderEvent { kDue, kDelivered, kFail, kRetry, kAck, kCancel };

std::string_view ReminderStatusName(ReminderStatus s);
std::optional<ReminderStatus> ParseReminderStatus(std::string_view s);
std::string_view ReminderEventName(ReminderEvent e);

// What a failure's guard needs: the tries made so far, this one included,
// the limit (a setting), and whether the error can never clear (no address).
struct DeliveryFacts {
  int tries = 0;
  int max_tries = 5;
  bool permanent = false;
};

struct LifecycleStep {
  Status status;  // refused (rule "outbox") when the event does not apply
  ReminderStatus to = ReminderStatus::kScheduled;
};

LifecycleStep Advance(ReminderStatus from, ReminderEvent event, const DeliveryFacts& facts = {});

// When a reminder that failed for the `tries`-th time may be tried again:
// `base_seconds` doubled for each earlier failure (1, 2, 4, ... times), at
// most a day later.
Instant NextAttempt(Instant failed_at, int tries, int base_seconds);

}  // namespace mentorflow
