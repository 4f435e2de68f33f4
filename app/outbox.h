// Time and the outbox: tick (deadlines and reminders due), the reminders, the
// agenda (also as iCalendar), acknowledgement, and delivery.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/context.h"
#include "app/delivery.h"

namespace mentorflow::app {

// Fires what is due at ctx.now; goes on once from where it stopped when a
// user changed an instance meanwhile.
Result<Store::TickReport> Tick(Context& ctx);

// Whose reminders these are decides the read rule: the person asked for,
// the instance's people, or else every recipient listed.
Result<std::vector<ReminderRecord>> Reminders(Context& ctx, const Store::ReminderFilter& filter);

struct AgendaRequest {
  std::string person;          // empty: everything the actor may see (a curator or the director: all)
  std::string from, to;        // YYYY-MM-DD; empty: today, a year from today
};
struct AgendaView {
  Date from, to;
  std::vector<DeadlineRecord> deadlines;
  std::vector<ReminderRecord> reminders;
};
Result<AgendaView> Agenda(Context& ctx, const AgendaRequest& r);
// The same as an iCalendar file (RFC 5545).
Result<std::string> AgendaCalendar(Context& ctx, const AgendaRequest& r);

Status Ack(Context& ctx, long long reminder);

struct Delivery {
  std::string via;  // the channel, described
  DeliveryReport report;
  Status status;    // of the run: Ok, or why it stopped (the report says what was done)
};
// `via`: jsonl:PATH or smtp://HOST[:PORT]. The channel's settings
// (smtp_timeout_seconds, ...) are the institution's.
Result<Delivery> Deliver(Context& ctx, const std::string& via);

}  // namespace mentorflow::app
